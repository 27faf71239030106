"""Typed results of store writes: the caller matches on the type, never on a bool."""

from __future__ import annotations

from dataclasses import dataclass

from relayer.domain.types import Address, Hash32
from relayer.store.records import (
    Alert,
    Cursor,
    Effect,
    OwnSignature,
    Refusal,
    Review,
    StoredDecision,
    Submission,
    TransferStatus,
    Veto,
)

# -- scanning -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventInserted:
    """A new transfer was stored as ``observed``."""

    transfer_id: Hash32


@dataclass(frozen=True, slots=True)
class EventDuplicate:
    """The same event (content and block coordinates) was already stored."""

    transfer_id: Hash32


@dataclass(frozen=True, slots=True)
class EventRelocated:
    """A not-yet-confirmed (or orphaned) transfer reappeared in another block.

    Its block coordinates were updated and its status set back to ``observed``.
    """

    transfer_id: Hash32
    old_block_number: int
    old_block_hash: Hash32


@dataclass(frozen=True, slots=True)
class EventConflict:
    """An event with a stored transfer id (or source nonce) but different content.

    Nothing was changed. ``fields`` names what differs. A conflict on a transfer past
    ``observed`` means the chain moved under something already acted upon.
    """

    transfer_id: Hash32
    fields: tuple[str, ...]
    stored_status: TransferStatus


EventOutcome = EventInserted | EventDuplicate | EventRelocated | EventConflict


@dataclass(frozen=True, slots=True)
class ScanRecorded:
    """The result of ``record_scan``: the new cursor and one outcome per event."""

    cursor: Cursor
    events: tuple[EventOutcome, ...]

    @property
    def conflicts(self) -> tuple[EventConflict, ...]:
        return tuple(e for e in self.events if isinstance(e, EventConflict))


@dataclass(frozen=True, slots=True)
class Rewound:
    """A reorg rewind: blocks above ``fork_block`` forgotten, cursor moved back."""

    chain_id: int
    fork_block: int
    orphaned: tuple[Hash32, ...]  # transfers that were only observed: now orphaned
    acted_upon: tuple[Hash32, ...]  # confirmed or later: the node must halt


# -- transfer status ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusChanged:
    transfer_id: Hash32
    old: TransferStatus
    new: TransferStatus


@dataclass(frozen=True, slots=True)
class StatusUnchanged:
    """The transfer already had the requested status."""

    transfer_id: Hash32
    status: TransferStatus


@dataclass(frozen=True, slots=True)
class StatusMismatch:
    """Compare-and-set failed: the stored status is not one of those expected."""

    transfer_id: Hash32
    current: TransferStatus
    expected: tuple[TransferStatus, ...]


@dataclass(frozen=True, slots=True)
class TransferNotFound:
    transfer_id: Hash32


StatusOutcome = StatusChanged | StatusUnchanged | StatusMismatch | TransferNotFound

# -- signatures and attestations ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnSignatureStored:
    signature: OwnSignature


@dataclass(frozen=True, slots=True)
class OwnSignatureDuplicate:
    """The same digest was already signed; ``signature`` is the stored one (publish it)."""

    signature: OwnSignature


OwnSignatureOutcome = OwnSignatureStored | OwnSignatureDuplicate


@dataclass(frozen=True, slots=True)
class Stored:
    """A new attestation was stored."""

    transfer_id: Hash32
    signer: Address


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The signer's attestation for this digest was already stored."""

    transfer_id: Hash32
    signer: Address


@dataclass(frozen=True, slots=True)
class Equivocation:
    """The signer signed two digests for one transfer; evidence row ``evidence_id``."""

    transfer_id: Hash32
    signer: Address
    stored_digest: Hash32
    new_digest: Hash32
    evidence_id: int


AttestationOutcome = Stored | Duplicate | Equivocation


@dataclass(frozen=True, slots=True)
class RefusalStored:
    refusal: Refusal


@dataclass(frozen=True, slots=True)
class RefusalDuplicate:
    """A refusal by this validator was already stored (the first reason is kept)."""

    refusal: Refusal


RefusalOutcome = RefusalStored | RefusalDuplicate

# -- outbox ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EffectEnqueued:
    effect: Effect


@dataclass(frozen=True, slots=True)
class EffectAlreadyPending:
    effect: Effect


@dataclass(frozen=True, slots=True)
class EffectAlreadyDone:
    effect: Effect


@dataclass(frozen=True, slots=True)
class EffectDone:
    effect: Effect


@dataclass(frozen=True, slots=True)
class EffectNotFound:
    effect_id: int


EnqueueOutcome = EffectEnqueued | EffectAlreadyPending | EffectAlreadyDone
MarkDoneOutcome = EffectDone | EffectAlreadyDone | EffectNotFound

# -- submissions and alerts -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmissionRecorded:
    submission: Submission


@dataclass(frozen=True, slots=True)
class SubmissionDuplicate:
    """This transaction was already recorded for this transfer (returned unchanged)."""

    submission: Submission


@dataclass(frozen=True, slots=True)
class SubmissionUpdated:
    submission: Submission


@dataclass(frozen=True, slots=True)
class SubmissionNotFound:
    tx_hash: Hash32


SubmissionOutcome = SubmissionRecorded | SubmissionDuplicate
SubmissionUpdateOutcome = SubmissionUpdated | SubmissionNotFound


@dataclass(frozen=True, slots=True)
class AlertAcknowledged:
    alert: Alert


@dataclass(frozen=True, slots=True)
class AlertAlreadyAcknowledged:
    alert: Alert


@dataclass(frozen=True, slots=True)
class AlertNotFound:
    alert_id: int


AcknowledgeOutcome = AlertAcknowledged | AlertAlreadyAcknowledged | AlertNotFound

# -- audit ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditChainIntact:
    entries: int
    head: bytes


@dataclass(frozen=True, slots=True)
class AuditChainBroken:
    """The first link that does not verify, and why."""

    seq: int
    reason: str


AuditVerdict = AuditChainIntact | AuditChainBroken


@dataclass(frozen=True, slots=True)
class RootStored:
    """A new root signature was stored."""


@dataclass(frozen=True, slots=True)
class RootDuplicate:
    """The signer's signature over this root for this window was already stored."""


@dataclass(frozen=True, slots=True)
class RootConflict:
    """The signer already signed another root for this window: the new one is not stored."""

    stored_root: Hash32


RootSignatureOutcome = RootStored | RootDuplicate | RootConflict

# -- reviews --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewRecorded:
    """The decision is stored; the relayer applies it on its next sweep."""

    review: Review


@dataclass(frozen=True, slots=True)
class ReviewNotHeld:
    """The transfer is not held for review (``status`` is where it is)."""

    transfer_id: Hash32
    status: TransferStatus


@dataclass(frozen=True, slots=True)
class ReviewAlreadyDecided:
    """A reviewer already decided this transfer (the first decision stands)."""

    review: Review


ReviewOutcome = ReviewRecorded | ReviewNotHeld | ReviewAlreadyDecided | TransferNotFound

# -- vetoes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VetoRecorded:
    """The veto is stored; the relayer applies it on its next sweep."""

    veto: Veto


@dataclass(frozen=True, slots=True)
class VetoNotAllowed:
    """The transfer cannot be vetoed where it is (``status``): not final at the source,
    or already executed, cancelled or refunded."""

    transfer_id: Hash32
    status: TransferStatus


@dataclass(frozen=True, slots=True)
class VetoAlreadyRecorded:
    """This validator already vetoed the transfer (the first veto stands)."""

    veto: Veto


VetoOutcome = VetoRecorded | VetoNotAllowed | VetoAlreadyRecorded | TransferNotFound

# -- signed decisions -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionStored:
    decision: StoredDecision


@dataclass(frozen=True, slots=True)
class DecisionDuplicate:
    """The same decision by the same signer was already stored."""

    decision: StoredDecision


@dataclass(frozen=True, slots=True)
class DecisionConflict:
    """The signer had signed another decision on this transfer: the first one is kept,
    this one is evidence (both signatures verify)."""

    stored: StoredDecision
    offered: StoredDecision


DecisionOutcome = DecisionStored | DecisionDuplicate | DecisionConflict
