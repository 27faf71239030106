"""A fault-injecting JSON-RPC HTTP proxy for tests and chaos drills.

``async with FaultProxy.running(node.rpc_url) as proxy:`` listens on a free local port
(``proxy.url``) and forwards every request to the upstream node, unless a rule answers
it with a ``Fault`` instead: an HTTP status, a JSON-RPC error, a truncated body, a
delay, a dropped connection, or a replaced result. Rules are plain callables
``(method, params) -> Fault | None`` tried in order; helpers cover the usual cases.
``refuse_connections`` closes the listening socket for a while (connection refused).

``with ThreadedFaultProxy(node.rpc_url) as proxy:`` runs the same proxy on its own
event loop in a thread, for synchronous tests that put it in front of a relayer process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import aiohttp
from aiohttp import web

FaultKind = Literal["http", "jsonrpc_error", "truncate", "delay", "drop", "result"]
Rule = Callable[[str, list[Any]], "Fault | None"]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Fault:
    """What the proxy answers instead of (or before) forwarding."""

    kind: FaultKind
    status: int = 500
    code: int = -32000
    message: str = "injected fault"
    seconds: float = 0.0
    result: Any = None

    @classmethod
    def http(cls, status: int) -> Fault:
        """Answer an HTTP error status (429, 502, ...)."""
        return cls("http", status=status)

    @classmethod
    def rpc_error(cls, code: int, message: str) -> Fault:
        """Answer a JSON-RPC error object."""
        return cls("jsonrpc_error", code=code, message=message)

    @classmethod
    def truncated(cls) -> Fault:
        """Answer a JSON body cut in the middle."""
        return cls("truncate")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Forward after ``seconds`` (drive client timeouts)."""
        return cls("delay", seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering."""
        return cls("drop")

    @classmethod
    def replace_result(cls, result: Any) -> Fault:
        """Answer a well-formed JSON-RPC response carrying ``result``."""
        return cls("result", result=result)


class FaultProxy:
    """The proxy server; see the module docstring."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rules: list[Rule] = []
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """Where clients should connect."""
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, upstream: str) -> AsyncIterator[FaultProxy]:
        """Start the proxy, yield it, stop it."""
        proxy = cls(upstream)
        await proxy.start()
        try:
            yield proxy
        finally:
            await proxy.stop()

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:``port`` (0: a free port)."""
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with asyncio.timeout(10):
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
            await site.start()
        server = site._server
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Stop listening and close the upstream session."""
        async with asyncio.timeout(10):
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None
            if self._session is not None:
                await self._session.close()
                self._session = None

    async def refuse_connections(self, seconds: float) -> None:
        """Close the listening socket for ``seconds`` (clients get "connection refused"),
        then listen again on the same port."""
        async with asyncio.timeout(10):
            if self._runner is not None:
                await self._runner.cleanup()
                self._runner = None
        self.faults["<refused>"] += 1
        await asyncio.sleep(seconds)
        await self.start(self.port)

    # --- rules ----------------------------------------------------------------------

    def add(self, rule: Rule) -> None:
        """Append a rule."""
        self.rules.append(rule)

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def fail_next(self, method: str, fault: Fault, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``fault``."""
        left = [times]

        def rule(called: str, _params: list[Any]) -> Fault | None:
            if called == method and left[0] > 0:
                left[0] -= 1
                return fault
            return None

        self.add(rule)

    def reject_log_ranges_over(
        self, max_blocks: int, message: str = "query exceeds max block range"
    ) -> None:
        """Answer eth_getLogs windows wider than ``max_blocks`` with a JSON-RPC error."""

        def rule(called: str, params: list[Any]) -> Fault | None:
            if called != "eth_getLogs" or not params or not isinstance(params[0], dict):
                return None
            start, end = params[0].get("fromBlock"), params[0].get("toBlock")
            if not (isinstance(start, str) and isinstance(end, str)):
                return None
            too_wide = int(end, 16) - int(start, 16) + 1 > max_blocks
            return Fault.rpc_error(-32005, f"{message} {max_blocks}") if too_wide else None

        self.add(rule)

    # --- serving --------------------------------------------------------------------

    def _match(self, method: str, params: list[Any]) -> Fault | None:
        for rule in list(self.rules):
            fault = rule(method, params)
            if fault is not None:
                self.faults[method] += 1
                return fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            payload = json.loads(body)
        except json.JSONDecodeError:
            payload = None
        method, req_id = "", None
        params: list[Any] = []
        if isinstance(payload, dict):
            method = str(payload.get("method", ""))
            params = payload.get("params") or []
            req_id = payload.get("id")
        self.calls[method] += 1
        fault = self._match(method, params)
        if fault is not None and fault.kind != "delay":
            return self._serve_fault(request, fault, req_id)
        if fault is not None:
            await asyncio.sleep(fault.seconds)
        assert self._session is not None
        async with self._session.post(
            self.upstream, data=body, headers={"Content-Type": "application/json"}
        ) as upstream:
            answer = await upstream.read()
            return web.Response(
                body=answer, status=upstream.status, content_type="application/json"
            )

    @staticmethod
    def _serve_fault(request: web.Request, fault: Fault, req_id: Any) -> web.StreamResponse:
        if fault.kind == "http":
            return web.Response(status=fault.status, text="injected")
        if fault.kind == "truncate":
            return web.Response(
                text='{"jsonrpc":"2.0","id":1,"result":{"num', content_type="application/json"
            )
        if fault.kind == "drop":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        if fault.kind == "result":
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id, "result": fault.result}
        else:
            error = {"code": fault.code, "message": fault.message}
            reply = {"jsonrpc": "2.0", "id": req_id, "error": error}
        return web.json_response(reply)


class ThreadedFaultProxy:
    """A ``FaultProxy`` on its own event loop in a daemon thread (synchronous callers)."""

    def __init__(self, upstream: str) -> None:
        self.proxy = FaultProxy(upstream)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> ThreadedFaultProxy:
        self._thread.start()
        self._run(self.proxy.start())
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self._run(self.proxy.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def _run(self, coro: Coroutine[Any, Any, _T], timeout: float = 60.0) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def url(self) -> str:
        """Where clients should connect."""
        return self.proxy.url

    def add(self, rule: Rule) -> None:
        """Append a rule (it runs on the proxy's thread)."""
        self._loop.call_soon_threadsafe(self.proxy.add, rule)

    def fail_next(self, method: str, fault: Fault, times: int = 1) -> None:
        """See ``FaultProxy.fail_next``."""
        self._loop.call_soon_threadsafe(self.proxy.fail_next, method, fault, times)

    def refuse_connections(self, seconds: float) -> None:
        """See ``FaultProxy.refuse_connections`` (blocks for ``seconds``)."""
        self._run(self.proxy.refuse_connections(seconds))
