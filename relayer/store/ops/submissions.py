"""The submitter's persistent nonce and its record of sent release transactions."""

from __future__ import annotations

from sqlalchemy import select

from relayer.domain.types import Address, Hash32
from relayer.store.errors import UnknownTransferError
from relayer.store.models import AccountNonce, SubmissionRow, Transfer
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import (
    SubmissionDuplicate,
    SubmissionNotFound,
    SubmissionOutcome,
    SubmissionRecorded,
    SubmissionUpdated,
    SubmissionUpdateOutcome,
)
from relayer.store.records import Submission, SubmissionStatus


class SubmissionOps(TxBase):
    """Nonce allocation and submission bookkeeping."""

    async def next_submit_nonce(self, chain_id: int, sender: Address, chain_floor: int = 0) -> int:
        """Allocate the next transaction nonce for ``sender`` on ``chain_id``.

        Atomic: the account row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL;
        SQLite transactions are serialized by ``BEGIN IMMEDIATE``). ``chain_floor`` is
        the chain's pending nonce: allocation never goes below it, so a nonce used by
        another tool is skipped. Concurrent callers get distinct, consecutive nonces.
        """
        if chain_floor < 0:
            raise ValueError("chain_floor must be non-negative")
        key = (chain_id, bytes(sender))
        await self._insert_ignore(
            AccountNonce,
            {"chain_id": chain_id, "address": bytes(sender), "next_nonce": chain_floor},
        )
        row = await self._get(AccountNonce, key, for_update=True)
        assert row is not None  # inserted above or earlier; never deleted
        nonce = max(row.next_nonce, chain_floor)
        row.next_nonce = nonce + 1
        await self._flush()
        return nonce

    async def committed_nonce(self, chain_id: int, sender: Address) -> int | None:
        """The next nonce after the last transaction the node accepted from ``sender``."""
        row = await self._get(AccountNonce, (chain_id, bytes(sender)))
        return None if row is None else row.next_nonce

    async def set_committed_nonce(
        self, chain_id: int, sender: Address, next_nonce: int, *, only_up: bool
    ) -> int:
        """Store ``next_nonce`` (never lower than stored when ``only_up``); returns it."""
        if next_nonce < 0:
            raise ValueError("next_nonce must be non-negative")
        key = (chain_id, bytes(sender))
        await self._insert_ignore(
            AccountNonce, {"chain_id": chain_id, "address": bytes(sender), "next_nonce": next_nonce}
        )
        row = await self._get(AccountNonce, key, for_update=True)
        assert row is not None  # inserted above or earlier; never deleted
        row.next_nonce = max(row.next_nonce, next_nonce) if only_up else next_nonce
        await self._flush()
        return row.next_nonce

    async def record_submission(
        self,
        transfer_id: Hash32,
        chain_id: int,
        sender: Address,
        tx_nonce: int,
        tx_hash: Hash32,
        max_fee_per_gas: int,
        max_priority_fee_per_gas: int,
    ) -> SubmissionOutcome:
        """Record a signed release transaction before broadcasting it (``pending``): one row
        per transfer it carries (a batch is recorded once for each of its releases)."""
        if await self._get(Transfer, bytes(transfer_id)) is None:
            raise UnknownTransferError(f"transfer 0x{transfer_id.hex()} was never observed")
        inserted = await self._insert_ignore(
            SubmissionRow,
            self._pending_row(
                transfer_id,
                chain_id,
                sender,
                tx_nonce,
                tx_hash,
                max_fee_per_gas,
                max_priority_fee_per_gas,
            ),
        )
        stored = await self._by_hash(tx_hash, transfer_id)
        assert stored is not None
        if not inserted:
            return SubmissionDuplicate(stored)
        await self._audit(
            "submitted",
            transfer_id,
            {"tx_hash": "0x" + tx_hash.hex(), "chain_id": chain_id, "nonce": tx_nonce},
        )
        return SubmissionRecorded(stored)

    async def record_sent(
        self,
        transfer_ids: tuple[Hash32, ...],
        chain_id: int,
        sender: Address,
        tx_nonce: int,
        tx_hash: Hash32,
        max_fee_per_gas: int,
        max_priority_fee_per_gas: int,
    ) -> int:
        """Record a signed transaction before it is broadcast (``pending``), one row per
        transfer it carries, each audited once; a row already there is left as it is.
        Returns how many rows are new. An unknown transfer fails the foreign key."""
        new = 0
        for transfer_id in transfer_ids:
            inserted = await self._insert_ignore(
                SubmissionRow,
                self._pending_row(
                    transfer_id,
                    chain_id,
                    sender,
                    tx_nonce,
                    tx_hash,
                    max_fee_per_gas,
                    max_priority_fee_per_gas,
                ),
            )
            if inserted:
                new += 1
                await self._audit(
                    "submitted",
                    transfer_id,
                    {"tx_hash": "0x" + tx_hash.hex(), "chain_id": chain_id, "nonce": tx_nonce},
                )
        return new

    async def in_flight_submissions(
        self, chain_id: int, sender: Address, transfer_ids: tuple[Hash32, ...]
    ) -> tuple[Submission, ...]:
        """Every row of the ``pending`` transactions of ``sender`` on ``chain_id`` that carry
        any of ``transfer_ids`` (all the transfers of each such transaction), by nonce."""
        carrying = (
            select(SubmissionRow.tx_hash)
            .where(
                SubmissionRow.chain_id == chain_id,
                SubmissionRow.sender == bytes(sender),
                SubmissionRow.status == SubmissionStatus.PENDING.value,
                SubmissionRow.transfer_id.in_([bytes(t) for t in transfer_ids]),
            )
            .distinct()
        )
        result = await self._exec(
            select(SubmissionRow)
            .where(SubmissionRow.tx_hash.in_(carrying))
            .order_by(SubmissionRow.tx_nonce, SubmissionRow.id)
        )
        return tuple(convert.submission(r) for r in result.scalars())

    def _pending_row(
        self,
        transfer_id: Hash32,
        chain_id: int,
        sender: Address,
        tx_nonce: int,
        tx_hash: Hash32,
        max_fee_per_gas: int,
        max_priority_fee_per_gas: int,
    ) -> dict[str, object]:
        """The ``submissions`` row of a transaction about to be broadcast."""
        return {
            "transfer_id": bytes(transfer_id),
            "chain_id": chain_id,
            "sender": bytes(sender),
            "tx_nonce": tx_nonce,
            "tx_hash": bytes(tx_hash),
            "max_fee_per_gas": max_fee_per_gas,
            "max_priority_fee_per_gas": max_priority_fee_per_gas,
            "status": SubmissionStatus.PENDING.value,
            "sent_at": self._now(),
            "mined_block": None,
        }

    async def _by_hash(self, tx_hash: Hash32, transfer_id: Hash32) -> Submission | None:
        result = await self._exec(
            select(SubmissionRow)
            .where(
                SubmissionRow.tx_hash == bytes(tx_hash),
                SubmissionRow.transfer_id == bytes(transfer_id),
            )
            .execution_options(populate_existing=True)
        )
        row = result.scalar_one_or_none()
        return None if row is None else convert.submission(row)

    async def update_submission(
        self,
        transfer_id: Hash32,
        tx_hash: Hash32,
        status: SubmissionStatus | str,
        mined_block: int | None = None,
    ) -> SubmissionUpdateOutcome:
        """Record what became of a sent transaction for one transfer it carries. With a
        ``mined_block`` its nonce is used: every other ``pending`` transaction of the
        sender at that nonce (a fee bump's other copies, or a dropped one whose nonce was
        refilled) can never mine and becomes ``replaced``, in this same transaction."""
        new = SubmissionStatus(status)
        result = await self._exec(
            select(SubmissionRow)
            .where(
                SubmissionRow.tx_hash == bytes(tx_hash),
                SubmissionRow.transfer_id == bytes(transfer_id),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = result.scalar_one_or_none()
        if row is None:
            return SubmissionNotFound(tx_hash)
        old = row.status
        row.status = new.value
        if mined_block is not None:
            row.mined_block = mined_block
        await self._flush()
        if old != new.value:
            await self._audit(
                "submission",
                row.transfer_id,
                {"tx_hash": "0x" + tx_hash.hex(), "from": old, "to": new.value},
            )
        updated = convert.submission(row)
        if mined_block is not None:
            await self._mark_replaced(row)
        return SubmissionUpdated(updated)

    async def _mark_replaced(self, mined: SubmissionRow) -> None:
        """``replaced``: the ``pending`` rows of other transactions at ``mined``'s nonce
        (same chain and sender), each audited. Not done when a replacement is recorded:
        until one of them is in a block, any of them may still mine (the submitter
        watches them all)."""
        result = await self._exec(
            select(SubmissionRow)
            .where(
                SubmissionRow.chain_id == mined.chain_id,
                SubmissionRow.sender == mined.sender,
                SubmissionRow.tx_nonce == mined.tx_nonce,
                SubmissionRow.tx_hash != mined.tx_hash,
                SubmissionRow.status == SubmissionStatus.PENDING.value,
            )
            .order_by(SubmissionRow.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for row in result.scalars().all():
            row.status = SubmissionStatus.REPLACED.value
            await self._flush()
            await self._audit(
                "submission",
                row.transfer_id,
                {
                    "tx_hash": "0x" + bytes(row.tx_hash).hex(),
                    "from": SubmissionStatus.PENDING.value,
                    "to": SubmissionStatus.REPLACED.value,
                    "by": "0x" + bytes(mined.tx_hash).hex(),
                },
            )

    async def submissions_for(self, transfer_id: Hash32) -> tuple[Submission, ...]:
        result = await self._exec(
            select(SubmissionRow)
            .where(SubmissionRow.transfer_id == bytes(transfer_id))
            .order_by(SubmissionRow.id)
        )
        return tuple(convert.submission(r) for r in result.scalars())

    async def pending_submissions(self, chain_id: int) -> tuple[Submission, ...]:
        """Sent transactions on ``chain_id`` still waiting for a receipt, by nonce."""
        result = await self._exec(
            select(SubmissionRow)
            .where(
                SubmissionRow.chain_id == chain_id,
                SubmissionRow.status == SubmissionStatus.PENDING.value,
            )
            .order_by(SubmissionRow.tx_nonce, SubmissionRow.id)
        )
        return tuple(convert.submission(r) for r in result.scalars())
