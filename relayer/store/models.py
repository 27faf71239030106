"""Table definitions (SQLAlchemy 2 typed declarative), portable to SQLite and PostgreSQL.

Hashes, addresses and signatures are raw bytes (``BYTEA`` / ``BLOB``); uint256 values
use the exact ``Uint`` type. The Alembic revisions in ``migrations/versions`` create
exactly this schema; ``tests/integration/store`` proves the two agree. Production code
never calls ``create_all``.

No table has a column for key material: the store never sees a private key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from relayer.store.coltypes import UINT64_DIGITS, Uint, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A 64-bit surrogate key that SQLite still treats as its auto-incrementing rowid.
SerialKey = BigInteger().with_variant(Integer(), "sqlite")
TRANSFER_FK = "transfers.transfer_id"


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ChainCursor(Base):
    """Durable scan position per chain."""

    __tablename__ = "chain_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    contract: Mapped[bytes] = mapped_column(LargeBinary)
    next_block: Mapped[int] = mapped_column(BigInteger)
    last_scanned_block: Mapped[int | None] = mapped_column(BigInteger)
    last_scanned_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScannedBlock(Base):
    """Recent block hashes per chain, kept for reorg detection."""

    __tablename__ = "scanned_blocks"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary)


class Transfer(Base):
    """One bridge transfer, keyed by the id the source contract assigned."""

    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint("src_chain_id", "src_contract", "nonce"),
        Index(None, "status"),
        Index(None, "tx_hash"),
        Index(None, "sender"),  # the portal's history of an address
        Index(None, "recipient"),
    )

    transfer_id: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    direction: Mapped[str] = mapped_column(String(16))
    src_chain_id: Mapped[int] = mapped_column(BigInteger)
    dst_chain_id: Mapped[int] = mapped_column(BigInteger)
    src_contract: Mapped[bytes] = mapped_column(LargeBinary)
    nonce: Mapped[int] = mapped_column(Uint(UINT64_DIGITS))
    src_token: Mapped[bytes] = mapped_column(LargeBinary)
    dst_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    sender: Mapped[bytes] = mapped_column(LargeBinary)
    recipient: Mapped[bytes] = mapped_column(LargeBinary)
    amount: Mapped[int] = mapped_column(Uint())
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary)
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary)
    log_index: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    release_tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # delayed by the destination's governor: when ``executeDelayed`` may run (unix seconds)
    executable_at: Mapped[int | None] = mapped_column(BigInteger)
    # the quorum the SUBMIT effect carries: its bundle, signers (hex) and jurisdictions
    quorum_bundle: Mapped[bytes | None] = mapped_column(LargeBinary)
    quorum_signers: Mapped[list[str] | None] = mapped_column(JSON)
    quorum_jurisdictions: Mapped[list[str] | None] = mapped_column(JSON)


class OwnSignatureRow(Base):
    """The one digest this validator signed per transfer (the anti-equivocation guard)."""

    __tablename__ = "own_signatures"

    transfer_id: Mapped[bytes] = mapped_column(
        LargeBinary, ForeignKey(TRANSFER_FK), primary_key=True
    )
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    set_id: Mapped[int] = mapped_column(BigInteger)
    policy_version: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AttestationRow(Base):
    """A verified attestation, ours or a peer's; one per (transfer, signer).

    No foreign key to ``transfers``: a peer's attestation may arrive before our own
    watcher has seen the event.
    """

    __tablename__ = "attestations"

    transfer_id: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    signer: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    set_id: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RootSignatureRow(Base):
    """A validator's ``ReleaseRoot`` signature over one window of source nonces for one
    destination, ours or a peer's (verified first): one per (destination, window, signer).
    A second, different root from the same signer for the same window is never stored."""

    __tablename__ = "root_signatures"

    dst_chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    src_chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_nonce: Mapped[int] = mapped_column(Uint(UINT64_DIGITS), primary_key=True)
    signer: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    last_nonce: Mapped[int] = mapped_column(Uint(UINT64_DIGITS))
    root: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    set_id: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EquivocationRow(Base):
    """Evidence that a signer signed two different digests for one transfer."""

    __tablename__ = "equivocations"
    __table_args__ = (Index(None, "transfer_id", "signer"),)

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    transfer_id: Mapped[bytes] = mapped_column(LargeBinary)
    signer: Mapped[bytes] = mapped_column(LargeBinary)
    digest_a: Mapped[bytes] = mapped_column(LargeBinary)
    signature_a: Mapped[bytes] = mapped_column(LargeBinary)
    digest_b: Mapped[bytes] = mapped_column(LargeBinary)
    signature_b: Mapped[bytes] = mapped_column(LargeBinary)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefusalRow(Base):
    """This validator's refusal to sign a transfer (one per transfer and validator)."""

    __tablename__ = "refusals"
    __table_args__ = (UniqueConstraint("transfer_id", "validator"),)

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    transfer_id: Mapped[bytes] = mapped_column(LargeBinary, ForeignKey(TRANSFER_FK))
    validator: Mapped[bytes] = mapped_column(LargeBinary)
    reason_code: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    policy_version: Mapped[str | None] = mapped_column(String(64))  # the policy in force


class SubmissionRow(Base):
    """A release transaction this relayer sent, one row per transfer it carries (a batch
    transaction has one row for each of its releases)."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index(None, "transfer_id"),
        Index(None, "chain_id", "sender", "tx_nonce"),
        UniqueConstraint("tx_hash", "transfer_id"),
    )

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    transfer_id: Mapped[bytes] = mapped_column(LargeBinary, ForeignKey(TRANSFER_FK))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    sender: Mapped[bytes] = mapped_column(LargeBinary)
    tx_nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary)
    max_fee_per_gas: Mapped[int] = mapped_column(Uint())
    max_priority_fee_per_gas: Mapped[int] = mapped_column(Uint())
    status: Mapped[str] = mapped_column(String(24))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    mined_block: Mapped[int | None] = mapped_column(BigInteger)


class AccountNonce(Base):
    """The next transaction nonce this relayer will use per (chain, sender)."""

    __tablename__ = "account_nonces"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    address: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    next_nonce: Mapped[int] = mapped_column(BigInteger)


class AlertRow(Base):
    """An operator alert; an unacknowledged ``halt`` stops its chain."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "kind", "chain_id", "acknowledged_at"),)

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    chain_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))


class OutboxRow(Base):
    """A pending effect, written in the same transaction as the decision behind it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("transfer_id", "kind"),
        Index(None, "done_at"),
    )

    id: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    transfer_id: Mapped[bytes] = mapped_column(LargeBinary, ForeignKey(TRANSFER_FK))
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """One link of the hash chain: ``hash = sha256(prev_hash || canonical_json(row))``."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(SerialKey, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    transfer_id: Mapped[bytes | None] = mapped_column(LargeBinary, index=True)
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)


class PolicyPackRow(Base):
    """A jurisdiction policy pack this validator verified and put in force (see
    ``relayer.domain.packs``): its exact bytes and the supervisor's signature, kept so the
    last good pack survives a restart and a supervisor can check which one was in force."""

    __tablename__ = "policy_packs"

    content_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(2))
    version: Mapped[int] = mapped_column(Uint(UINT64_DIGITS))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PolicySpendRow(Base):
    """A transfer this validator approved under a pack's rolling limits (never removed)."""

    __tablename__ = "policy_spends"
    __table_args__ = (Index(None, "src_chain_id", "token", "at"),)

    transfer_id: Mapped[bytes] = mapped_column(
        LargeBinary, ForeignKey(TRANSFER_FK), primary_key=True
    )
    src_chain_id: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    sender: Mapped[bytes] = mapped_column(LargeBinary)
    amount: Mapped[int] = mapped_column(Uint())
    at: Mapped[int] = mapped_column(BigInteger)  # unix seconds, when it was approved
    pack_hash: Mapped[bytes] = mapped_column(LargeBinary)


class ReviewRow(Base):
    """A reviewer's decision on a transfer the policy held for review (one per transfer);
    the relayer applies it on its next sweep."""

    __tablename__ = "reviews"

    transfer_id: Mapped[bytes] = mapped_column(
        LargeBinary, ForeignKey(TRANSFER_FK), primary_key=True
    )
    approved: Mapped[bool] = mapped_column(Boolean)
    reviewer: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DecisionRow(Base):
    """A validator's signed decision on a transfer (ours or a peer's, the signature
    checked first): one per (transfer, signer); see ``relayer.domain.decisions``."""

    __tablename__ = "decisions"

    transfer_id: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    signer: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    verdict: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    policy: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VetoRow(Base):
    """A veto of a transfer by this validator: an operator's ``relayer veto`` or the
    automatic one of a transfer refused by a blocking minority (one per transfer); the
    relayer applies it on its next sweep."""

    __tablename__ = "vetoes"

    transfer_id: Mapped[bytes] = mapped_column(
        LargeBinary, ForeignKey(TRANSFER_FK), primary_key=True
    )
    vetoed_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(Boolean)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VetoSignatureRow(Base):
    """A validator's ``Cancel`` or ``Refund`` signature on a transfer (ours or a peer's,
    checked first): one per (transfer, kind, signer)."""

    __tablename__ = "veto_signatures"

    transfer_id: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "cancel" | "refund"
    signer: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)  # where it executes
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditHeadRow(Base):
    """A validator's signed audit chain head as this validator received it, from its
    validator or relayed by another (``witness``); see ``relayer.domain.audit_heads``.

    Every distinct (validator, seq, hash) is kept, the first copy to arrive, and for this
    validator's own heads one row per witness: those are what ``relayer audit verify``
    checks its chain against, per witness. Two heads of one validator that contradict each
    other are the evidence of a rewrite."""

    __tablename__ = "audit_heads"
    __table_args__ = (Index(None, "validator", "at"),)

    validator: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    witness: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)  # who it came from
    at: Mapped[int] = mapped_column(BigInteger)  # unix seconds, as signed
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SetProposalRow(Base):
    """A validator-set rotation proposal (``relayer.domain.rotation.SetProposal``): made
    here by ``relayer set propose`` or received from a peer, its body as
    ``proposal_to_json`` writes it."""

    __tablename__ = "set_proposals"

    proposal_id: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    deadline: Mapped[int] = mapped_column(BigInteger)  # unix seconds
    proposed_here: Mapped[bool] = mapped_column(Boolean)  # by this validator's operator
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SetSignatureRow(Base):
    """A validator's signature of a proposal for one chain (ours, or a peer's checked
    first: a member of that chain's current set, recovered over the recomputed digest)."""

    __tablename__ = "set_signatures"

    proposal_id: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    signer: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SetOutcomeRow(Base):
    """Where a proposal ended on one chain (``applied``, ``superseded``, ``expired``), or
    the last ``rotateValidatorSet`` this relayer sent for it there (``sent``, ``failed``)."""

    __tablename__ = "set_outcomes"

    proposal_id: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    detail: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
