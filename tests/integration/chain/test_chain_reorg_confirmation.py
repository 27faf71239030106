"""Reorgs (anvil_reorg) and confirmation rules on real nodes."""

from __future__ import annotations

import pytest
from chain_helpers import (
    emit_locked,
    locked_calldata,
    nonces,
    scan_until,
    signed_raw_tx,
    wait_receipt_block,
)

from relayer.chain.confirmation import (
    ConfirmationRule,
    ConfirmedHeadTracker,
    HeadAdvanced,
    HeadRegressed,
    SharedHead,
    confirmed_head,
)
from relayer.chain.events import BridgeEvent
from relayer.chain.rpc import RpcClient
from relayer.chain.scan import InMemorySink
from relayer.chain.watcher import EventWatcher, ReorgPolicy, WatcherConfig
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.devnet.emitter import DevSender, deploy_emitter
from relayer.devnet.waiting import eventually
from relayer.domain.types import Address
from relayer.errors import SafetyHaltError

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _raw_emit(
    anvil: AnvilNode, rpc: RpcClient, key: str, emitter: Address, nonce: int
) -> str:
    """A signed raw emitter call for anvil_reorg (the sender's next nonce on the new branch)."""
    return await signed_raw_tx(rpc, anvil.chain_id, key, emitter, locked_calldata(nonce))


def _config(emitter: Address, start: int, policy: ReorgPolicy) -> WatcherConfig:
    return WatcherConfig(
        contract=emitter,
        event=BridgeEvent.LOCKED,
        chain_id=31337,
        rule=ConfirmationRule.parse("depth:5"),
        start_block=start,
        max_window=4,
        poll_interval=0.1,
        reorg_policy=policy,
    )


async def test_unconfirmed_event_reorged_out_is_never_emitted(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    sender = DevSender(anvil_rpc, anvil_node.funded_keys[5], anvil_node.chain_id)
    start = await anvil_rpc.block_number() + 1
    emitter = await deploy_emitter(sender)
    for nonce in range(3):
        await wait_receipt_block(anvil_rpc, await emit_locked(sender, emitter, nonce))
    await anvil_node.mine(6)
    # will be reorged out before confirmation
    await wait_receipt_block(anvil_rpc, await emit_locked(sender, emitter, 100))
    sink = InMemorySink()
    watcher = EventWatcher(anvil_rpc, _config(emitter, start, ReorgPolicy.HALT), sink)
    await watcher.poll_once()
    assert nonces(sink.events) == [0, 1, 2]
    assert [e.nonce for e in await watcher.pending_events()] == [100]

    replacement = await _raw_emit(anvil_node, anvil_rpc, anvil_node.funded_keys[6], emitter, 200)
    await anvil_node.reorg(2, [(replacement, 0)])
    await anvil_node.mine(8)
    await scan_until(watcher, sink, await anvil_rpc.block_number() - 5, limit=10)
    assert nonces(sink.events) == [0, 1, 2, 200]
    assert sink.reorgs == []  # the reorg stayed above the confirmed head


async def test_reorg_below_the_cursor_is_reported_then_rescanned_or_halts(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    sender = DevSender(anvil_rpc, anvil_node.funded_keys[7], anvil_node.chain_id)
    start = await anvil_rpc.block_number() + 1
    emitter = await deploy_emitter(sender)
    for nonce in range(12):
        await wait_receipt_block(anvil_rpc, await emit_locked(sender, emitter, nonce))
    await anvil_node.mine(6)
    head = await anvil_rpc.block_number()
    sink = InMemorySink()
    watcher = EventWatcher(anvil_rpc, _config(emitter, start, ReorgPolicy.RESCAN), sink)
    await scan_until(watcher, sink, head - 5, limit=10)
    assert nonces(sink.events) == list(range(12))
    halting_sink = InMemorySink(cursor=sink.cursor, checkpoints=list(sink.checkpoints))
    halting = EventWatcher(anvil_rpc, _config(emitter, start, ReorgPolicy.HALT), halting_sink)

    # replace the last 12 blocks (deeper than depth:5): events 6..11 vanish, 300 appears
    replacement = await _raw_emit(anvil_node, anvil_rpc, anvil_node.funded_keys[8], emitter, 300)
    await anvil_node.reorg(12, [(replacement, 1)])
    await anvil_node.mine(6)
    await watcher.poll_once()
    assert len(sink.reorgs) == 1
    reorg = sink.reorgs[0]
    assert reorg.fork_point is not None
    assert reorg.fork_point.number <= head - 12
    assert reorg.orphaned[1] == reorg.stale.number
    assert reorg.depth >= 12 - 5
    await scan_until(watcher, sink, await anvil_rpc.block_number() - 5, limit=10)
    assert 300 in nonces(sink.events)
    assert all(e.block_number <= head - 12 for e in sink.events if e.nonce < 300)
    with pytest.raises(SafetyHaltError, match="do not force-resume"):
        await halting.poll_once()
    assert len(halting_sink.reorgs) == 1


async def test_anvil_safe_finalized_and_depth_rules(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    await anvil_node.mine(70)
    latest = await anvil_rpc.block_number()
    safe = await confirmed_head(anvil_rpc, ConfirmationRule.parse("safe"))
    final = await confirmed_head(anvil_rpc, ConfirmationRule.parse("finalized"))
    deep = await confirmed_head(anvil_rpc, ConfirmationRule.parse("depth:10"))
    assert safe is not None
    assert safe.number == latest - 32
    assert final is not None
    assert final.number == latest - 64
    assert deep is not None
    assert deep.number == latest - 10


async def test_confirmed_head_going_backwards_is_an_anomaly(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    tracker = ConfirmedHeadTracker(SharedHead(anvil_rpc, ConfirmationRule.parse("depth:2")))
    await anvil_node.mine(5)
    assert isinstance(await tracker.poll(), HeadAdvanced)
    await anvil_node.rollback(3)
    update = await tracker.poll()
    assert isinstance(update, HeadRegressed)
    assert update.current is not None
    assert update.current.number == update.previous.number - 3


async def test_conflux_safe_trails_head_depth_rule_and_finalized_stays_zero(
    conflux_node: ConfluxDevNode, conflux_rpc: RpcClient
) -> None:
    async def safe_above_zero() -> int | None:
        block = await confirmed_head(conflux_rpc, ConfirmationRule.parse("safe"))
        return block.number if block is not None and block.number > 0 else None

    safe = await eventually(safe_above_zero, limit=40, interval=0.2)
    latest = await conflux_rpc.block_number()
    assert 0 < safe < latest
    final = await confirmed_head(conflux_rpc, ConfirmationRule.parse("finalized"))
    assert final is not None
    assert final.number == 0
    deep = await confirmed_head(conflux_rpc, ConfirmationRule.parse("depth:20"))
    assert deep is not None
    assert latest - 20 <= deep.number <= latest
