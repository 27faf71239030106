"""Committed roots: validators' ``ReleaseRoot`` signatures and the windows they cover."""

from __future__ import annotations

from typing import cast

from sqlalchemy import delete, func, select

from relayer.domain.types import Address, Hash32
from relayer.store.models import OwnSignatureRow, RootSignatureRow, Transfer
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import RootConflict, RootDuplicate, RootSignatureOutcome, RootStored
from relayer.store.records import OwnSignature, RootSignature, TransferRecord, TransferStatus

# a transfer in one of these went its way: its window no longer needs a root for it
_SENT_OR_ENDED = tuple(
    status.value
    for status in (
        TransferStatus.SUBMITTED,
        TransferStatus.DELAYED,
        TransferStatus.RELEASED,
        TransferStatus.CANCELLED,
        TransferStatus.REFUSED,
    )
)


class RootOps(TxBase):
    """Root signatures (ours and peers'), and the reads that decide what we sign."""

    async def record_root_signature(self, sig: RootSignature) -> RootSignatureOutcome:
        """Store a verified root signature. The same root again is ``RootDuplicate``; another
        root from the same signer for the same window is ``RootConflict`` (not stored)."""
        inserted = await self._insert_ignore(
            RootSignatureRow,
            {
                "dst_chain_id": sig.dst_chain_id,
                "src_chain_id": sig.src_chain_id,
                "first_nonce": sig.first_nonce,
                "signer": bytes(sig.signer),
                "last_nonce": sig.last_nonce,
                "root": bytes(sig.root),
                "digest": bytes(sig.digest),
                "signature": sig.signature,
                "set_id": sig.set_id,
                "received_at": self._now(),
            },
        )
        if inserted:
            return RootStored()
        stored = await self._get(
            RootSignatureRow,
            (sig.dst_chain_id, sig.src_chain_id, sig.first_nonce, bytes(sig.signer)),
        )
        if stored is None or stored.root == bytes(sig.root):
            return RootDuplicate()
        return RootConflict(Hash32(stored.root))

    async def root_signatures(
        self, dst_chain_id: int, src_chain_id: int, first_nonce: int
    ) -> tuple[RootSignature, ...]:
        """Every stored signature for one window on one destination, by ascending signer."""
        result = await self._exec(
            select(RootSignatureRow)
            .where(
                RootSignatureRow.dst_chain_id == dst_chain_id,
                RootSignatureRow.src_chain_id == src_chain_id,
                RootSignatureRow.first_nonce == first_nonce,
            )
            .order_by(RootSignatureRow.signer)
        )
        return tuple(convert.root_signature(r) for r in result.scalars())

    async def own_root_signatures(
        self, signer: Address, src_chain_id: int, from_nonce: int
    ) -> tuple[RootSignature, ...]:
        """``signer``'s root signatures over windows of ``src_chain_id`` starting at or after
        ``from_nonce`` (every destination), by window."""
        result = await self._exec(
            select(RootSignatureRow)
            .where(
                RootSignatureRow.signer == bytes(signer),
                RootSignatureRow.src_chain_id == src_chain_id,
                RootSignatureRow.first_nonce >= from_nonce,
            )
            .order_by(RootSignatureRow.first_nonce, RootSignatureRow.dst_chain_id)
        )
        return tuple(convert.root_signature(r) for r in result.scalars())

    async def window_transfers(
        self, src_chain_id: int, first_nonce: int, last_nonce: int
    ) -> tuple[tuple[TransferRecord, OwnSignature | None], ...]:
        """The transfers of ``src_chain_id`` with a nonce in the window, each with our own
        signature if we signed it, by nonce."""
        result = await self._exec(
            select(Transfer, OwnSignatureRow)
            .outerjoin(OwnSignatureRow, OwnSignatureRow.transfer_id == Transfer.transfer_id)
            .where(
                Transfer.src_chain_id == src_chain_id,
                Transfer.nonce >= first_nonce,
                Transfer.nonce <= last_nonce,
            )
            .order_by(Transfer.nonce)
        )
        rows = cast(list[tuple[Transfer, OwnSignatureRow | None]], result.all())
        return tuple(
            (convert.transfer(t), None if own is None else convert.own_signature(own))
            for t, own in rows
        )

    async def lowest_unsent_nonce(self, src_chain_id: int) -> int | None:
        """The lowest nonce of ``src_chain_id`` whose transfer is still undecided or signed
        and never sent (not submitted, delayed, released, cancelled or refused; None: none):
        below its window, a root would carry nothing."""
        result = await self._exec(
            select(func.min(Transfer.nonce)).where(
                Transfer.src_chain_id == src_chain_id, Transfer.status.not_in(_SENT_OR_ENDED)
            )
        )
        found = result.scalar_one_or_none()
        return None if found is None else int(found)

    async def root_signature(
        self, dst_chain_id: int, src_chain_id: int, first_nonce: int, signer: Address
    ) -> RootSignature | None:
        """``signer``'s signature over one window on one destination, if stored."""
        row = await self._get(
            RootSignatureRow, (dst_chain_id, src_chain_id, first_nonce, bytes(signer))
        )
        return None if row is None else convert.root_signature(row)

    async def prune_root_signatures(self, src_chain_id: int, below_nonce: int) -> int:
        """Forget every root signature over windows of ``src_chain_id`` starting below
        ``below_nonce`` (their releases all went their way); how many rows went."""
        result = await self._exec(
            delete(RootSignatureRow).where(
                RootSignatureRow.src_chain_id == src_chain_id,
                RootSignatureRow.first_nonce < below_nonce,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def highest_nonce(self, src_chain_id: int) -> int | None:
        """The highest nonce of ``src_chain_id`` observed (None: none)."""
        result = await self._exec(
            select(func.max(Transfer.nonce)).where(Transfer.src_chain_id == src_chain_id)
        )
        found = result.scalar_one_or_none()
        return None if found is None else int(found)
