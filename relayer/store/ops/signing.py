"""Our own signature guard, peer attestations, equivocation evidence and refusals."""

from __future__ import annotations

from sqlalchemy import select

from relayer.domain.types import Address, Attestation, Hash32
from relayer.store.errors import EquivocationRefused, UnknownTransferError
from relayer.store.models import (
    AttestationRow,
    EquivocationRow,
    OwnSignatureRow,
    RefusalRow,
    Transfer,
)
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import (
    AttestationOutcome,
    Duplicate,
    Equivocation,
    OwnSignatureDuplicate,
    OwnSignatureOutcome,
    OwnSignatureStored,
    RefusalDuplicate,
    RefusalOutcome,
    RefusalStored,
    Stored,
)
from relayer.store.records import OwnSignature, Refusal, StoredAttestation


class SigningOps(TxBase):
    """Writes that decide who signed what."""

    async def _require_transfer(self, transfer_id: Hash32) -> None:
        if await self._get(Transfer, bytes(transfer_id)) is None:
            raise UnknownTransferError(f"transfer 0x{transfer_id.hex()} was never observed")

    async def record_own_signature(
        self,
        attestation: Attestation,
        set_id: int,
        policy_version: str,
    ) -> OwnSignatureOutcome:
        """Store this validator's signature; the guard against signing twice.

        Sign locally, call this, and publish only after the transaction commits. The
        same digest again is ``OwnSignatureDuplicate`` carrying the *stored* signature
        (publish that one); a different digest raises ``EquivocationRefused``. The
        signature is also stored as an attestation so it counts toward quorum.
        """
        tid = attestation.transfer_id
        await self._require_transfer(tid)
        inserted = await self._insert_ignore(
            OwnSignatureRow,
            {
                "transfer_id": bytes(tid),
                "digest": bytes(attestation.digest),
                "signature": attestation.signature,
                "set_id": set_id,
                "policy_version": policy_version,
                "signed_at": self._now(),
            },
        )
        row = await self._get(OwnSignatureRow, bytes(tid), for_update=True)
        assert row is not None  # inserted now or before, never deleted
        if row.digest != attestation.digest:
            raise EquivocationRefused(tid, row.digest, attestation.digest)
        stored = convert.own_signature(row)
        if not inserted:
            return OwnSignatureDuplicate(stored)
        peer_copy = await self._get(AttestationRow, (bytes(tid), bytes(attestation.signer)))
        if peer_copy is not None and peer_copy.digest != attestation.digest:
            raise EquivocationRefused(tid, peer_copy.digest, attestation.digest)
        await self.record_attestation(attestation, set_id)
        await self._audit(
            "signed",
            tid,
            {"digest": "0x" + attestation.digest.hex(), "set_id": set_id, "policy": policy_version},
        )
        return OwnSignatureStored(stored)

    async def own_signature(self, transfer_id: Hash32) -> OwnSignature | None:
        row = await self._get(OwnSignatureRow, bytes(transfer_id))
        return None if row is None else convert.own_signature(row)

    async def record_attestation(self, attestation: Attestation, set_id: int) -> AttestationOutcome:
        """Store a verified attestation: ``Stored``, ``Duplicate`` or ``Equivocation``.

        Verify the signature before calling. At most one row per (transfer, signer)
        ever exists; a second, different digest is kept only as equivocation evidence.
        """
        tid, signer = attestation.transfer_id, attestation.signer
        inserted = await self._insert_ignore(
            AttestationRow,
            {
                "transfer_id": bytes(tid),
                "signer": bytes(signer),
                "digest": bytes(attestation.digest),
                "signature": attestation.signature,
                "set_id": set_id,
                "received_at": self._now(),
            },
        )
        if inserted:
            return Stored(tid, signer)
        row = await self._get(AttestationRow, (bytes(tid), bytes(signer)), for_update=True)
        assert row is not None  # attestation rows are never deleted
        if row.digest == attestation.digest:
            return Duplicate(tid, signer)
        evidence_id = await self._store_evidence(row, attestation)
        return Equivocation(tid, signer, Hash32(row.digest), attestation.digest, evidence_id)

    async def _store_evidence(self, first: AttestationRow, second: Attestation) -> int:
        existing = await self._exec(
            select(EquivocationRow.id).where(
                EquivocationRow.transfer_id == first.transfer_id,
                EquivocationRow.signer == first.signer,
                EquivocationRow.digest_a == first.digest,
                EquivocationRow.digest_b == bytes(second.digest),
            )
        )
        found = existing.scalar_one_or_none()
        if found is not None:
            return int(found)
        row = EquivocationRow(
            transfer_id=first.transfer_id,
            signer=first.signer,
            digest_a=first.digest,
            signature_a=first.signature,
            digest_b=bytes(second.digest),
            signature_b=second.signature,
            detected_at=self._now(),
        )
        self._session.add(row)
        await self._flush()
        await self._audit(
            "equivocation",
            second.transfer_id,
            {
                "signer": "0x" + second.signer.hex(),
                "digest_a": "0x" + first.digest.hex(),
                "digest_b": "0x" + second.digest.hex(),
            },
        )
        return row.id

    async def attestations_for(
        self, transfer_id: Hash32, digest: Hash32
    ) -> tuple[StoredAttestation, ...]:
        """Attestations over exactly ``digest`` for a transfer, by ascending signer."""
        result = await self._exec(
            select(AttestationRow)
            .where(
                AttestationRow.transfer_id == bytes(transfer_id),
                AttestationRow.digest == bytes(digest),
            )
            .order_by(AttestationRow.signer)
        )
        return tuple(convert.attestation(r) for r in result.scalars())

    async def equivocating_signers(self, transfer_id: Hash32) -> tuple[Address, ...]:
        """Signers with equivocation evidence for this transfer."""
        result = await self._exec(
            select(EquivocationRow.signer)
            .where(EquivocationRow.transfer_id == bytes(transfer_id))
            .distinct()
            .order_by(EquivocationRow.signer)
        )
        return tuple(Address(s) for s in result.scalars())

    async def refusal_by(self, transfer_id: Hash32, validator: Address) -> Refusal | None:
        """The refusal ``validator`` recorded for ``transfer_id``, if any."""
        result = await self._exec(
            select(RefusalRow).where(
                RefusalRow.transfer_id == bytes(transfer_id),
                RefusalRow.validator == bytes(validator),
            )
        )
        row = result.scalar_one_or_none()
        return None if row is None else convert.refusal(row)

    async def record_refusal(
        self,
        transfer_id: Hash32,
        validator: Address,
        reason_code: str,
        detail: str | None = None,
        policy_version: str | None = None,
    ) -> RefusalOutcome:
        """Store why this validator declined to sign, under which policy version (the first
        reason is kept)."""
        await self._require_transfer(transfer_id)
        inserted = await self._insert_ignore(
            RefusalRow,
            {
                "transfer_id": bytes(transfer_id),
                "validator": bytes(validator),
                "reason_code": reason_code,
                "detail": detail,
                "at": self._now(),
                "policy_version": policy_version,
            },
        )
        result = await self._exec(
            select(RefusalRow).where(
                RefusalRow.transfer_id == bytes(transfer_id),
                RefusalRow.validator == bytes(validator),
            )
        )
        refusal = convert.refusal(result.scalar_one())
        if not inserted:
            return RefusalDuplicate(refusal)
        await self._audit(
            "refused",
            transfer_id,
            {"reason": reason_code, "detail": detail, "policy": policy_version},
        )
        return RefusalStored(refusal)
