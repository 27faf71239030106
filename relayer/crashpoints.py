"""Test-only crash points: the process SIGKILLs itself right after a named step.

Crash-recovery tests need a crash at an exact step of a transfer's life, not "somewhere
in a burst". The setting ``testing.crash_after`` (environment
``RELAYER_TESTING__CRASH_AFTER``) arms one point; the first time the relayer completes
that step it logs a warning and sends itself SIGKILL: no cleanup, no flush, no
``finally`` blocks, exactly as a power cut or the OOM killer would. Unarmed, ``reached``
costs one comparison. Never arm it in production: the relayer logs an error at start
when it is set.
"""

from __future__ import annotations

import os
import signal
from enum import StrEnum

from relayer.log import get_logger

log = get_logger("crashpoints")


class CrashPoint(StrEnum):
    """The steps of a transfer's life after which a test can crash the relayer."""

    OBSERVED = "observed"  # events and cursor committed, nothing signed yet
    SIGNED = "signed"  # signature and its outbox entry committed, not yet published
    PUBLISHED = "published"  # attestation handed to the broker, outbox not yet marked done
    QUORUM = "quorum"  # quorum committed (submission queued), nothing sent yet
    RECORDED = "recorded"  # release transaction signed and recorded, not yet broadcast
    SENT = "sent"  # release transaction accepted by the node, receipt not yet seen


_armed: CrashPoint | None = None


def arm(point: CrashPoint | None) -> None:
    """Arm ``point`` (or disarm with ``None``) for this process."""
    global _armed
    _armed = point
    if point is not None:
        log.error("TEST ONLY: crash point armed; this relayer will SIGKILL itself", point=point)


def reached(point: CrashPoint, **context: object) -> None:
    """Called right after ``point``'s step is durable; dies there if it is armed."""
    if _armed is point:
        log.warning("crash point reached: SIGKILL", point=point, **context)
        os.kill(os.getpid(), signal.SIGKILL)
