"""The watcher's durable sink: events and cursor in one transaction, then the pipeline.

Each scanned window arrives as a :class:`ScanBatch` of CONFIRMED events (the watcher
scans only up to the confirmed head). In one transaction the sink stores the events
and the advanced cursor; the processor's confirm loop then applies ``Confirmed`` to
each new transfer (cross-check, policy, signature, publication queued). A restart
resumes from the stored cursor: nothing skipped, nothing twice.

A reorg of scanned blocks is by definition deeper than the confirmation rule. Events
only observed are orphaned; if this validator already signed anything in the orphaned
range, a HALT alert with the evidence stops signing on that chain until an operator
acknowledges it (``relayer alerts ack``): it does not quietly resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relayer import crashpoints
from relayer.api.metrics import Metrics
from relayer.chain.confirmation import HeadRegressed
from relayer.chain.scan import Checkpoint, Cursor, Reorg, ScanBatch
from relayer.crashpoints import CrashPoint
from relayer.domain.transfer import Orphaned
from relayer.domain.types import Address, Direction, SourceEvent, hex32
from relayer.log import get_logger, transfer_logger
from relayer.service.books import RouteBook
from relayer.service.processor import Processor
from relayer.store import AlertKind, Store, Transaction
from relayer.store.outcomes import EventConflict, EventInserted, EventOutcome, EventRelocated

log = get_logger("sink")


async def stored_outcomes(
    tx: Transaction,
    chain_id: int,
    events: Sequence[SourceEvent],
    outcomes: Sequence[EventOutcome],
) -> list[SourceEvent]:
    """What storing scanned ``events`` did, inside the transaction that stored them: a
    conflicting event raises a HALT alert with the evidence (signing stops on the chain
    until acknowledged); returns the events new to the store (inserted or relocated)."""
    new: list[SourceEvent] = []
    for event, outcome in zip(events, outcomes, strict=True):
        if isinstance(outcome, EventConflict):
            await tx.raise_alert(
                AlertKind.HALT,
                chain_id,
                {
                    "reason": "a different event for a stored transfer id",
                    "transfer_id": hex32(event.transfer_id),
                    "fields": list(outcome.fields),
                    "block": event.block_number,
                    "tx_hash": hex32(event.tx_hash),
                },
            )
            transfer_logger(
                log, event.transfer_id, event.src_chain_id, event.dst_chain_id, "halted"
            ).error("SAFETY HALT: conflicting event")
        elif isinstance(outcome, EventInserted | EventRelocated):
            new.append(event)
    return new


async def store_rescanned(
    store: Store, chain_id: int, contract: Address, direction: Direction, batch: ScanBatch
) -> tuple[EventOutcome, ...]:
    """Store a window re-read below the cursor (``relayer chain rescan``) in one
    transaction: each event as the watcher's would be (a stored one is a duplicate, a
    conflicting one a halt), the cursor and its checkpoints untouched."""
    async with store.transaction() as tx:
        outcomes = await tx.record_rescan(chain_id, contract, direction, batch.events)
        await stored_outcomes(tx, chain_id, batch.events, outcomes)
    return outcomes


class StoreSink:
    """``ScanSink`` of one (chain, contract) on the relayer's store."""

    def __init__(
        self,
        *,
        chain_id: int,
        contract: Address,
        direction: Direction,
        store: Store,
        processor: Processor,
        routes: RouteBook,
        metrics: Metrics,
    ) -> None:
        self.chain_id = chain_id
        self.contract = contract
        self.direction = direction
        self.store = store
        self.processor = processor
        self.routes = routes
        self.metrics = metrics
        self.label = direction.value

    async def load_cursor(self) -> Cursor | None:
        async with self.store.reader() as tx:
            stored = await tx.get_cursor(self.chain_id)
        if stored is None:
            return None
        last = None
        if stored.last_scanned_block is not None and stored.last_scanned_hash is not None:
            last = Checkpoint(stored.last_scanned_block, stored.last_scanned_hash)
        return Cursor(stored.next_block, last)

    async def recent_checkpoints(self, limit: int) -> Sequence[Checkpoint]:
        async with self.store.reader() as tx:
            blocks = await tx.recent_blocks(self.chain_id, limit)
        return [Checkpoint(number, block_hash) for number, block_hash in blocks]

    async def on_batch(self, batch: ScanBatch) -> None:
        for event in batch.events:
            await self.routes.ensure(event)  # chain reads happen before the transaction
        hashes = (
            []
            if batch.cursor.last is None
            else [(batch.cursor.last.number, batch.cursor.last.hash)]
        )
        async with self.processor.writer.transaction() as tx:
            recorded = await tx.record_scan(
                self.chain_id,
                self.contract,
                self.direction,
                batch.events,
                batch.cursor.next_block,
                hashes,
            )
            new = await stored_outcomes(tx, self.chain_id, batch.events, recorded.events)
        self.metrics.last_scan.labels(self.label).set(batch.to_block)
        if new:
            crashpoints.reached(CrashPoint.OBSERVED, transfers=len(new))
            # Each stored event is then confirmed (policy, signature, publication queued)
            # by the processor's confirm loop, one short transaction per transfer, outside
            # the watcher's time budget. A crash in between leaves it ``observed`` and the
            # loop finishes it on restart.
            self.processor.observed_ready.set()

    async def on_reorg(self, reorg: Reorg) -> None:
        """Rewind the cursor to the fork, report the reorg (a halt if we signed any of its
        transfers), then apply ``Orphaned`` to each transfer it removed: the lifecycle
        rule orphans those not signed and halts signing for those signed."""
        fork_block = (
            reorg.fork_point.number if reorg.fork_point is not None else reorg.orphaned[0] - 1
        )
        p = self.processor
        async with p.writer.transaction() as tx:
            rewound = await tx.rewind(self.chain_id, fork_block)
            signed = [
                hex32(tid) for tid in rewound.acted_upon if await tx.own_signature(tid) is not None
            ]
            detail: dict[str, Any] = {
                "reason": "reorg deeper than the confirmation rule",
                "fork_block": fork_block,
                "orphaned_range": list(reorg.orphaned),
                "depth": reorg.depth,
                "stale_block": {"number": reorg.stale.number, "hash": hex32(reorg.stale.hash)},
                "replaced_by": None if reorg.replaced_by is None else hex32(reorg.replaced_by),
                "signed_transfers": signed,
            }
            kind = AlertKind.HALT if signed else AlertKind.WARNING  # scanned = confirmed
            await tx.raise_alert(kind, self.chain_id, detail)
            for tid in (*rewound.orphaned, *rewound.acted_upon):
                await p.apply(tx, tid, Orphaned(tid))
        (log.error if signed else log.warning)(
            "reorg below the confirmed head", chain_id=self.chain_id, halted=bool(signed), **detail
        )

    async def on_anomaly(self, anomaly: HeadRegressed) -> None:
        detail = {
            "reason": "confirmed head went backwards",
            "previous": {"number": anomaly.previous.number, "hash": hex32(anomaly.previous.hash)},
            "current": None
            if anomaly.current is None
            else {"number": anomaly.current.number, "hash": hex32(anomaly.current.hash)},
        }
        async with self.processor.writer.transaction() as tx:
            await tx.raise_alert(AlertKind.WARNING, self.chain_id, detail)
        log.error("confirmed head went backwards", chain_id=self.chain_id, **detail)
