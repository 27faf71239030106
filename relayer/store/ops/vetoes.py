"""Vetoes (this validator's) and Cancel/Refund signatures (every validator's)."""

from __future__ import annotations

from sqlalchemy import select

from relayer.domain.lifecycle import VETOABLE
from relayer.domain.types import Address, Hash32
from relayer.store.models import Transfer, VetoRow, VetoSignatureRow
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import (
    TransferNotFound,
    VetoAlreadyRecorded,
    VetoNotAllowed,
    VetoOutcome,
    VetoRecorded,
)
from relayer.store.records import TransferRecord, TransferStatus, Veto, VetoSignature

VETO_KINDS = ("cancel", "refund")


class VetoOps(TxBase):
    """Record vetoes and the signatures that cancel and refund a transfer."""

    async def record_veto(
        self, transfer_id: Hash32, vetoed_by: str, reason: str, automatic: bool
    ) -> VetoOutcome:
        """This validator's veto of a transfer (the first one stands); only a transfer final
        at the source and not executed, cancelled or refunded can be vetoed."""
        transfer = await self._get(Transfer, bytes(transfer_id), for_update=True)
        if transfer is None:
            return TransferNotFound(transfer_id)
        existing = await self._get(VetoRow, bytes(transfer_id))
        if existing is not None:
            return VetoAlreadyRecorded(convert.veto(existing))
        status = TransferStatus(transfer.status)
        if status not in VETOABLE:
            return VetoNotAllowed(transfer_id, status)
        row = VetoRow(
            transfer_id=bytes(transfer_id),
            vetoed_by=vetoed_by,
            reason=reason,
            automatic=automatic,
            requested_at=self._now(),
        )
        self._session.add(row)
        await self._flush()
        await self._audit(
            "vetoed",
            transfer_id,
            {"by": vetoed_by, "reason": reason, "automatic": automatic, "status": status.value},
        )
        return VetoRecorded(convert.veto(row))

    async def veto_of(self, transfer_id: Hash32) -> Veto | None:
        """This validator's veto of a transfer, if any."""
        row = await self._get(VetoRow, bytes(transfer_id))
        return None if row is None else convert.veto(row)

    async def vetoes_to_apply(self, limit: int = 500) -> tuple[Veto, ...]:
        """Vetoes whose transfer is still where a veto applies (not yet ``vetoed``)."""
        rows = await self._exec(
            select(VetoRow)
            .join(Transfer, Transfer.transfer_id == VetoRow.transfer_id)
            .where(Transfer.status.in_([s.value for s in VETOABLE]))
            .order_by(VetoRow.requested_at)
            .limit(limit)
        )
        return tuple(convert.veto(r) for r in rows.scalars())

    async def refused_without_veto(self, limit: int = 500) -> tuple[TransferRecord, ...]:
        """Refused transfers this validator has not vetoed yet, oldest first (those an
        automatic veto may be due for)."""
        vetoed = select(VetoRow.transfer_id)
        rows = await self._exec(
            select(Transfer)
            .where(Transfer.status == TransferStatus.REFUSED.value)
            .where(Transfer.transfer_id.not_in(vetoed))
            .order_by(Transfer.observed_at, Transfer.transfer_id)
            .limit(limit)
        )
        return tuple(convert.transfer(r) for r in rows.scalars())

    async def record_veto_signature(self, signature: VetoSignature) -> bool:
        """Keep a checked Cancel or Refund signature; True if new (one per transfer, kind
        and signer: a second one from the same signer is ignored)."""
        if signature.kind not in VETO_KINDS:
            raise ValueError(f"veto signature kind must be one of {VETO_KINDS}")
        inserted = await self._insert_ignore(
            VetoSignatureRow,
            {
                "transfer_id": bytes(signature.transfer_id),
                "kind": signature.kind,
                "signer": bytes(signature.signer),
                "chain_id": signature.chain_id,
                "digest": bytes(signature.digest),
                "signature": signature.signature,
                "received_at": signature.received_at,
            },
        )
        if inserted:
            await self._audit(
                f"{signature.kind}_signed",
                signature.transfer_id,
                {"signer": "0x" + signature.signer.hex(), "chain_id": signature.chain_id},
            )
        return inserted

    async def veto_signatures_for(
        self, transfer_id: Hash32, kind: str
    ) -> tuple[VetoSignature, ...]:
        """Every stored ``kind`` signature on ``transfer_id``, by signer."""
        rows = await self._exec(
            select(VetoSignatureRow)
            .where(VetoSignatureRow.transfer_id == bytes(transfer_id))
            .where(VetoSignatureRow.kind == kind)
            .order_by(VetoSignatureRow.signer)
        )
        return tuple(convert.veto_signature(r) for r in rows.scalars())

    async def veto_signature_by(
        self, transfer_id: Hash32, kind: str, signer: Address
    ) -> VetoSignature | None:
        """``signer``'s ``kind`` signature on ``transfer_id``, if stored."""
        row = await self._get(VetoSignatureRow, (bytes(transfer_id), kind, bytes(signer)))
        return None if row is None else convert.veto_signature(row)
