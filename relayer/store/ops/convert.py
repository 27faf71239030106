"""Row -> frozen record conversions (the only place ORM rows turn into values)."""

from __future__ import annotations

from relayer.domain.decisions import Decision
from relayer.domain.types import Address, Direction, Hash32
from relayer.store.models import (
    AlertRow,
    AttestationRow,
    AuditRow,
    ChainCursor,
    DecisionRow,
    OutboxRow,
    OwnSignatureRow,
    PolicyPackRow,
    RefusalRow,
    ReviewRow,
    RootSignatureRow,
    SubmissionRow,
    Transfer,
    VetoRow,
    VetoSignatureRow,
)
from relayer.store.records import (
    Alert,
    AlertKind,
    AuditEntry,
    Cursor,
    Effect,
    EffectKind,
    OwnSignature,
    Refusal,
    Review,
    RootSignature,
    StoredAttestation,
    StoredDecision,
    StoredPack,
    Submission,
    SubmissionStatus,
    TransferRecord,
    TransferStatus,
    Veto,
    VetoSignature,
)


def _opt_hash(value: bytes | None) -> Hash32 | None:
    return None if value is None else Hash32(value)


def cursor(row: ChainCursor) -> Cursor:
    return Cursor(
        chain_id=row.chain_id,
        contract=Address(row.contract),
        next_block=row.next_block,
        last_scanned_block=row.last_scanned_block,
        last_scanned_hash=_opt_hash(row.last_scanned_hash),
        updated_at=row.updated_at,
    )


def transfer(row: Transfer) -> TransferRecord:
    return TransferRecord(
        transfer_id=Hash32(row.transfer_id),
        direction=Direction(row.direction),
        src_chain_id=row.src_chain_id,
        dst_chain_id=row.dst_chain_id,
        src_contract=Address(row.src_contract),
        nonce=row.nonce,
        src_token=Address(row.src_token),
        dst_token=None if row.dst_token is None else Address(row.dst_token),
        sender=Address(row.sender),
        recipient=Address(row.recipient),
        amount=row.amount,
        block_number=row.block_number,
        block_hash=Hash32(row.block_hash),
        tx_hash=Hash32(row.tx_hash),
        log_index=row.log_index,
        status=TransferStatus(row.status),
        status_reason=row.status_reason,
        observed_at=row.observed_at,
        confirmed_at=row.confirmed_at,
        released_at=row.released_at,
        release_tx_hash=_opt_hash(row.release_tx_hash),
        executable_at=row.executable_at,
        quorum_bundle=row.quorum_bundle,
        quorum_signers=tuple(
            Address(bytes.fromhex(s.removeprefix("0x"))) for s in row.quorum_signers or ()
        ),
        quorum_jurisdictions=frozenset(row.quorum_jurisdictions or ()),
    )


def own_signature(row: OwnSignatureRow) -> OwnSignature:
    return OwnSignature(
        transfer_id=Hash32(row.transfer_id),
        digest=Hash32(row.digest),
        signature=row.signature,
        set_id=row.set_id,
        policy_version=row.policy_version,
        signed_at=row.signed_at,
    )


def attestation(row: AttestationRow) -> StoredAttestation:
    return StoredAttestation(
        transfer_id=Hash32(row.transfer_id),
        signer=Address(row.signer),
        digest=Hash32(row.digest),
        signature=row.signature,
        set_id=row.set_id,
        received_at=row.received_at,
    )


def refusal(row: RefusalRow) -> Refusal:
    return Refusal(
        transfer_id=Hash32(row.transfer_id),
        validator=Address(row.validator),
        reason_code=row.reason_code,
        detail=row.detail,
        at=row.at,
        policy_version=row.policy_version,
    )


def root_signature(row: RootSignatureRow) -> RootSignature:
    return RootSignature(
        dst_chain_id=row.dst_chain_id,
        src_chain_id=row.src_chain_id,
        first_nonce=row.first_nonce,
        last_nonce=row.last_nonce,
        root=Hash32(row.root),
        signer=Address(row.signer),
        digest=Hash32(row.digest),
        signature=row.signature,
        set_id=row.set_id,
        received_at=row.received_at,
    )


def submission(row: SubmissionRow) -> Submission:
    return Submission(
        id=row.id,
        transfer_id=Hash32(row.transfer_id),
        chain_id=row.chain_id,
        sender=Address(row.sender),
        tx_nonce=row.tx_nonce,
        tx_hash=Hash32(row.tx_hash),
        max_fee_per_gas=row.max_fee_per_gas,
        max_priority_fee_per_gas=row.max_priority_fee_per_gas,
        status=SubmissionStatus(row.status),
        sent_at=row.sent_at,
        mined_block=row.mined_block,
    )


def alert(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        kind=AlertKind(row.kind),
        chain_id=row.chain_id,
        detail=dict(row.detail),
        raised_at=row.raised_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )


def effect(row: OutboxRow) -> Effect:
    return Effect(
        id=row.id,
        transfer_id=Hash32(row.transfer_id),
        kind=EffectKind(row.kind),
        payload=dict(row.payload),
        created_at=row.created_at,
        done_at=row.done_at,
    )


def audit_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        transfer_id=_opt_hash(row.transfer_id),
        event=row.event,
        detail=dict(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def decision(row: DecisionRow) -> StoredDecision:
    return StoredDecision(
        decision=Decision(
            transfer_id=Hash32(row.transfer_id),
            digest=Hash32(row.digest),
            verdict=row.verdict,
            detail=row.detail,
            policy=Hash32(row.policy),
        ),
        signer=Address(row.signer),
        signature=row.signature,
        received_at=row.received_at,
    )


def stored_pack(row: PolicyPackRow) -> StoredPack:
    return StoredPack(
        content_hash=Hash32(row.content_hash),
        jurisdiction=row.jurisdiction,
        version=row.version,
        raw=row.raw,
        signature=row.signature,
        accepted_at=row.accepted_at,
    )


def review(row: ReviewRow) -> Review:
    return Review(
        transfer_id=Hash32(row.transfer_id),
        approved=row.approved,
        reviewer=row.reviewer,
        reason=row.reason,
        decided_at=row.decided_at,
    )


def veto(row: VetoRow) -> Veto:
    return Veto(Hash32(row.transfer_id), row.vetoed_by, row.reason, row.automatic, row.requested_at)


def veto_signature(row: VetoSignatureRow) -> VetoSignature:
    return VetoSignature(
        transfer_id=Hash32(row.transfer_id),
        kind=row.kind,
        signer=Address(row.signer),
        chain_id=row.chain_id,
        digest=Hash32(row.digest),
        signature=row.signature,
        received_at=row.received_at,
    )
