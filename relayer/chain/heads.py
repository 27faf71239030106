"""New heads pushed by a node: ``eth_subscribe("newHeads")`` over its WebSocket endpoint.

A ``HeadFeed`` keeps one WebSocket open to a chain's node (``ws_url``) and tells the
chain's readers *when* to look: each pushed head sets the ``asyncio.Event`` of every
listener (the watcher, the settler), so they scan once per new block instead of polling
every ``poll_interval_s``. ``SharedHead`` also takes the pushed head as the chain's newest
block for the depth rule, but only once the HTTP node shows the same block (same number,
same hash): a socket that runs ahead of the HTTP node, or lies, cannot make a block look
deeper than the HTTP node itself says it is. Everything else (confirmed heads, logs,
statuses) is read over HTTP, so a feed that lies or falls silent can delay a reader but
never make it accept anything.

On connecting, the feed checks ``eth_chainId`` over the socket (a ``ws_url`` of another
chain is refused), then subscribes. ``live`` is true while subscribed and an accepted head
arrived within ``stale_after_s`` (junk does not count). While it is false (refused,
closed, silent, the wrong chain) readers poll as before, and the feed reconnects with
exponential backoff; each change of ``live`` wakes every listener so that none waits on a
dead feed. A malformed notification is counted (``rejected``) and skipped: one bad message
does not cost the connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import structlog

from relayer.chain.rpc_types import BlockRef, as_int, parse_block
from relayer.errors import RpcError, RpcResponseError

log = structlog.get_logger(__name__)

MAX_MESSAGE_BYTES = 1 << 20  # a header is about 2 KB; anything near this is not one
FIRST_BACKOFF_S = 0.5
_CHAIN_ID_REQUEST, _SUBSCRIBE_REQUEST = 1, 2


class HeadFeedClosedError(RpcError):
    """The subscription ended: the socket closed, or no head came within ``stale_after_s``."""


class HeadFeed:
    """One node's pushed new heads; ``run()`` forever in the relayer's task group."""

    def __init__(
        self,
        url: str,
        *,
        chain_id: int,
        timeout_s: float,
        stale_after_s: float,
        max_backoff_s: float = 30.0,
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"a head feed needs a ws:// or wss:// URL, got {url!r}")
        if timeout_s <= 0 or stale_after_s <= 0 or max_backoff_s <= 0:
            raise ValueError("timeout_s, stale_after_s and max_backoff_s must be positive")
        self.url = url
        self.chain_id = chain_id
        self.timeout_s = timeout_s
        self.stale_after_s = stale_after_s
        self.max_backoff_s = max_backoff_s
        self.latest: BlockRef | None = None
        self.live = False
        self.heads = 0  # notifications accepted
        self.rejected = 0  # notifications that were not a header of our subscription
        self.subscriptions = 0  # successful eth_subscribe calls (1 + reconnects)
        self._listeners: list[asyncio.Event] = []
        self._head_due = 0.0  # monotonic time by which the next head must arrive

    def listen(self, event: asyncio.Event | None = None) -> asyncio.Event:
        """An event set on every new head and on every change of ``live`` (pass one event
        to several feeds to wake on any of them)."""
        wake = event if event is not None else asyncio.Event()
        self._listeners.append(wake)
        return wake

    def latest_head(self) -> BlockRef | None:
        """The newest pushed head while the feed is live, else ``None``."""
        return self.latest if self.live else None

    async def run(self) -> None:
        """Subscribe, follow, and reconnect forever; a failure is logged, never raised."""
        failures = 0
        while True:
            heads_before = self.heads
            try:
                await self._follow()
            except (RpcError, RpcResponseError, aiohttp.ClientError, OSError) as err:
                failures = 1 if self.heads > heads_before else failures + 1
                log.warning("head subscription lost", url=self.url, error=str(err))
            self._set_live(False)
            backoff = FIRST_BACKOFF_S * 2 ** min(failures - 1, 16)
            await asyncio.sleep(min(self.max_backoff_s, backoff))

    async def _follow(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, connect=self.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            try:
                async with asyncio.timeout(self.timeout_s):
                    ws = await session.ws_connect(self.url, max_msg_size=MAX_MESSAGE_BYTES)
            except TimeoutError as err:
                raise HeadFeedClosedError(f"no WebSocket within {self.timeout_s}s") from err
            async with ws:
                try:
                    await self._check_chain(ws)
                    subscription = await self._subscribe(ws)
                    self.subscriptions += 1
                    self._head_due = time.monotonic() + self.stale_after_s
                    while True:
                        remaining = self._head_due - time.monotonic()
                        if remaining <= 0:
                            raise HeadFeedClosedError(f"no head within {self.stale_after_s}s")
                        self._on_message(await self._receive(ws, remaining), subscription)
                finally:
                    self._set_live(False)  # before the socket's close, which may take a while

    async def _check_chain(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        result = await self._ask(ws, _CHAIN_ID_REQUEST, "eth_chainId", [])
        chain_id = as_int(result, "eth_chainId")
        if chain_id != self.chain_id:
            raise RpcResponseError(f"ws_url serves chain {chain_id}, not {self.chain_id}")

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse) -> str:
        subscription = await self._ask(ws, _SUBSCRIBE_REQUEST, "eth_subscribe", ["newHeads"])
        if not isinstance(subscription, str) or not subscription:
            raise RpcResponseError(f"eth_subscribe: no subscription id in {subscription!r}")
        return subscription

    async def _ask(
        self, ws: aiohttp.ClientWebSocketResponse, request_id: int, method: str, params: list[Any]
    ) -> Any:
        """One request over the socket; its ``result`` (anything else is refused)."""
        request = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        await ws.send_str(json.dumps(request))
        answer = _json(await self._receive(ws, self.timeout_s))
        if not isinstance(answer, dict) or answer.get("id") != request_id:
            raise RpcResponseError(f"{method}: unexpected answer {str(answer)[:200]!r}")
        if "error" in answer:
            raise RpcResponseError(f"{method} refused: {answer['error']!r}")
        return answer.get("result")

    @staticmethod
    async def _receive(ws: aiohttp.ClientWebSocketResponse, within_s: float) -> str:
        try:
            async with asyncio.timeout(within_s):
                message = await ws.receive()
        except TimeoutError as err:
            raise HeadFeedClosedError(f"no message within {within_s:.1f}s") from err
        if message.type is aiohttp.WSMsgType.TEXT:
            return str(message.data)
        if message.type is aiohttp.WSMsgType.BINARY:
            return bytes(message.data).decode("utf-8", errors="replace")
        raise HeadFeedClosedError(f"WebSocket {message.type.name.lower()}: {message.extra!r}")

    def _on_message(self, text: str, subscription: str) -> None:
        try:
            head = parse_head(_json(text), subscription)
        except RpcResponseError as err:
            self.rejected += 1
            log.warning("head notification rejected", url=self.url, error=str(err))
            return
        self.latest = head
        self.heads += 1
        self._head_due = time.monotonic() + self.stale_after_s
        self._set_live(True, wake=True)

    def _set_live(self, live: bool, *, wake: bool = False) -> None:
        changed = live != self.live
        self.live = live
        if changed:
            log.info("head subscription " + ("live" if live else "down"), url=self.url)
        if changed or wake:
            for event in self._listeners:
                event.set()


def parse_head(message: Any, subscription: str) -> BlockRef:
    """The header an ``eth_subscription`` notification of ``subscription`` carries."""
    if not isinstance(message, dict) or message.get("method") != "eth_subscription":
        raise RpcResponseError(f"not a subscription notification: {str(message)[:200]!r}")
    params = message.get("params")
    if not isinstance(params, dict) or params.get("subscription") != subscription:
        raise RpcResponseError(f"notification of another subscription: {str(params)[:200]!r}")
    return parse_block(params.get("result"))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:  # RecursionError: nested too deep
        raise RpcResponseError(f"not JSON: {text[:200]!r}") from err


def idle_wait_s(feed: HeadFeed | None, poll_interval_s: float) -> float:
    """How long a reader of ``feed``'s chain may wait for a wake-up before it looks anyway:
    ``stale_after_s`` while the feed is live (a head, or the feed going down, wakes it
    earlier), ``poll_interval_s`` otherwise."""
    return feed.stale_after_s if feed is not None and feed.live else poll_interval_s
