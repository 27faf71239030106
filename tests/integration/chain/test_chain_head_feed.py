"""Pushed new heads (``eth_subscribe("newHeads")``): on the session anvil and conflux-rust
node for real, and against a scripted WebSocket endpoint on loopback for what a real node
will not do on demand (junk, silence, a refusal, a dropped connection)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from chain_helpers import TEST_RETRY
from test_chain_shared_head import DEPTH_2, Counted

from relayer.chain.confirmation import SharedHead
from relayer.chain.events import BridgeEvent
from relayer.chain.heads import HeadFeed
from relayer.chain.rpc import RpcClient
from relayer.chain.scan import InMemorySink
from relayer.chain.watcher import EventWatcher, WatcherConfig
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.devnet.faultproxy import FaultProxy
from relayer.devnet.waiting import eventually
from relayer.domain.types import Address

pytestmark = pytest.mark.asyncio(loop_scope="session")
SUBSCRIPTION = "0x9ce59a13059e417087c02d3236a0b1cc"


@asynccontextmanager
async def following(feed: HeadFeed) -> AsyncIterator[HeadFeed]:
    """``feed.run()`` as a task for the block's duration."""
    task = asyncio.create_task(feed.run())
    try:
        yield feed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_anvil_pushes_each_mined_block_and_wakes_listeners(anvil_node: AnvilNode) -> None:
    feed = HeadFeed(anvil_node.ws_url, timeout_s=5, stale_after_s=30)
    wake = feed.listen()
    async with following(feed):
        await eventually(lambda: _true(feed.subscriptions == 1), 10)
        before = feed.heads
        await anvil_node.mine(1)
        await asyncio.wait_for(wake.wait(), 10)
        async with RpcClient(anvil_node.rpc_url, timeout=5, retry=TEST_RETRY) as rpc:
            assert feed.latest is not None and feed.live
            assert feed.latest.number == await rpc.block_number()
            assert feed.latest == await rpc.get_block(feed.latest.number)
        assert feed.heads == before + 1
        assert feed.latest_number() == feed.latest.number


async def test_shared_head_takes_the_pushed_number_and_rereads_after_a_new_head(
    anvil_node: AnvilNode,
) -> None:
    async with (
        FaultProxy.running(anvil_node.rpc_url) as proxy,
        RpcClient(proxy.url, timeout=5, retry=TEST_RETRY) as rpc,
    ):
        counted = Counted(proxy, rpc)
        feed = HeadFeed(anvil_node.ws_url, timeout_s=5, stale_after_s=30)
        wake = feed.listen()
        async with following(feed):
            await eventually(lambda: _true(feed.subscriptions == 1), 10)
            await anvil_node.mine(3)
            newest = await anvil_node.request("eth_blockNumber")
            await eventually(lambda: _true(feed.latest_number() == int(newest, 16)), 10)
            counted.calls.clear()
            head = SharedHead(rpc, DEPTH_2, max_age_s=3600, feed=feed)
            first = await head.read()
            assert counted.calls == ["eth_getBlockByNumber"]  # no eth_blockNumber
            assert await head.read() == first and head.reads == 1  # shared: no new head
            wake.clear()
            await anvil_node.mine(1)
            await asyncio.wait_for(wake.wait(), 10)
            second = await head.read()  # a newer head was pushed: not shared, however young
            assert first is not None and second is not None
            assert second.number == first.number + 1 and head.reads == 2


async def test_a_watcher_with_a_feed_scans_each_pushed_block_not_each_poll(
    anvil_node: AnvilNode,
) -> None:
    async with RpcClient(anvil_node.rpc_url, timeout=5, retry=TEST_RETRY) as rpc:
        feed = HeadFeed(anvil_node.ws_url, timeout_s=5, stale_after_s=30)
        start = await rpc.block_number()
        config = WatcherConfig(
            contract=Address(bytes.fromhex("cd" * 20)),
            event=BridgeEvent.LOCKED,
            chain_id=anvil_node.chain_id,
            rule=DEPTH_2,
            start_block=start,
            poll_interval=600,  # a poll would come far too late: only a push can wake it
        )
        watcher = EventWatcher(rpc, config, InMemorySink(), SharedHead(rpc, DEPTH_2, feed=feed))
        async with following(feed):
            await eventually(lambda: _true(feed.subscriptions == 1), 10)
            await anvil_node.mine(1)
            await eventually(lambda: _true(feed.live), 10)
            task = asyncio.create_task(watcher.run())
            try:
                for _ in range(3):
                    await anvil_node.mine(1)
                    await eventually(_scanned_to(watcher, await rpc.block_number() - 2), 10)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        assert watcher.stats.poll_failures == 0


async def test_conflux_espace_pushes_its_epochs(conflux_node: ConfluxDevNode) -> None:
    feed = HeadFeed(conflux_node.ws_url, timeout_s=5, stale_after_s=30)
    async with following(feed), RpcClient(conflux_node.rpc_url, timeout=5) as rpc:
        await eventually(lambda: _true(feed.heads >= 4), 20)
        latest = feed.latest
        assert latest is not None and feed.live
        assert abs(await rpc.block_number() - latest.number) <= 8  # 250 ms blocks
        block = await rpc.get_block(latest.number)  # the pushed header has no base fee
        assert block is not None and (block.hash, block.parent_hash) == (
            latest.hash,
            latest.parent_hash,
        )


# --- a scripted endpoint -------------------------------------------------------------


def _header(number: int) -> dict[str, Any]:
    return {
        "number": hex(number),
        "hash": "0x" + number.to_bytes(32, "big").hex(),
        "parentHash": "0x" + (number - 1).to_bytes(32, "big").hex(),
        "timestamp": hex(1_700_000_000 + number),
    }


class ScriptedNode:
    """A loopback WebSocket endpoint that answers ``eth_subscribe`` and pushes what the test
    says, on the connection most recently opened."""

    def __init__(self) -> None:
        self.refuse = False
        self.connections = 0
        self.subscribed = asyncio.Event()
        self.url = ""
        self._ws: web.WebSocketResponse | None = None

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        ask = await ws.receive()
        assert ask.type is WSMsgType.TEXT
        request_id = json.loads(ask.data)["id"]
        if self.refuse:
            error = {"code": -32601, "message": "subscriptions are not supported"}
            await ws.send_json({"jsonrpc": "2.0", "id": request_id, "error": error})
        else:
            await ws.send_json({"jsonrpc": "2.0", "id": request_id, "result": SUBSCRIPTION})
            self._ws = ws
            self.subscribed.set()
        async for _ in ws:  # hold the connection until either side closes it
            pass
        return ws

    async def push(self, number: int, subscription: str = SUBSCRIPTION) -> None:
        params = {"subscription": subscription, "result": _header(number)}
        await self.send({"jsonrpc": "2.0", "method": "eth_subscription", "params": params})

    async def send(self, message: Any) -> None:
        assert self._ws is not None
        await self._ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def drop(self) -> None:
        assert self._ws is not None
        self.subscribed.clear()
        await self._ws.close()


@asynccontextmanager
async def scripted() -> AsyncIterator[ScriptedNode]:
    node = ScriptedNode()
    app = web.Application()
    app.router.add_get("/", node.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    node.url = f"ws://{host}:{port}/"
    try:
        yield node
    finally:
        await runner.cleanup()


async def test_junk_and_foreign_notifications_are_counted_and_skipped() -> None:
    async with scripted() as node:
        feed = HeadFeed(node.url, timeout_s=5, stale_after_s=30)
        async with following(feed):
            await asyncio.wait_for(node.subscribed.wait(), 10)
            await node.send("{not json")
            await node.send({"jsonrpc": "2.0", "method": "eth_subscription", "params": "x"})
            await node.push(7, subscription="0xother")
            await node.send({"jsonrpc": "2.0", "method": "eth_subscription", "params": {
                "subscription": SUBSCRIPTION, "result": {"number": "0x8"}}})  # fmt: skip
            await node.push(9)
            await eventually(lambda: _true(feed.heads == 1), 10)
            assert feed.rejected == 4
            assert feed.latest is not None and feed.latest.number == 9 and feed.live
            assert node.connections == 1  # bad messages do not cost the connection


async def test_a_silent_feed_goes_down_wakes_its_listeners_and_reconnects() -> None:
    async with scripted() as node:
        feed = HeadFeed(node.url, timeout_s=5, stale_after_s=0.5, max_backoff_s=0.2)
        wake = feed.listen()
        async with following(feed):
            await asyncio.wait_for(node.subscribed.wait(), 10)
            await node.push(1)
            await asyncio.wait_for(wake.wait(), 10)
            assert feed.live and feed.latest_number() == 1
            wake.clear()
            await asyncio.wait_for(wake.wait(), 10)  # silence: woken when it goes down
            assert not feed.live and feed.latest_number() is None
            await eventually(lambda: _true(node.connections == 2 and node.subscribed.is_set()), 10)
            wake.clear()
            await node.push(2)
            await asyncio.wait_for(wake.wait(), 10)
            assert feed.live and feed.latest_number() == 2 and feed.subscriptions == 2
            await node.drop()  # the node closes the socket: down at once, then back
            await eventually(lambda: _true(not feed.live), 10)
            await eventually(lambda: _true(node.connections == 3 and node.subscribed.is_set()), 10)


async def test_a_refused_subscription_or_no_endpoint_leaves_the_feed_down() -> None:
    async with scripted() as node:
        node.refuse = True
        feed = HeadFeed(node.url, timeout_s=5, stale_after_s=30, max_backoff_s=0.2)
        async with following(feed):
            await eventually(lambda: _true(node.connections >= 2), 10)  # it keeps trying
            assert not feed.live and feed.subscriptions == 0 and feed.latest_number() is None
    with pytest.raises(ValueError, match="ws://"):
        HeadFeed("http://127.0.0.1:1", timeout_s=5, stale_after_s=30)


async def _true(value: bool) -> bool:
    return value


def _scanned_to(watcher: EventWatcher, block: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return watcher.stats.next_block == block + 1

    return probe
