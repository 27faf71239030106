"""Errors the store raises on purpose (all under ``relayer.errors``).

Transient database trouble (connection lost, server restarting, serialization
failure, SQLite busy) is raised as ``relayer.errors.StoreError`` (retryable). What
the caller can expect and act on (a duplicate, an equivocating peer) comes back as a
typed outcome from ``relayer.store.outcomes``, never as an exception. The errors here
mean "stop": retrying the same call cannot help.
"""

from __future__ import annotations

from relayer.errors import FatalError, SafetyHaltError


class EquivocationRefused(SafetyHaltError):
    """This validator was about to sign a second, different digest for one transfer."""

    def __init__(self, transfer_id: bytes, stored_digest: bytes, new_digest: bytes) -> None:
        super().__init__(
            f"refusing to sign transfer 0x{transfer_id.hex()} again: stored digest "
            f"0x{stored_digest.hex()}, new digest 0x{new_digest.hex()}"
        )
        self.transfer_id = transfer_id
        self.stored_digest = stored_digest
        self.new_digest = new_digest


class CursorRegressionError(FatalError, ValueError):
    """A scan tried to move a cursor backwards (a bug); use ``rewind`` for reorgs."""


class UnknownTransferError(FatalError, LookupError):
    """A write referred to a transfer the store has never observed (a bug)."""


class StoreIntegrityError(FatalError):
    """A constraint the repository did not expect was violated (a bug, not a race)."""


class SchemaNotAtHeadError(FatalError):
    """The database schema is not at the migration head; run ``relayer db upgrade``."""
