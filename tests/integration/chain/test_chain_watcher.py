"""The event watcher against real nodes: windows, cursor restarts, bisection, rejections."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import pytest
from chain_helpers import (
    TEST_RETRY,
    emit_locked,
    nonces,
    scan_until,
    signed_raw_tx,
    wait_receipt_block,
)

from relayer.chain.confirmation import ConfirmationRule
from relayer.chain.events import BridgeEvent
from relayer.chain.rpc import RpcClient
from relayer.chain.scan import InMemorySink
from relayer.chain.watcher import EventWatcher, ReorgPolicy, WatcherConfig
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.devnet.emitter import DevSender, deploy_emitter
from relayer.devnet.faultproxy import Fault, FaultProxy
from relayer.devnet.waiting import eventually
from relayer.domain.types import Address

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _config(contract: Address, chain_id: int, start: int, rule: str, **kw: Any) -> WatcherConfig:
    return WatcherConfig(
        contract=contract,
        event=BridgeEvent.LOCKED,
        chain_id=chain_id,
        rule=ConfirmationRule.parse(rule),
        start_block=start,
        max_window=kw.pop("max_window", 7),
        poll_interval=0.1,
        **kw,
    )


async def _anvil_events(
    anvil_node: AnvilNode, rpc: RpcClient, key_index: int, count: int
) -> tuple[Address, int, int]:
    """Deploy an emitter, emit ``count`` Locked events over > 50 blocks; (emitter, first, last)."""
    sender = DevSender(rpc, anvil_node.funded_keys[key_index], anvil_node.chain_id)
    start = await rpc.block_number() + 1
    emitter = await deploy_emitter(sender)
    sent = []
    for nonce in range(count):
        sent.append(await emit_locked(sender, emitter, nonce))
        if nonce % 3 == 0:
            await anvil_node.mine(1 + nonce % 2)
    # the last sends may still be pending: wait for every receipt, not the head
    last = max([await wait_receipt_block(rpc, tx) for tx in sent])
    await anvil_node.mine(10)  # confirm everything under depth:3
    assert count < 40 or last - start > 50
    return emitter, start, last


async def test_anvil_small_windows_no_gap_no_duplicate_and_restart(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    emitter, start, last = await _anvil_events(anvil_node, anvil_rpc, 1, 45)
    config = _config(emitter, anvil_node.chain_id, start, "depth:3")
    sink = InMemorySink()
    watcher = EventWatcher(anvil_rpc, config, sink)
    await scan_until(watcher, sink, last, limit=30)
    assert nonces(sink.events) == list(range(45))
    assert all(b.to_block - b.from_block < 7 for b in sink.batches)
    spans = [(b.from_block, b.to_block) for b in sink.batches]
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))  # no gap

    # restart from a cursor stored mid-way: the union is the same set, once each
    middle = sink.batches[len(sink.batches) // 2]
    kept = [e for e in sink.events if e.block_number <= middle.to_block]
    resumed = InMemorySink(cursor=middle.cursor, events=list(kept))
    watcher2 = EventWatcher(anvil_rpc, config, resumed)
    await scan_until(watcher2, resumed, last, limit=30)
    assert nonces(resumed.events) == list(range(45))
    assert resumed.events == sink.events


async def test_anvil_bisects_windows_a_node_rejects(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    emitter, start, last = await _anvil_events(anvil_node, anvil_rpc, 2, 20)
    async with FaultProxy.running(anvil_node.rpc_url) as proxy:
        proxy.reject_log_ranges_over(3)
        proxy.fail_next("eth_getLogs", Fault.http(503), times=2)  # transient: retried
        proxy.fail_next("eth_blockNumber", Fault.rpc_error(-32005, "rate limit exceeded"))
        async with RpcClient(proxy.url, timeout=5, retry=TEST_RETRY) as rpc:
            sink = InMemorySink()
            watcher = EventWatcher(
                rpc, _config(emitter, anvil_node.chain_id, start, "depth:3"), sink
            )
            await scan_until(watcher, sink, last, limit=30)
        assert nonces(sink.events) == list(range(20))
        assert watcher.stats.bisections > 0
        assert proxy.faults["eth_getLogs"] > 2


async def test_log_from_another_contract_is_rejected_and_counted(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    emitter, start, last = await _anvil_events(anvil_node, anvil_rpc, 3, 3)
    raw = await anvil_rpc.request(
        "eth_getLogs",
        [{"fromBlock": hex(start), "toBlock": hex(last), "address": "0x" + emitter.hex()}],
    )
    forged = dict(raw[0], address="0x" + "ee" * 20)
    async with FaultProxy.running(anvil_node.rpc_url) as proxy:

        def inject(method: str, params: list[Any]) -> Fault | None:
            if method == "eth_getLogs" and int(params[0]["fromBlock"], 16) <= int(
                forged["blockNumber"], 16
            ) <= int(params[0]["toBlock"], 16):
                proxy.rules.remove(inject)
                return Fault.replace_result([*raw_in_window(params), forged])
            return None

        def raw_in_window(params: list[Any]) -> list[Any]:
            low, high = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            return [r for r in raw if low <= int(r["blockNumber"], 16) <= high]

        proxy.add(inject)
        async with RpcClient(proxy.url, timeout=5, retry=TEST_RETRY) as rpc:
            sink = InMemorySink()
            watcher = EventWatcher(
                rpc, _config(emitter, anvil_node.chain_id, start, "depth:3"), sink
            )
            await scan_until(watcher, sink, last, limit=30)
    assert nonces(sink.events) == [0, 1, 2]
    assert watcher.stats.rejected_logs == 1
    assert "emitted by" in watcher.stats.rejections[0]


async def test_run_loop_emits_as_blocks_confirm(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    emitter, start, _ = await _anvil_events(anvil_node, anvil_rpc, 4, 5)
    sink = InMemorySink()
    watcher = EventWatcher(anvil_rpc, _config(emitter, anvil_node.chain_id, start, "depth:3"), sink)
    task = asyncio.create_task(watcher.run())
    try:
        await eventually(lambda: _async(len(sink.events) == 5), limit=15)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _async(value: bool) -> bool:
    return value


async def test_conflux_small_windows_no_gap_no_duplicate_and_restart(
    conflux_node: ConfluxDevNode, conflux_rpc: RpcClient
) -> None:
    sender = DevSender(conflux_rpc, conflux_node.funded_keys[1], conflux_node.chain_id)
    emitter = await deploy_emitter(sender)
    start = await conflux_rpc.block_number()
    last_tx = b""
    for group in range(6):  # events spread over > 50 blocks (4 blocks/s, txs every 5th)
        mark = await conflux_rpc.block_number()
        for i in range(4):
            last_tx = await emit_locked(sender, emitter, group * 4 + i)

        async def advanced(mark: int = mark) -> bool:
            return await conflux_rpc.block_number() >= mark + 10

        await eventually(advanced, limit=20, interval=0.1)
    last = await wait_receipt_block(conflux_rpc, last_tx)
    assert last - start > 50
    config = _config(emitter, conflux_node.chain_id, start, "depth:10")
    sink = InMemorySink()
    watcher = EventWatcher(conflux_rpc, config, sink)
    await scan_until(watcher, sink, last, limit=30)
    assert sorted(nonces(sink.events)) == list(range(24))
    assert len({(e.tx_hash, e.log_index) for e in sink.events}) == 24

    middle = sink.batches[len(sink.batches) // 2]
    kept = [e for e in sink.events if e.block_number <= middle.to_block]
    resumed = InMemorySink(cursor=middle.cursor, events=list(kept))
    await scan_until(EventWatcher(conflux_rpc, config, resumed), resumed, last, limit=30)
    assert resumed.events == sink.events


async def test_quiet_windows_stay_in_memory_and_a_reorg_below_them_is_still_found(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    """With ``cursor_flush_s``, windows without events do not reach the sink (no write per
    block), windows with events do at once, and the fork search also walks the in-memory
    checkpoints: a reorg of blocks only the watcher's memory knows is found there."""
    sender = DevSender(anvil_rpc, anvil_node.funded_keys[4], anvil_node.chain_id)
    start = await anvil_rpc.block_number() + 1
    emitter = await deploy_emitter(sender)
    for nonce in range(2):
        await wait_receipt_block(anvil_rpc, await emit_locked(sender, emitter, nonce))
    await anvil_node.mine(5)
    config = _config(
        emitter,
        anvil_node.chain_id,
        start,
        "depth:2",
        cursor_flush_s=3600.0,
        reorg_policy=ReorgPolicy.RESCAN,
    )
    sink = InMemorySink()
    watcher = EventWatcher(anvil_rpc, config, sink)

    async def scanned_past(block: int) -> bool:
        await watcher.poll_once()
        return watcher.stats.next_block is not None and watcher.stats.next_block > block

    await eventually(lambda: scanned_past(start + 3), 10, 0.1)
    assert nonces(sink.events) == [0, 1]
    stored = sink.cursor
    assert stored is not None
    batches = len(sink.batches)
    await anvil_node.mine(30)  # empty blocks
    head = await anvil_rpc.block_number()
    await eventually(lambda: scanned_past(head - 2), 10, 0.1)
    assert len(sink.batches) == batches, "a window without events was written"
    assert sink.cursor == stored and watcher.stats.next_block > stored.next_block + 20

    # replace blocks only the watcher's memory has seen (a transaction makes them differ)
    raw = await signed_raw_tx(anvil_rpc, anvil_node.chain_id, anvil_node.funded_keys[4], emitter)
    await anvil_node.reorg(6, [(raw, 0)])
    await anvil_node.mine(3)
    await watcher.poll_once()
    (reorg,) = sink.reorgs
    assert reorg.fork_point is not None
    assert reorg.fork_point.number > stored.next_block, "the fork came from a stored checkpoint"
    assert reorg.fork_point.number <= head - 6
    after = await anvil_rpc.block_number()
    await eventually(lambda: scanned_past(after - 2), 10, 0.1)  # rescanned from the fork
    assert nonces(sink.events) == [0, 1]


async def test_one_new_block_is_checked_by_its_parent_and_a_replaced_parent_is_still_found(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    """When the confirmed head is the block right after the scan cursor, its parent hash is
    the reorg check (no read of the cursor's block); a cursor block replaced meanwhile gives
    another parent hash, so the check reads it and finds the reorg."""
    sender = DevSender(anvil_rpc, anvil_node.funded_keys[5], anvil_node.chain_id)
    start = await anvil_rpc.block_number() + 1
    emitter = await deploy_emitter(sender)
    await anvil_node.mine(3)
    config = _config(
        emitter, anvil_node.chain_id, start, "depth:1", reorg_policy=ReorgPolicy.RESCAN
    )
    sink = InMemorySink()
    watcher = EventWatcher(anvil_rpc, config, sink)
    head = await anvil_rpc.block_number()
    await scan_until(watcher, sink, head - 1, limit=10)
    cursor_block = watcher.stats.next_block - 1
    asked: list[int | str] = []
    real_get_block = anvil_rpc.get_block

    async def counting(number: Any, *args: Any, **kw: Any) -> Any:
        asked.append(number)
        return await real_get_block(number, *args, **kw)

    anvil_rpc.get_block = counting  # type: ignore[method-assign]
    try:
        await anvil_node.mine(1)
        await watcher.poll_once()
        assert watcher.stats.next_block == cursor_block + 2  # it scanned the new block
        assert cursor_block not in asked  # checked through the new block's parent hash
        assert sink.reorgs == []

        raw = await signed_raw_tx(
            anvil_rpc, anvil_node.chain_id, anvil_node.funded_keys[5], emitter
        )
        await anvil_node.reorg(2, [(raw, 0)])  # replaces the scanned blocks
        await anvil_node.mine(1)
        await watcher.poll_once()
        assert len(sink.reorgs) == 1
    finally:
        anvil_rpc.get_block = real_get_block  # type: ignore[method-assign]
