"""Learns what the destination did with transfers, whoever sent the transaction.

Every poll reads the destination contracts' ``Released`` / ``Unlocked``,
``ReleaseDelayed`` and ``ReleaseCancelled`` logs since the last poll, up to the chain's
confirmed head (its ``confirmation`` rule, read through the chain's ``SharedHead`` that
its watcher reads too: an outcome a reorg can still drop does not count); every
``sweep_interval_s`` it also asks ``statusOf`` at that confirmed head for each open or
delayed transfer, so nothing is missed across restarts or log gaps. A transfer seen
executed becomes ``released`` with the executing transaction's hash (the time since its
source confirmation feeds the latency histogram); one seen delayed becomes ``delayed``
with its ``executableAt``; one seen cancelled becomes ``cancelled``. The outcomes read in
one window of logs are applied in one writing transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from relayer.api.metrics import Metrics
from relayer.chain.bridge import (
    RELEASE_CANCELLED_TOPIC,
    RELEASE_DELAYED_TOPIC,
    RELEASED_TOPIC,
    UNLOCKED_TOPIC,
    BridgeContract,
    DestinationOutcome,
)
from relayer.chain.confirmation import SharedHead
from relayer.chain.rpc_types import LogEntry
from relayer.domain.transfer import (
    AlreadyReleased,
    CancelledOnDestination,
    DelayedOnDestination,
    ReleaseConfirmed,
    TransferStatus,
)
from relayer.domain.types import Hash32
from relayer.errors import RejectedInputError, RetryableError, RpcResponseError
from relayer.log import get_logger, transfer_logger
from relayer.service.processor import Processor
from relayer.store import TransferRecord
from relayer.wakeup import wait_for_wake

log = get_logger("settle")

OPEN = (
    TransferStatus.CONFIRMED,
    TransferStatus.REVIEW,
    TransferStatus.REFUSED,
    TransferStatus.ATTESTED,
    TransferStatus.QUORUM,
    TransferStatus.SUBMITTED,
    TransferStatus.VETOED,
)
UNSETTLED = (*OPEN, TransferStatus.DELAYED)  # the destination may still act on these
# an execution of these must never happen: the lifecycle halts if one is seen
ALARMING = (TransferStatus.CANCELLED, TransferStatus.REFUNDED)
TOPICS = [RELEASED_TOPIC, UNLOCKED_TOPIC, RELEASE_DELAYED_TOPIC, RELEASE_CANCELLED_TOPIC]


def outcome_of_log(entry: LogEntry) -> DestinationOutcome | None:
    """The lifecycle input a destination log stands for (None: not one of ours)."""
    if len(entry.topics) < 2:
        return None
    topic, transfer_id = entry.topics[0], Hash32(entry.topics[1])
    if topic in (RELEASED_TOPIC, UNLOCKED_TOPIC):
        return ReleaseConfirmed(transfer_id, entry.tx_hash)
    if topic == RELEASE_DELAYED_TOPIC and len(entry.data) >= 32:
        return DelayedOnDestination(transfer_id, int.from_bytes(entry.data[:32], "big"))
    if topic == RELEASE_CANCELLED_TOPIC:
        return CancelledOnDestination(transfer_id)
    return None


class Settler:
    """Marks transfers released when their destination executed them."""

    def __init__(
        self,
        processor: Processor,
        contracts: Mapping[int, BridgeContract],
        metrics: Metrics,
        *,
        poll_interval_s: float,
        sweep_interval_s: float,
        max_window: Mapping[int, int],
        heads: Mapping[int, SharedHead],
    ) -> None:
        self.processor = processor
        self.contracts = contracts
        self.metrics = metrics
        self.poll_interval_s = poll_interval_s
        self.sweep_interval_s = sweep_interval_s
        self.max_window = max_window
        self.heads = heads
        self._next_block: dict[int, int] = {}

    async def run(self) -> None:
        """Poll each destination's logs, waking when a chain pushes a new head (or every
        ``poll_interval_s`` where none does), and sweep every ``sweep_interval_s``. A chain
        whose live feed pushed nothing since its last poll is not polled."""
        wake = asyncio.Event()
        feeds = [h.feed for h in self.heads.values() if h.feed is not None]
        for each in feeds:
            each.listen(wake)
        polled_at: dict[int, int] = {}  # a chain's pushed-head count at its last good poll
        last_sweep = 0.0
        while True:
            try:
                for chain_id in self.contracts:
                    feed = self.heads[chain_id].feed
                    pushed = None if feed is None or not feed.live else feed.heads
                    if pushed is not None and polled_at.get(chain_id) == pushed:
                        continue
                    polled_at.pop(chain_id, None)
                    await self.poll_logs(chain_id)
                    if pushed is not None:
                        polled_at[chain_id] = pushed
                if time.monotonic() - last_sweep >= self.sweep_interval_s:
                    await self.sweep()
                    last_sweep = time.monotonic()
            except (RetryableError, RejectedInputError) as err:
                log.warning("settlement poll failed; retrying", error=str(err))
            every_chain_pushes = len(feeds) == len(self.heads) and all(f.live for f in feeds)
            wait_s = min(f.stale_after_s for f in feeds) if every_chain_pushes else None
            await wait_for_wake(wake, min(wait_s or self.poll_interval_s, self.sweep_interval_s))

    async def poll_logs(self, chain_id: int) -> int:
        """Apply outcomes logged since the last poll; returns how many changed a transfer."""
        contract = self.contracts[chain_id]
        head = await self.confirmed(chain_id)
        if head is None:
            return 0
        start = self._next_block.get(chain_id)
        if start is None:
            start = max(0, head - self.max_window[chain_id] + 1)
        found = 0
        while start <= head:
            end = min(head, start + self.max_window[chain_id] - 1)
            logs = await contract.rpc.get_logs(contract.address, [TOPICS], start, end)
            outcomes = [o for o in map(outcome_of_log, logs) if o is not None]
            found += await self.mark_all(outcomes, chain_id)
            start = end + 1
        self._next_block[chain_id] = start
        return found

    async def sweep(self) -> int:
        """Ask ``statusOf`` for every open or delayed transfer (the catch-all)."""
        store = self.processor.store
        async with store.reader() as tx:
            open_transfers = [
                r for s in UNSETTLED for r in await tx.transfers_by_status(s, limit=1000)
            ]
        found = 0
        heads: dict[int, int | None] = {}
        for rec in open_transfers:
            contract = self.contracts.get(rec.dst_chain_id)
            if contract is None:
                continue
            if rec.dst_chain_id not in heads:
                heads[rec.dst_chain_id] = await self.confirmed(rec.dst_chain_id)
            head = heads[rec.dst_chain_id]
            if head is None:
                continue
            try:  # one transfer's bad answer must not stop the sweep of the others
                status = await contract.status_of(rec.transfer_id, head)
                if status == 0:
                    continue
                outcome = await contract.outcome_for(
                    rec.transfer_id, status, head, self.max_window[rec.dst_chain_id]
                )
            except RpcResponseError as err:
                transfer_logger(
                    log, rec.transfer_id, rec.src_chain_id, rec.dst_chain_id, rec.status
                ).warning("settlement check failed", error=str(err))
                continue
            if outcome is None:
                transfer_logger(
                    log, rec.transfer_id, rec.src_chain_id, rec.dst_chain_id, rec.status
                ).warning(
                    "statusOf says executed but no log shows it; not counted",
                    status=status,
                    block=head,
                )
                continue
            if await self.mark(outcome, rec.dst_chain_id):
                found += 1
        return found

    async def confirmed(self, chain_id: int) -> int | None:
        """The number of the chain's confirmed head (None while no block is confirmed)."""
        block = await self.heads[chain_id].read()
        return None if block is None else block.number

    async def mark(self, outcome: DestinationOutcome, chain_id: int) -> bool:
        """Apply what the destination ``chain_id`` did to a known, unsettled transfer;
        False if it is unknown, already settled, or the input changed nothing."""
        return await self.mark_all([outcome], chain_id) == 1

    async def mark_all(self, outcomes: Sequence[DestinationOutcome], chain_id: int) -> int:
        """``mark`` each of ``outcomes`` read on ``chain_id``, in order, all in one writing
        transaction (a poll under load reads dozens of executions at once); returns how
        many changed a transfer. An outcome counts only on the transfer's own destination:
        a ``cancel`` signed under another chain's domain, by that chain's set, cancels an
        id there but never this transfer (else a refund could follow while the real
        destination can still execute it). An execution seen for a transfer already
        cancelled or refunded goes to the lifecycle too: it halts signing."""
        if not outcomes:
            return 0
        p = self.processor
        released: list[TransferRecord] = []
        changed = 0
        async with p.writer.transaction() as tx:
            for outcome in outcomes:
                tid = outcome.transfer_id
                rec = await tx.get_transfer(tid)
                if rec is None or rec.dst_chain_id != chain_id:
                    continue
                executed = isinstance(outcome, ReleaseConfirmed | AlreadyReleased)
                if rec.status not in UNSETTLED and not (executed and rec.status in ALARMING):
                    continue
                if (
                    isinstance(outcome, DelayedOnDestination)
                    and rec.status is TransferStatus.DELAYED
                ):
                    continue  # already known (a log seen again after a restart)
                await p.apply(tx, tid, outcome)
                after = await tx.get_transfer(tid)
                if after is None or after.status is rec.status:
                    continue
                changed += 1
                if isinstance(outcome, ReleaseConfirmed | AlreadyReleased):
                    released.append(rec)
        for rec in released:  # once committed
            p.note_released(rec)
        return changed
