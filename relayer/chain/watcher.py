"""Scan a bridge contract's events from a durable cursor up to the confirmed head.

Each poll: find the confirmed head (``ConfirmationRule``, read through a ``SharedHead``
the settler of the same chain reads too), check that the last scanned
block still has the hash stored with the cursor (else walk back over the stored
checkpoints to the fork point and report a ``Reorg``), then scan windows of at most
``max_window`` blocks. A window the node rejects as too wide is bisected (and later
windows shrink); transient errors are retried by the RPC client. Each window becomes
one ``ScanBatch`` (events + new cursor) handed to the sink. Only confirmed blocks are
scanned, so an unconfirmed event is never emitted; ``pending_events`` peeks at them.
A log emitted by another contract, or malformed, is rejected and counted.

With ``cursor_flush_s`` set, a window without events or rejected logs is not handed to
the sink unless that long has passed since the last one was: the watcher keeps the cursor
and the window's checkpoint in memory (used by the fork search), and a restart rescans
those empty blocks from the stored cursor. A window with events is always stored at once.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from relayer.chain.confirmation import (
    ConfirmationRule,
    ConfirmedHeadTracker,
    HeadRegressed,
    SharedHead,
    confirmed_head,
)
from relayer.chain.events import BridgeEvent, EventDecoder, LogRejectedError
from relayer.chain.heads import idle_wait_s
from relayer.chain.reader import ChainReader
from relayer.chain.rpc import RpcNodeError, is_range_error
from relayer.chain.rpc_types import BlockRef, LogEntry
from relayer.chain.scan import Checkpoint, Cursor, Reorg, ScanBatch, ScanSink
from relayer.domain.types import Address, Hash32, SourceEvent
from relayer.errors import RejectedInputError, RetryableError, SafetyHaltError
from relayer.wakeup import wait_for_wake

log = structlog.get_logger(__name__)

GROW_AFTER_WINDOWS = 8  # successful windows before a shrunk window doubles again
MAX_BACKOFF_SECONDS = 30.0
RESCAN_RACE_ATTEMPTS = 3  # a rescan window whose last block changed while read: read again


class ReorgPolicy(enum.StrEnum):
    """What the watcher does after reporting a reorg of scanned (confirmed) blocks."""

    HALT = "halt"  # raise SafetyHaltError: confirmed data changed
    RESCAN = "rescan"  # the sink accepted it: rescan from the fork point


@dataclass(frozen=True, slots=True)
class WatcherConfig:
    """Tunables; tests shrink the windows and the poll interval."""

    contract: Address
    event: BridgeEvent
    chain_id: int
    rule: ConfirmationRule
    start_block: int = 0
    max_window: int = 1000
    poll_interval: float = 1.0
    reorg_policy: ReorgPolicy = ReorgPolicy.HALT
    checkpoint_history: int = 256
    sink_timeout: float = 30.0
    cursor_flush_s: float = 0.0  # 0: every window goes to the sink; see the module docstring

    def __post_init__(self) -> None:
        if self.max_window < 1 or self.start_block < 0 or self.poll_interval <= 0:
            raise ValueError("max_window >= 1, start_block >= 0, poll_interval > 0")
        if self.cursor_flush_s < 0:
            raise ValueError("cursor_flush_s must not be negative")


@dataclass
class WatcherStats:
    """Counters for metrics and the status display."""

    windows: int = 0
    bisections: int = 0
    races: int = 0
    events: int = 0
    rejected_logs: int = 0
    reorgs: int = 0
    anomalies: int = 0
    poll_failures: int = 0
    confirmed_head: int | None = None
    next_block: int | None = None
    rejections: list[str] = field(default_factory=list)


class EventWatcher:
    """One contract's event scanner; ``run()`` forever or ``poll_once()`` in tests."""

    def __init__(
        self,
        rpc: ChainReader,
        config: WatcherConfig,
        sink: ScanSink,
        head: SharedHead | None = None,
    ) -> None:
        self.rpc = rpc
        self.config = config
        self.sink = sink
        self.decoder = EventDecoder(config.event, config.contract, config.chain_id)
        if head is not None and (head.rpc is not rpc or head.rule != config.rule):
            raise ValueError("the shared head must read this watcher's node by its rule")
        self.tracker = ConfirmedHeadTracker(head or SharedHead(rpc, config.rule))
        self.stats = WatcherStats()
        self._window = config.max_window
        self._good_windows = 0
        # The cursor as last stored by this watcher (the sink's only writer of it), so a
        # poll does not read it back; None: read it from the sink (at start, after a reorg
        # or a failed poll; an anomaly only raises an alert and leaves the cursor alone).
        self._cursor: Cursor | None = None
        self._unstored: list[Checkpoint] = []  # checkpoints of windows kept in memory only
        self._stored_at = float("-inf")  # when a window last went to the sink (monotonic)

    async def run(self) -> None:
        """Poll forever; transient and malformed-answer failures back off and retry. With
        a head feed, the next poll starts when a new head is pushed (see chain/heads.py)."""
        feed = self.tracker.head.feed
        wake = asyncio.Event() if feed is None else feed.listen()
        failures = 0
        while True:
            try:
                await self.poll_once()
                failures = 0
            except (RetryableError, RejectedInputError) as err:  # outage, or a bad answer
                failures += 1
                self.stats.poll_failures += 1
                log.warning("watcher poll failed", chain_id=self.config.chain_id, error=str(err))
            if failures:
                wake.clear()
                delay = self.config.poll_interval * 2 ** min(failures, 8)
                await asyncio.sleep(min(MAX_BACKOFF_SECONDS, delay))
            else:
                await wait_for_wake(wake, idle_wait_s(feed, self.config.poll_interval))

    async def poll_once(self) -> int:
        """Check for a reorg, then scan up to the confirmed head; returns events emitted."""
        try:
            return await self._poll()
        except BaseException:
            self._cursor = None  # a write may or may not have landed: read it back
            self._unstored.clear()
            raise

    async def _poll(self) -> int:
        if self._cursor is None:
            async with asyncio.timeout(self.config.sink_timeout):
                stored = await self.sink.load_cursor()
            self._cursor = stored or Cursor(self.config.start_block, None)
        cursor = self._cursor
        update = await self.tracker.poll()
        if isinstance(update, HeadRegressed):
            self.stats.anomalies += 1
            log.error("confirmed head went backwards", previous=update.previous.number)
            async with asyncio.timeout(self.config.sink_timeout):
                await self.sink.on_anomaly(update)
        checked = await self._check_reorg(cursor, self.tracker.highest)
        if checked is not cursor:  # rewound by the sink: take the cursor it stored
            self._unstored.clear()
            async with asyncio.timeout(self.config.sink_timeout):
                stored = await self.sink.load_cursor()
            checked = stored or checked
        self._cursor = cursor = checked
        head = self.tracker.highest
        self.stats.confirmed_head = None if head is None else head.number
        emitted = 0
        while head is not None and cursor.next_block <= head.number:
            to_block = min(head.number, cursor.next_block + self._window - 1)
            batch = await self._scan_window(cursor.next_block, to_block, head)
            if batch is None:
                break  # the window changed under us; the next poll re-checks
            if self._keep_in_memory(batch):
                if batch.cursor.last is not None:
                    self._unstored.append(batch.cursor.last)
                    del self._unstored[: -self.config.checkpoint_history]
            else:
                async with asyncio.timeout(self.config.sink_timeout):
                    await self.sink.on_batch(batch)
                self._unstored.clear()
                self._stored_at = time.monotonic()
            self._cursor = cursor = batch.cursor
            emitted += len(batch.events)
        self.stats.next_block = cursor.next_block
        return emitted

    def _keep_in_memory(self, batch: ScanBatch) -> bool:
        """Whether ``batch`` (no events, nothing rejected) may skip the sink for now."""
        flush = self.config.cursor_flush_s
        quiet = not batch.events and not batch.rejected_logs
        return flush > 0 and quiet and time.monotonic() - self._stored_at < flush

    async def rescan(
        self, low: int, high: int, store: Callable[[ScanBatch], Awaitable[object]]
    ) -> int | None:
        """Read blocks ``[low, high]`` again, clipped to the confirmed head, in the scan's
        own windows (bisected, raced, decoded and rejected alike), handing each window to
        ``store``; the cursor is neither read nor moved. Returns the last block re-read
        (None: nothing confirmed in the range)."""
        head = await confirmed_head(self.rpc, self.config.rule)
        if head is None or low > min(high, head.number):
            return None
        high = min(high, head.number)
        while low <= high:
            to_block = min(high, low + self._window - 1)
            for _ in range(RESCAN_RACE_ATTEMPTS):
                batch = await self._scan_window(low, to_block, head)
                if batch is not None:
                    break
            else:
                raise RetryableError(f"blocks {low}..{to_block} kept changing while read")
            await store(batch)
            low = to_block + 1
        return high

    async def pending_events(self) -> list[SourceEvent]:
        """Events seen above the confirmed head (not yet confirmed), for the status display."""
        head = await confirmed_head(self.rpc, self.config.rule)
        low = self.config.start_block if head is None else head.number + 1
        latest = await self.rpc.block_number()
        events: list[SourceEvent] = []
        while low <= latest:
            high = min(latest, low + self._window - 1)
            for entry in await self._fetch_logs(low, high):
                try:
                    events.append(self.decoder.decode(entry))
                except LogRejectedError:
                    continue
            low = high + 1
        return events

    # --- reorgs ---------------------------------------------------------------------

    async def _check_reorg(self, cursor: Cursor, head: BlockRef | None) -> Cursor:
        """``cursor``, or where to resume after the reorg it found. When the cursor is at
        the confirmed head just read, or just below it with the head's parent hash equal to
        the cursor's (the common case: one new block), that read is the check (no second
        call)."""
        last = cursor.last
        if last is None:
            return cursor
        if head is not None and head.number == last.number + 1 and head.parent_hash == last.hash:
            return cursor  # the head just read descends from our checkpoint
        if head is not None and head.number == last.number:
            block: BlockRef | None = head
        else:
            block = await self.rpc.get_block(last.number)
        if block is not None and block.hash == last.hash:
            return cursor
        reorg = await self._find_fork(last, None if block is None else block.hash)
        self.stats.reorgs += 1
        log.error("reorg below the scan cursor", depth=reorg.depth, orphaned=reorg.orphaned)
        async with asyncio.timeout(self.config.sink_timeout):
            await self.sink.on_reorg(reorg)
        if self.config.reorg_policy is ReorgPolicy.HALT:
            raise SafetyHaltError(
                f"reorg of confirmed blocks {reorg.orphaned[0]}..{reorg.orphaned[1]} "
                f"(depth {reorg.depth}) on chain {self.config.chain_id}: do not force-resume"
            )
        return reorg.resume

    async def _find_fork(self, stale: Checkpoint, replaced_by: Hash32 | None) -> Reorg:
        async with asyncio.timeout(self.config.sink_timeout):
            stored = await self.sink.recent_checkpoints(self.config.checkpoint_history)
        checkpoints = [*reversed(self._unstored), *stored]  # newest first
        fork: Checkpoint | None = None
        for checkpoint in checkpoints:
            if checkpoint.number >= stale.number:
                continue
            block = await self.rpc.get_block(checkpoint.number)
            if block is not None and block.hash == checkpoint.hash:
                fork = checkpoint
                break
        low = self.config.start_block if fork is None else fork.number + 1
        resume = Cursor(low, fork)
        return Reorg(
            fork_point=fork,
            orphaned=(low, stale.number),
            depth=stale.number - low + 1,
            stale=stale,
            replaced_by=replaced_by,
            resume=resume,
        )

    # --- windows --------------------------------------------------------------------

    async def _scan_window(self, low: int, high: int, head: BlockRef) -> ScanBatch | None:
        """The window's events, or None when block ``high`` changed while they were read
        (its hash before and after the logs; "before" is the head read when it is the head)."""
        before = head if head.number == high else await self.rpc.get_block(high)
        entries = await self._fetch_logs(low, high)
        after = await self.rpc.get_block(high)
        if before is None or after is None or before.hash != after.hash:
            self.stats.races += 1
            return None
        events: dict[tuple[bytes, int], SourceEvent] = {}
        rejected = 0
        for entry in entries:
            try:  # first: is it ours at all? (a foreign log is rejected, not retried)
                event = self._decode(entry, low, high)
            except LogRejectedError as err:
                rejected += 1
                self.stats.rejections.append(err.reason)
                log.warning("log rejected", chain_id=self.config.chain_id, reason=err.reason)
                continue
            if entry.block_number == high and entry.block_hash != after.hash:
                self.stats.races += 1
                return None
            events.setdefault((entry.tx_hash, entry.log_index), event)
        ordered = tuple(sorted(events.values(), key=lambda e: (e.block_number, e.log_index)))
        self.stats.windows += 1
        self.stats.events += len(ordered)
        self.stats.rejected_logs += rejected
        self._grow_window()
        cursor = Cursor(high + 1, Checkpoint(high, after.hash))
        return ScanBatch(low, high, ordered, cursor, rejected)

    def _decode(self, entry: LogEntry, low: int, high: int) -> SourceEvent:
        if not low <= entry.block_number <= high:
            raise LogRejectedError(f"block {entry.block_number} outside window", entry)
        return self.decoder.decode(entry)

    async def _fetch_logs(self, low: int, high: int) -> list[LogEntry]:
        try:
            return await self.rpc.get_logs(self.config.contract, [self.decoder.topic0], low, high)
        except RpcNodeError as err:
            if low == high or not is_range_error(err.message):
                raise
        self.stats.bisections += 1
        self._window = max(1, min(self._window, (high - low + 1) // 2))
        self._good_windows = 0
        middle = (low + high) // 2
        return await self._fetch_logs(low, middle) + await self._fetch_logs(middle + 1, high)

    def _grow_window(self) -> None:
        if self._window >= self.config.max_window:
            return
        self._good_windows += 1
        if self._good_windows >= GROW_AFTER_WINDOWS:
            self._window = min(self.config.max_window, self._window * 2)
            self._good_windows = 0
