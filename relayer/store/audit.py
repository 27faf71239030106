"""The audit chain's hashing rule (pure; the table lives in ``models.AuditRow``).

``hash = sha256(prev_hash || canonical_json(at, transfer_id, event, detail))`` where
canonical JSON has sorted keys, no whitespace and UTF-8 text. The first link's
``prev_hash`` is 32 zero bytes. Editing, deleting or reordering any row breaks every
later link, which ``verify_links`` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from relayer.store.outcomes import AuditChainBroken, AuditChainIntact, AuditVerdict
from relayer.store.records import AuditEntry

GENESIS_HASH = b"\x00" * 32


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, compact separators, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def link_hash(
    prev_hash: bytes,
    at: datetime,
    transfer_id: bytes | None,
    event: str,
    detail: dict[str, Any],
) -> bytes:
    """The hash of one audit link given the previous link's hash."""
    body = {
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "transfer_id": None if transfer_id is None else "0x" + transfer_id.hex(),
        "event": event,
        "detail": detail,
    }
    return hashlib.sha256(prev_hash + canonical_json(body)).digest()


def verify_links(entries: Iterable[AuditEntry]) -> AuditVerdict:
    """Check every link in ``seq`` order; report the first that does not verify."""
    prev = GENESIS_HASH
    count = 0
    for entry in entries:
        if entry.prev_hash != prev:
            return AuditChainBroken(entry.seq, "prev_hash does not match the previous link")
        expected = link_hash(prev, entry.at, entry.transfer_id, entry.event, entry.detail)
        if entry.hash != expected:
            return AuditChainBroken(entry.seq, "hash does not match the row's content")
        prev = entry.hash
        count += 1
    return AuditChainIntact(entries=count, head=prev)
