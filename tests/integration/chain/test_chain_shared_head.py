"""One confirmed-head read per chain and poll, shared by its readers, on a real anvil.

Requests are counted by a pass-through ``FaultProxy`` rule (it answers nothing itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from chain_helpers import TEST_RETRY

from relayer.chain.confirmation import ConfirmationRule, SharedHead
from relayer.chain.events import BridgeEvent
from relayer.chain.rpc import RpcClient
from relayer.chain.scan import InMemorySink
from relayer.chain.watcher import EventWatcher, WatcherConfig
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.faultproxy import Fault, FaultProxy
from relayer.domain.types import Address

pytestmark = pytest.mark.asyncio(loop_scope="session")
DEPTH_2 = ConfirmationRule.parse("depth:2")


class Counted:
    """An RPC client through a proxy that records every method it forwards."""

    def __init__(self, proxy: FaultProxy, rpc: RpcClient) -> None:
        self.proxy = proxy
        self.rpc = rpc
        self.calls: list[str] = []

        def record(method: str, _params: list[Any]) -> Fault | None:
            self.calls.append(method)
            return None

        proxy.add(record)


@pytest_asyncio.fixture(loop_scope="session")
async def counted(anvil_node: AnvilNode) -> AsyncIterator[Counted]:
    async with (
        FaultProxy.running(anvil_node.rpc_url) as proxy,
        RpcClient(proxy.url, timeout=5, retry=TEST_RETRY) as rpc,
    ):
        yield Counted(proxy, rpc)


async def test_readers_queued_behind_a_read_share_the_next_one(
    anvil_node: AnvilNode, counted: Counted
) -> None:
    await anvil_node.mine(3)
    head = SharedHead(counted.rpc, DEPTH_2)  # max_age 0: never a read older than the ask
    reads = await asyncio.gather(*(head.read() for _ in range(5)))
    assert len({r for r in reads}) == 1
    # the first read, then one for the four that asked while it was in flight
    assert head.reads == 2
    assert counted.calls == ["eth_blockNumber", "eth_getBlockByNumber"] * 2
    await anvil_node.mine(1)
    after = await head.read()  # asked after those reads: a fresh one
    assert head.reads == 3
    assert after is not None and reads[0] is not None
    assert after.number == reads[0].number + 1


async def test_a_read_younger_than_max_age_is_shared(
    anvil_node: AnvilNode, counted: Counted
) -> None:
    await anvil_node.mine(3)
    head = SharedHead(counted.rpc, DEPTH_2, max_age_s=3600)
    first = await head.read()
    await anvil_node.mine(1)
    assert await head.read() == first  # by contract: up to max_age_s old
    assert head.reads == 1
    with pytest.raises(ValueError, match="max_age_s"):
        SharedHead(counted.rpc, DEPTH_2, max_age_s=-1)


def _config(start: int) -> WatcherConfig:
    return WatcherConfig(
        contract=Address(bytes.fromhex("ab" * 20)),
        event=BridgeEvent.LOCKED,
        chain_id=31337,
        rule=DEPTH_2,
        start_block=start,
        max_window=50,
        poll_interval=0.1,
    )


async def test_idle_watchers_on_one_chain_ask_only_for_the_head_once(
    anvil_node: AnvilNode, counted: Counted
) -> None:
    start = await counted.rpc.block_number()
    await anvil_node.mine(4)
    head = SharedHead(counted.rpc, DEPTH_2, max_age_s=3600)
    first = EventWatcher(counted.rpc, _config(start), InMemorySink(), head)
    second = EventWatcher(counted.rpc, _config(start), InMemorySink(), head)
    assert await first.poll_once() == 0
    assert await second.poll_once() == 0  # caught up: the cursor is at the confirmed head
    caught_up = head.reads
    counted.calls.clear()
    await first.poll_once()
    await second.poll_once()
    # nothing new: the shared head (read once already) is the reorg check; no logs asked
    assert counted.calls == []
    assert head.reads == caught_up
    fresh = SharedHead(counted.rpc, DEPTH_2)
    third = EventWatcher(counted.rpc, _config(start), InMemorySink(), fresh)
    await third.poll_once()
    counted.calls.clear()
    await third.poll_once()
    assert counted.calls == ["eth_blockNumber", "eth_getBlockByNumber"]
    with pytest.raises(ValueError, match="shared head"):
        EventWatcher(
            counted.rpc,
            _config(start),
            InMemorySink(),
            SharedHead(counted.rpc, ConfirmationRule.parse("safe")),
        )
