"""What the store hands the supervisor view: frozen records, the status a plain string.

The status stays a string here (not ``TransferStatus``) so the supervisor view shows any
state the lifecycle writes, including ones added after this code was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SupervisedTransfer:
    """One transfer as a supervisor lists it."""

    transfer_id: bytes
    direction: str
    status: str
    status_reason: str | None
    src_chain_id: int
    dst_chain_id: int
    src_token: bytes
    dst_token: bytes | None
    sender: bytes
    recipient: bytes
    amount: int
    observed_at: datetime
    released_at: datetime | None
    executable_at: int | None
    signers: frozenset[bytes]  # validators with an attestation, decision or refusal on it


@dataclass(frozen=True, slots=True)
class ListedRefusal:
    """A validator's refusal of a transfer: this validator's as stored, a peer's signed one."""

    transfer_id: bytes
    validator: bytes
    reason: str
    detail: str | None
    policy: bytes | None  # the policy (pack hash, or local rules' hash) in force
    at: datetime
    signed: bool  # from a signed decision (a peer's, or ours as gossiped)
    status: str | None  # the transfer's state here, when this relayer has the transfer


@dataclass(frozen=True, slots=True)
class ListedReview:
    """A transfer held for review and, once taken, the reviewer's decision."""

    transfer: SupervisedTransfer
    approved: bool | None
    reviewer: str | None
    reason: str | None
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class SpendRow:
    """One approval counted against a pack's rolling limits."""

    src_chain_id: int
    token: bytes
    amount: int
    at: int  # unix seconds
    pack_hash: bytes
