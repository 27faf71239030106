"""Cursor, observed events and recent block hashes (the watcher's half of the store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select

from relayer.domain.types import Address, Direction, Hash32, SourceEvent
from relayer.store.engine import mapped_errors
from relayer.store.errors import CursorRegressionError
from relayer.store.models import ChainCursor, ScannedBlock, Transfer
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import (
    EventConflict,
    EventDuplicate,
    EventInserted,
    EventOutcome,
    EventRelocated,
    Rewound,
    ScanRecorded,
)
from relayer.store.records import Cursor, TransferStatus

DEFAULT_KEEP_BLOCKS = 256
_CONTENT_FIELDS = (
    "direction",
    "src_chain_id",
    "src_contract",
    "nonce",
    "src_token",
    "sender",
    "recipient",
    "amount",
    "dst_chain_id",
)
_COORDINATE_FIELDS = ("block_number", "block_hash", "tx_hash", "log_index")
_RELOCATABLE = (TransferStatus.OBSERVED, TransferStatus.ORPHANED)


def _event_values(event: SourceEvent, direction: Direction) -> dict[str, Any]:
    return {
        "transfer_id": bytes(event.transfer_id),
        "direction": direction.value,
        "src_chain_id": event.src_chain_id,
        "dst_chain_id": event.dst_chain_id,
        "src_contract": bytes(event.src_contract),
        "nonce": event.nonce,
        "src_token": bytes(event.src_token),
        "sender": bytes(event.sender),
        "recipient": bytes(event.recipient),
        "amount": event.amount,
        "block_number": event.block_number,
        "block_hash": bytes(event.block_hash),
        "tx_hash": bytes(event.tx_hash),
        "log_index": event.log_index,
    }


class ScanOps(TxBase):
    """Operations of the chain watcher."""

    async def get_cursor(self, chain_id: int) -> Cursor | None:
        """The durable scan position of ``chain_id``, or None before the first scan."""
        row = await self._get(ChainCursor, chain_id)
        return None if row is None else convert.cursor(row)

    async def block_hash_at(self, chain_id: int, block_number: int) -> Hash32 | None:
        """The hash recorded for a recently scanned block (None if unknown or pruned)."""
        row = await self._get(ScannedBlock, (chain_id, block_number))
        return None if row is None else Hash32(row.block_hash)

    async def recent_blocks(self, chain_id: int, limit: int = 64) -> tuple[tuple[int, Hash32], ...]:
        """The newest recorded ``(block_number, block_hash)`` pairs, newest first."""
        stmt = (
            select(ScannedBlock.block_number, ScannedBlock.block_hash)
            .where(ScannedBlock.chain_id == chain_id)
            .order_by(ScannedBlock.block_number.desc())
            .limit(limit)
        )
        with mapped_errors("recent_blocks"):
            result = await self._session.execute(stmt)
        return tuple((number, Hash32(block_hash)) for number, block_hash in result.all())

    async def record_scan(
        self,
        chain_id: int,
        contract: Address,
        direction: Direction,
        events: Sequence[SourceEvent],
        next_block: int,
        block_hashes: Sequence[tuple[int, Hash32]] = (),
        keep_blocks: int = DEFAULT_KEEP_BLOCKS,
    ) -> ScanRecorded:
        """Store a scanned window's events and advance the cursor, atomically.

        Re-observing a stored event is a no-op (``EventDuplicate``); the same transfer
        at other block coordinates while still unconfirmed is ``EventRelocated``; any
        content difference is ``EventConflict`` and changes nothing. The cursor never
        moves backwards here (``CursorRegressionError``); reorgs go through ``rewind``.
        Block hashes older than ``keep_blocks`` below the newest one are pruned.
        """
        for ev in events:
            if ev.src_chain_id != chain_id or ev.src_contract != contract:
                raise ValueError(f"event 0x{ev.transfer_id.hex()} is not from this chain/contract")
        outcomes = tuple([await self._record_event(ev, direction) for ev in events])
        await self._record_blocks(chain_id, block_hashes, keep_blocks)
        cursor = await self._advance_cursor(chain_id, contract, next_block, block_hashes)
        return ScanRecorded(cursor=cursor, events=outcomes)

    async def record_rescan(
        self,
        chain_id: int,
        contract: Address,
        direction: Direction,
        events: Sequence[SourceEvent],
    ) -> tuple[EventOutcome, ...]:
        """Store events re-read from blocks already scanned (``relayer chain rescan``),
        each as ``record_scan`` would (stored: ``EventDuplicate``; different content:
        ``EventConflict``); the cursor and the recorded block hashes are left alone."""
        for ev in events:
            if ev.src_chain_id != chain_id or ev.src_contract != contract:
                raise ValueError(f"event 0x{ev.transfer_id.hex()} is not from this chain/contract")
        outcomes = tuple([await self._record_event(ev, direction) for ev in events])
        if events:
            blocks = [events[0].block_number, events[-1].block_number]
            await self._audit("rescanned", None, {"chain_id": chain_id, "blocks": blocks})
        return outcomes

    async def _record_event(self, event: SourceEvent, direction: Direction) -> EventOutcome:
        values = _event_values(event, direction)
        now = self._now()
        inserted = await self._insert_ignore(
            Transfer,
            {**values, "status": TransferStatus.OBSERVED.value, "observed_at": now},
        )
        if inserted:
            await self._audit("observed", event.transfer_id, {"block": event.block_number})
            return EventInserted(event.transfer_id)
        row = await self._get(Transfer, bytes(event.transfer_id), for_update=True)
        if row is None:  # the source nonce is taken by a different transfer id
            return await self._nonce_clash(event)
        status = TransferStatus(row.status)
        differs = tuple(f for f in _CONTENT_FIELDS if getattr(row, f) != values[f])
        if differs:
            return EventConflict(event.transfer_id, differs, status)
        moved = tuple(f for f in _COORDINATE_FIELDS if getattr(row, f) != values[f])
        if not moved:
            return EventDuplicate(event.transfer_id)
        if status not in _RELOCATABLE:
            return EventConflict(event.transfer_id, moved, status)
        old_number, old_hash = row.block_number, Hash32(row.block_hash)
        for field in _COORDINATE_FIELDS:
            setattr(row, field, values[field])
        row.status = TransferStatus.OBSERVED.value
        row.status_reason = None
        await self._flush()
        await self._audit(
            "relocated",
            event.transfer_id,
            {"from_block": old_number, "to_block": event.block_number},
        )
        return EventRelocated(event.transfer_id, old_number, old_hash)

    async def _nonce_clash(self, event: SourceEvent) -> EventConflict:
        result = await self._exec(
            select(Transfer.status).where(
                Transfer.src_chain_id == event.src_chain_id,
                Transfer.src_contract == bytes(event.src_contract),
                Transfer.nonce == event.nonce,
            )
        )
        status = TransferStatus(result.scalar_one())
        return EventConflict(event.transfer_id, ("transfer_id",), status)

    async def _record_blocks(
        self, chain_id: int, block_hashes: Sequence[tuple[int, Hash32]], keep_blocks: int
    ) -> None:
        if not block_hashes:
            return
        for number, block_hash in block_hashes:
            row = await self._get(ScannedBlock, (chain_id, number))
            if row is None:
                self._session.add(
                    ScannedBlock(
                        chain_id=chain_id, block_number=number, block_hash=bytes(block_hash)
                    )
                )
            else:
                row.block_hash = bytes(block_hash)
        await self._flush()
        newest = max(n for n, _ in block_hashes)
        await self._exec(
            delete(ScannedBlock).where(
                ScannedBlock.chain_id == chain_id,
                ScannedBlock.block_number <= newest - keep_blocks,
            )
        )

    async def _advance_cursor(
        self,
        chain_id: int,
        contract: Address,
        next_block: int,
        block_hashes: Sequence[tuple[int, Hash32]],
    ) -> Cursor:
        row = await self._get(ChainCursor, chain_id, for_update=True)
        last_block = next_block - 1
        known = dict(block_hashes)
        last_hash = known.get(last_block)
        now = self._now()
        if row is None:
            row = ChainCursor(chain_id=chain_id, contract=bytes(contract), next_block=next_block)
            self._session.add(row)
        elif next_block < row.next_block:
            raise CursorRegressionError(
                f"chain {chain_id}: cursor would move back from {row.next_block} to "
                f"{next_block}; use rewind() for a reorg"
            )
        elif row.contract != bytes(contract):
            raise ValueError(f"chain {chain_id}: cursor belongs to another contract")
        row.next_block = next_block
        row.last_scanned_block = last_block if last_block >= 0 else None
        row.last_scanned_hash = None if last_hash is None else bytes(last_hash)
        row.updated_at = now
        await self._flush()
        return convert.cursor(row)

    async def rewind(self, chain_id: int, fork_block: int) -> Rewound:
        """Undo everything above ``fork_block`` (the last block both forks share).

        Forgets block hashes above it, moves the cursor to ``fork_block + 1`` and lists
        the transfers seen above it: ``orphaned`` those only observed, ``acted_upon``
        those confirmed or later (a reorg deeper than the confirmation depth). Their
        statuses are left to the caller, which applies ``Orphaned`` to each through the
        lifecycle rule (``domain.step``) in the same transaction.
        """
        result = await self._exec(
            select(Transfer)
            .where(Transfer.src_chain_id == chain_id, Transfer.block_number > fork_block)
            .order_by(Transfer.block_number, Transfer.log_index)
            .with_for_update()
        )
        orphaned: list[Hash32] = []
        acted_upon: list[Hash32] = []
        for row in result.scalars():
            if row.status == TransferStatus.OBSERVED.value:
                orphaned.append(Hash32(row.transfer_id))
            elif row.status != TransferStatus.ORPHANED.value:
                acted_upon.append(Hash32(row.transfer_id))
        await self._exec(
            delete(ScannedBlock).where(
                ScannedBlock.chain_id == chain_id, ScannedBlock.block_number > fork_block
            )
        )
        cursor = await self._get(ChainCursor, chain_id, for_update=True)
        if cursor is not None and cursor.next_block > fork_block + 1:
            cursor.next_block = fork_block + 1
            cursor.last_scanned_block = fork_block
            kept = await self.block_hash_at(chain_id, fork_block)
            cursor.last_scanned_hash = None if kept is None else bytes(kept)
            cursor.updated_at = self._now()
        await self._flush()
        await self._audit(
            "rewound",
            None,
            {
                "chain_id": chain_id,
                "fork_block": fork_block,
                "orphaned": ["0x" + t.hex() for t in orphaned],
                "acted_upon": ["0x" + t.hex() for t in acted_upon],
            },
        )
        return Rewound(chain_id, fork_block, tuple(orphaned), tuple(acted_upon))
