"""Pushed new heads (``eth_subscribe("newHeads")``): on the session anvil and conflux-rust
node for real, and against a scripted WebSocket endpoint on loopback for what a real node
will not do on demand (junk, silence, a refusal, a dropped connection)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from chain_helpers import TEST_RETRY
from test_chain_shared_head import DEPTH_2, Counted

from relayer.chain.confirmation import SharedHead, confirmed_head
from relayer.chain.events import BridgeEvent
from relayer.chain.heads import HeadFeed
from relayer.chain.rpc import RpcClient
from relayer.chain.scan import InMemorySink
from relayer.chain.watcher import EventWatcher, WatcherConfig
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.devnet.faultproxy import FaultProxy
from relayer.devnet.waiting import eventually
from relayer.domain.types import Address, Hash32

pytestmark = pytest.mark.asyncio(loop_scope="session")
SUBSCRIPTION = "0x9ce59a13059e417087c02d3236a0b1cc"
CHAIN = 31337  # the scripted endpoint's chain


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
    feed = HeadFeed(anvil_node.ws_url, chain_id=anvil_node.chain_id, timeout_s=5, stale_after_s=30)
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
        assert feed.latest_head() == feed.latest


async def test_shared_head_takes_the_pushed_number_and_rereads_after_a_new_head(
    anvil_node: AnvilNode,
) -> None:
    async with (
        FaultProxy.running(anvil_node.rpc_url) as proxy,
        RpcClient(proxy.url, timeout=5, retry=TEST_RETRY) as rpc,
    ):
        counted = Counted(proxy, rpc)
        feed = HeadFeed(
            anvil_node.ws_url, chain_id=anvil_node.chain_id, timeout_s=5, stale_after_s=30
        )
        wake = feed.listen()
        async with following(feed):
            await eventually(lambda: _true(feed.subscriptions == 1), 10)
            await anvil_node.mine(3)
            newest = await anvil_node.request("eth_blockNumber")
            await eventually(lambda: _true(_number(feed) == int(newest, 16)), 10)
            counted.calls.clear()
            head = SharedHead(rpc, DEPTH_2, max_age_s=3600, feed=feed)
            first = await head.read()
            # the pushed head, confirmed by the HTTP node, then the block 2 below it
            assert counted.calls == ["eth_getBlockByNumber"] * 2  # no eth_blockNumber
            assert await head.read() == first and head.reads == 1  # shared: no new head
            wake.clear()
            await anvil_node.mine(1)
            await asyncio.wait_for(wake.wait(), 10)
            second = await head.read()  # a newer head was pushed: not shared, however young
            assert first is not None and second is not None
            assert second.number == first.number + 1 and head.reads == 2


async def test_a_pushed_head_the_http_node_does_not_hold_is_not_counted_from(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    """A socket ahead of the HTTP node (or lying) cannot shorten the depth."""
    await anvil_node.mine(3)
    honest = await confirmed_head(anvil_rpc, DEPTH_2)
    latest = await anvil_rpc.get_block(await anvil_rpc.block_number())
    assert honest is not None and latest is not None
    ahead = dataclasses.replace(latest, number=latest.number + 50)
    forged = dataclasses.replace(latest, hash=Hash32(bytes(32)))
    for pushed in (ahead, forged):
        assert await confirmed_head(anvil_rpc, DEPTH_2, pushed) == honest
    assert await confirmed_head(anvil_rpc, DEPTH_2, latest) == honest  # the same block: taken


async def test_a_watcher_with_a_feed_scans_each_pushed_block_not_each_poll(
    anvil_node: AnvilNode,
) -> None:
    async with RpcClient(anvil_node.rpc_url, timeout=5, retry=TEST_RETRY) as rpc:
        feed = HeadFeed(
            anvil_node.ws_url, chain_id=anvil_node.chain_id, timeout_s=5, stale_after_s=30
        )
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
    feed = HeadFeed(
        conflux_node.ws_url, chain_id=conflux_node.chain_id, timeout_s=5, stale_after_s=30
    )
    async with following(feed), RpcClient(conflux_node.rpc_url, timeout=5) as rpc:
        await eventually(lambda: _true(feed.heads >= 4), 20)
        latest = feed.latest
        assert latest is not None and feed.live
        assert abs(await rpc.block_number() - latest.number) <= 40  # 250 ms blocks
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
    """A loopback WebSocket endpoint that answers ``eth_chainId`` and ``eth_subscribe`` and
    pushes what the test says, on the connection most recently opened."""

    def __init__(self) -> None:
        self.chain_id = CHAIN
        self.refuse = False
        self.first_head: int | None = None  # pushed at once on each subscription, + its count
        self.connections = 0
        self.subscribed = asyncio.Event()
        self.url = ""
        self._ws: web.WebSocketResponse | None = None

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        async for ask in ws:  # until either side closes the connection
            assert ask.type is WSMsgType.TEXT
            await self._answer(ws, json.loads(ask.data))
        return ws

    async def _answer(self, ws: web.WebSocketResponse, ask: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": ask["id"]}
        if ask["method"] == "eth_chainId":
            await ws.send_json({**reply, "result": hex(self.chain_id)})
        elif self.refuse:
            error = {"code": -32601, "message": "subscriptions are not supported"}
            await ws.send_json({**reply, "error": error})
        else:
            await ws.send_json({**reply, "result": SUBSCRIPTION})
            self._ws = ws
            self.subscribed.set()
            if self.first_head is not None:
                await self.push(self.first_head + self.connections)

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
        feed = HeadFeed(node.url, chain_id=CHAIN, timeout_s=5, stale_after_s=30)
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
        node.first_head = 10  # each subscription pushes one head at once, then silence
        feed = HeadFeed(node.url, chain_id=CHAIN, timeout_s=5, stale_after_s=1, max_backoff_s=0.2)
        wake = feed.listen()
        async with following(feed):
            await asyncio.wait_for(wake.wait(), 10)  # the first head
            assert feed.live and _number(feed) == 11
            wake.clear()
            await asyncio.wait_for(wake.wait(), 10)  # silence: woken when it goes down
            assert not feed.live and feed.latest_head() is None
            await eventually(lambda: _true(feed.live and _number(feed) == 12), 10)  # back
            assert feed.subscriptions >= 2 and node.connections >= 2
            await eventually(lambda: _true(node.subscribed.is_set()), 10)
            await node.drop()  # the node closes the socket: down, then back with a new head
            await eventually(lambda: _true(feed.subscriptions >= 3 and feed.live), 10)


async def test_junk_does_not_keep_a_feed_live() -> None:
    async with scripted() as node:
        node.first_head = 0
        feed = HeadFeed(node.url, chain_id=CHAIN, timeout_s=5, stale_after_s=1, max_backoff_s=5)
        async with following(feed):
            await eventually(lambda: _true(feed.live), 10)
            node.first_head = None  # a reconnection pushes nothing

            async def babble() -> None:
                while True:
                    await node.send("{not a head")
                    await asyncio.sleep(0.05)  # a node that talks all the time, saying nothing

            chatter = asyncio.create_task(babble())
            try:
                await eventually(lambda: _true(not feed.live), 10)  # stale after 1 s all the same
            finally:
                chatter.cancel()
                await asyncio.gather(chatter, return_exceptions=True)
            assert feed.heads == 1 and feed.rejected >= 1


async def test_a_message_nested_too_deep_is_rejected_not_fatal() -> None:
    async with scripted() as node:
        feed = HeadFeed(node.url, chain_id=CHAIN, timeout_s=5, stale_after_s=30)
        task = asyncio.create_task(feed.run())
        try:
            await asyncio.wait_for(node.subscribed.wait(), 10)
            await node.send("[" * 100_000 + "]" * 100_000)  # RecursionError in json.loads
            await node.push(5)
            await eventually(lambda: _true(feed.heads == 1), 10)
            assert feed.rejected == 1 and feed.live and not task.done()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_ws_url_of_another_chain_is_refused() -> None:
    async with scripted() as node:
        node.chain_id = 1
        feed = HeadFeed(node.url, chain_id=CHAIN, timeout_s=5, stale_after_s=30, max_backoff_s=0.2)
        async with following(feed):
            await eventually(lambda: _true(node.connections >= 2), 10)  # it keeps trying
            assert not node.subscribed.is_set() and feed.subscriptions == 0 and not feed.live


async def test_a_refused_subscription_or_no_endpoint_leaves_the_feed_down() -> None:
    async with scripted() as node:
        node.refuse = True
        feed = HeadFeed(node.url, chain_id=CHAIN, timeout_s=5, stale_after_s=30, max_backoff_s=0.2)
        async with following(feed):
            await eventually(lambda: _true(node.connections >= 2), 10)  # it keeps trying
            assert not feed.live and feed.subscriptions == 0 and feed.latest_head() is None
    with pytest.raises(ValueError, match="ws://"):
        HeadFeed("http://127.0.0.1:1", chain_id=CHAIN, timeout_s=5, stale_after_s=30)


async def _true(value: bool) -> bool:
    return value


def _number(feed: HeadFeed) -> int | None:
    head = feed.latest_head()
    return None if head is None else head.number


def _scanned_to(watcher: EventWatcher, block: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return watcher.stats.next_block == block + 1

    return probe
