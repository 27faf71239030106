"""Learns when transfers are executed on their destination, by anyone.

Every poll reads the destination contracts' ``Released`` / ``Unlocked`` logs since the
last poll, up to the chain's confirmed head (its ``confirmation`` rule: an execution a
reorg can still drop does not count); every ``sweep_interval_s`` it also asks
``isProcessed`` at that confirmed head for each unreleased transfer, so nothing is missed
across restarts or log gaps. A transfer seen executed becomes ``released`` with the executing
transaction's hash, and the time since its source confirmation feeds the latency
histogram.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from relayer.api.metrics import Metrics
from relayer.chain.confirmation import ConfirmationRule, confirmed_head
from relayer.domain.transfer import AlreadyReleased, ReleaseConfirmed, TransferStatus
from relayer.domain.types import Hash32, hex32
from relayer.errors import RetryableError, RpcResponseError
from relayer.log import get_logger
from relayer.service.contracts import RELEASED_TOPIC, UNLOCKED_TOPIC, BridgeContract
from relayer.service.processor import Processor

log = get_logger("settle")

OPEN = (
    TransferStatus.CONFIRMED,
    TransferStatus.REFUSED,
    TransferStatus.ATTESTED,
    TransferStatus.QUORUM,
    TransferStatus.SUBMITTED,
)


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
        rules: Mapping[int, ConfirmationRule],
    ) -> None:
        self.processor = processor
        self.contracts = contracts
        self.metrics = metrics
        self.poll_interval_s = poll_interval_s
        self.sweep_interval_s = sweep_interval_s
        self.max_window = max_window
        self.rules = rules
        self._next_block: dict[int, int] = {}

    async def run(self) -> None:
        last_sweep = 0.0
        while True:
            try:
                for chain_id in self.contracts:
                    await self.poll_logs(chain_id)
                if time.monotonic() - last_sweep >= self.sweep_interval_s:
                    await self.sweep()
                    last_sweep = time.monotonic()
            except (RetryableError, RpcResponseError) as err:
                log.warning("settlement poll failed; retrying", error=str(err))
            await asyncio.sleep(self.poll_interval_s)

    async def poll_logs(self, chain_id: int) -> int:
        """Apply executions logged since the last poll; returns how many were new."""
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
            logs = await contract.rpc.get_logs(
                contract.address, [[RELEASED_TOPIC, UNLOCKED_TOPIC]], start, end
            )
            for entry in logs:
                if len(entry.topics) >= 2 and await self.mark_released(
                    Hash32(entry.topics[1]), entry.tx_hash
                ):
                    found += 1
            start = end + 1
        self._next_block[chain_id] = start
        return found

    async def sweep(self) -> int:
        """Ask ``isProcessed`` for every open transfer (the catch-all)."""
        store = self.processor.store
        async with store.reader() as tx:
            open_transfers = [r for s in OPEN for r in await tx.transfers_by_status(s, limit=1000)]
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
                if not await contract.is_processed(rec.transfer_id, head):
                    continue
                execution = await contract.executed_at(
                    rec.transfer_id, head, self.max_window[rec.dst_chain_id]
                )
            except RpcResponseError as err:
                log.warning(
                    "settlement check failed", transfer_id=hex32(rec.transfer_id), error=str(err)
                )
                continue
            if execution is None:
                log.warning(
                    "isProcessed says executed but no log shows it; not counted",
                    transfer_id=hex32(rec.transfer_id),
                    dst_chain_id=rec.dst_chain_id,
                    block=head,
                )
                continue
            if await self.mark_released(rec.transfer_id, execution.tx_hash):
                found += 1
        return found

    async def confirmed(self, chain_id: int) -> int | None:
        """The number of the chain's confirmed head (None while no block is confirmed)."""
        block = await confirmed_head(self.contracts[chain_id].rpc, self.rules[chain_id])
        return None if block is None else block.number

    async def mark_released(self, transfer_id: Hash32, tx_hash: Hash32 | None) -> bool:
        """Move a known, open transfer to ``released``; False if unknown or already so."""
        p = self.processor
        async with p.lock, p.store.transaction() as tx:
            rec = await tx.get_transfer(transfer_id)
            if rec is None or rec.status not in OPEN:
                return False
            executed = (
                AlreadyReleased(transfer_id)
                if tx_hash is None
                else ReleaseConfirmed(transfer_id, tx_hash)
            )
            await p.apply(tx, transfer_id, executed)
        p.note_released(rec)
        return True
