"""Frozen values the store hands out, and the status vocabularies it stores.

Rows never leave the store as ORM objects: every read returns one of these values,
so callers cannot mutate a session-bound row by accident.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relayer.domain.decisions import Decision
from relayer.domain.rotation import SetProposal
from relayer.domain.transfer import TransferStatus as TransferStatus  # re-exported
from relayer.domain.types import Address, Direction, Hash32


class SubmissionStatus(enum.StrEnum):
    """What became of one release transaction we sent."""

    PENDING = "pending"
    MINED = "mined"
    FAILED = "failed"
    REPLACED = "replaced"
    ALREADY_PROCESSED = "already_processed"


class EffectKind(enum.StrEnum):
    """Effects the node runs after the transaction that decided them commits."""

    SIGN = "sign"
    PUBLISH = "publish"
    SUBMIT = "submit"
    EXECUTE = "execute"  # executeDelayed once a delayed transfer is due
    WITHDRAW = "withdraw"  # clear our retained attestation once the destination holds it
    PUBLISH_REFUSAL = "publish_refusal"  # gossip our signed refusal (retained)
    PUBLISH_CANCEL = "publish_cancel"  # gossip our Cancel signature (retained)
    PUBLISH_REFUND = "publish_refund"  # gossip our Refund signature (retained)
    CANCEL = "cancel"  # send cancel(transferId, bundle) on the destination
    REFUND = "refund"  # send refund(refund, bundle) on the source


class AlertKind(enum.StrEnum):
    """Operator alerts; ``HALT`` stops signing on its chain until acknowledged; ``CRITICAL``
    is evidence an operator must act on that does not stop signing."""

    HALT = "halt"
    WARNING = "warning"
    CRITICAL = "critical"  # evidence of misconduct (a rewritten audit chain); does not halt


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far a chain has been scanned for one contract."""

    chain_id: int
    contract: Address
    next_block: int
    last_scanned_block: int | None
    last_scanned_hash: Hash32 | None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """One transfer as stored."""

    transfer_id: Hash32
    direction: Direction
    src_chain_id: int
    dst_chain_id: int
    src_contract: Address
    nonce: int
    src_token: Address
    dst_token: Address | None
    sender: Address
    recipient: Address
    amount: int
    block_number: int
    block_hash: Hash32
    tx_hash: Hash32
    log_index: int
    status: TransferStatus
    status_reason: str | None
    observed_at: datetime
    confirmed_at: datetime | None
    released_at: datetime | None
    release_tx_hash: Hash32 | None
    executable_at: int | None = None  # delayed on the destination until then (unix seconds)
    quorum_bundle: bytes | None = None  # the signature bundle of the quorum reached, if any
    quorum_signers: tuple[Address, ...] = ()  # its signers, ascending
    quorum_jurisdictions: frozenset[str] = frozenset()  # and the jurisdictions they span


@dataclass(frozen=True, slots=True)
class OwnSignature:
    """This validator's one signature for a transfer."""

    transfer_id: Hash32
    digest: Hash32
    signature: bytes
    set_id: int
    policy_version: str
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class StoredAttestation:
    """A verified attestation (ours or a peer's) with its set and arrival time."""

    transfer_id: Hash32
    signer: Address
    digest: Hash32
    signature: bytes
    set_id: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why this validator declined to sign a transfer."""

    transfer_id: Hash32
    validator: Address
    reason_code: str
    detail: str | None
    at: datetime
    policy_version: str | None = None  # the policy (pack hash, or local rules' hash) in force


@dataclass(frozen=True, slots=True)
class Submission:
    """One release transaction sent (or about to be sent) by this relayer."""

    id: int
    transfer_id: Hash32
    chain_id: int
    sender: Address
    tx_nonce: int
    tx_hash: Hash32
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    status: SubmissionStatus
    sent_at: datetime
    mined_block: int | None


@dataclass(frozen=True, slots=True)
class Alert:
    """An operator alert."""

    id: int
    kind: AlertKind
    chain_id: int | None
    detail: dict[str, Any]
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True, slots=True)
class Effect:
    """A pending (or done) effect from the outbox."""

    id: int
    transfer_id: Hash32
    kind: EffectKind
    payload: dict[str, Any]
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class TransferView:
    """A transfer with everything the status API shows about it."""

    transfer: TransferRecord
    own_signature: OwnSignature | None
    attestations: tuple[StoredAttestation, ...]
    refusals: tuple[Refusal, ...]
    submissions: tuple[Submission, ...]
    decisions: tuple[StoredDecision, ...] = ()  # every validator's signed decision known
    veto: Veto | None = None  # this validator's veto, if any
    veto_signatures: tuple[VetoSignature, ...] = ()  # every Cancel and Refund signature known


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One link of the tamper-evident audit chain."""

    seq: int
    at: datetime
    transfer_id: Hash32 | None
    event: str
    detail: dict[str, Any]
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class RootSignature:
    """A validator's ``ReleaseRoot`` signature over a window of source nonces for one
    destination (committed roots), ours or a verified peer's."""

    dst_chain_id: int
    src_chain_id: int
    first_nonce: int
    last_nonce: int
    root: Hash32
    signer: Address
    digest: Hash32
    signature: bytes
    set_id: int
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredPack:
    """A policy pack this validator verified and put in force, as stored."""

    content_hash: Hash32
    jurisdiction: str
    version: int
    raw: bytes
    signature: bytes
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class Review:
    """A reviewer's decision on a transfer held for review."""

    transfer_id: Hash32
    approved: bool
    reviewer: str
    reason: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A validator's signed decision on a transfer, as stored."""

    decision: Decision
    signer: Address
    signature: bytes
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Veto:
    """This validator's veto of a transfer (an operator's, or automatic)."""

    transfer_id: Hash32
    vetoed_by: str
    reason: str
    automatic: bool
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class VetoSignature:
    """A validator's ``Cancel`` or ``Refund`` signature on a transfer, as stored."""

    transfer_id: Hash32
    kind: str  # "cancel" (executes on the destination) or "refund" (on the source)
    signer: Address
    chain_id: int
    digest: Hash32
    signature: bytes
    received_at: datetime


class SetOutcomeState(enum.StrEnum):
    """Where a validator-set proposal stands on one chain (``set_outcomes.state``)."""

    SENT = "sent"  # our rotateValidatorSet was mined (applied once the set shows it)
    FAILED = "failed"  # our last attempt did not go through (tried again while it can)
    APPLIED = "applied"  # final: the chain's current set is the proposed one
    SUPERSEDED = "superseded"  # final: the chain's set moved on to another set
    EXPIRED = "expired"  # final: the deadline passed before it was applied


FINAL_SET_STATES = frozenset(
    {SetOutcomeState.APPLIED, SetOutcomeState.SUPERSEDED, SetOutcomeState.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class SetProposalRecord:
    """A stored validator-set proposal."""

    proposal: SetProposal
    proposed_here: bool  # by this validator's operator (``relayer set propose``)
    received_at: datetime


@dataclass(frozen=True, slots=True)
class SetOutcome:
    """What this relayer knows of a proposal on one chain."""

    proposal_id: Hash32
    chain_id: int
    state: SetOutcomeState
    tx_hash: Hash32 | None
    detail: str
    updated_at: datetime
