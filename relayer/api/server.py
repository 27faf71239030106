"""The HTTP API: ``/healthz``, ``/readyz``, ``/metrics``, ``/transfers/{id}``, ``/alerts``.

``/healthz`` answers while the process runs. ``/readyz`` answers 200 only when every
readiness check passes (RPCs, broker and database reachable, cursors advancing) and
503 with the failing checks otherwise. ``/transfers/{id}`` takes a transfer id or the
hash of the source transaction and tells where the transfer is and why; ``/transfers``
lists transfers (``?status=``, ``?limit=``, ``?address=`` for those an address sent or
receives, newest first). ``/alerts``
lists the open (unacknowledged) alerts, as ``relayer alerts list`` prints them; they are
acknowledged with the CLI only (the API is read-only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from relayer.api.metrics import Metrics
from relayer.domain.types import Address, parse_address


@dataclass(frozen=True, slots=True)
class Check:
    """The result of one readiness check."""

    ok: bool
    detail: str = ""


class StatusSource(Protocol):
    """What the API asks of the node."""

    async def readiness(self) -> Mapping[str, Check]: ...

    async def transfer_status(self, key: str) -> Mapping[str, Any] | None: ...

    async def list_transfers(
        self, status: str | None, limit: int, party: Address | None = None
    ) -> list[Mapping[str, Any]]: ...

    async def open_alerts(self) -> list[Mapping[str, Any]]: ...

    async def refresh_metrics(self) -> None: ...


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, indent=2, sort_keys=True) + "\n",
        status=status,
        content_type="application/json",
    )


def build_app(source: StatusSource, metrics: Metrics) -> web.Application:
    """The aiohttp application; the node runs it with :class:`ApiServer`."""

    async def healthz(_request: web.Request) -> web.Response:
        return _json({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        checks = await source.readiness()
        ready = all(check.ok for check in checks.values())
        body = {
            "ready": ready,
            "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
        }
        return _json(body, 200 if ready else 503)

    async def metrics_handler(_request: web.Request) -> web.Response:
        await source.refresh_metrics()
        return web.Response(
            body=metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"}
        )

    async def transfer(request: web.Request) -> web.Response:
        key = request.match_info["key"].lower()
        if not (key.startswith("0x") and len(key) == 66):
            return _json({"error": "expected a 0x-prefixed 32-byte transfer id or tx hash"}, 400)
        try:
            bytes.fromhex(key[2:])
        except ValueError:
            return _json({"error": "not hex"}, 400)
        found = await source.transfer_status(key)
        if found is None:
            return _json({"error": "unknown transfer", "key": key}, 404)
        return _json(found)

    async def transfers(request: web.Request) -> web.Response:
        status = request.query.get("status")
        try:
            limit = min(int(request.query.get("limit", "100")), 1000)
        except ValueError:
            return _json({"error": "limit must be an integer"}, 400)
        party = None
        if "address" in request.query:  # sent or received by this address, newest first
            try:
                party = parse_address(request.query["address"], "address", strict_checksum=True)
            except ValueError as err:
                return _json({"error": str(err)}, 400)
        return _json(await source.list_transfers(status, limit, party))

    async def alerts(_request: web.Request) -> web.Response:
        return _json(await source.open_alerts())

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/transfers", transfers)
    app.router.add_get("/transfers/{key}", transfer)
    app.router.add_get("/alerts", alerts)
    return app


class ApiServer:
    """Runs the API on host:port (port 0 picks a free one; :attr:`port` tells which)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self._host = host
        self._port = port
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        await self._runner.cleanup()
