"""What the store hands out about audit chain heads: the stored head and the outcomes of
recording one (see ``relayer.store.ops.heads``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relayer.domain.audit_heads import AuditHead, HeadConflict, SignedHead
from relayer.domain.types import Address


@dataclass(frozen=True, slots=True)
class StoredAuditHead:
    """A validator's signed head, the first copy this validator received of it."""

    signed: SignedHead
    witness: Address  # the validator it came from (the head's own validator: directly)
    received_at: datetime

    @property
    def head(self) -> AuditHead:
        return self.signed.head


@dataclass(frozen=True, slots=True)
class HeadRecorded:
    """A head not seen before, consistent with every stored head of its validator."""


@dataclass(frozen=True, slots=True)
class HeadKnown:
    """This (validator, seq, hash) was stored already (a republish, or relayed again)."""


@dataclass(frozen=True, slots=True)
class HeadConflicting:
    """A new head, stored as evidence, that contradicts a stored head of its validator."""

    conflict: HeadConflict


HeadOutcome = HeadRecorded | HeadKnown | HeadConflicting
