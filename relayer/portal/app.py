"""The portal's HTTP server: the page at ``/`` and the public API under ``/v1``.

``/v1`` answers JSON only: 400 with a message for bad input, 404 for what no validator
knows (or a path that does not exist), 429 with ``Retry-After`` when a client exceeds its
token bucket, 503 when no validator answered. Browsers on the configured origins may call
it (CORS). The validators are asked concurrently, each under ``upstream.timeout_s``.
``POST /v1/rpc/{chain_id}`` relays one read-only JSON-RPC request to that chain's node
(rpc_relay.py); every other route is GET.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from relayer import __version__
from relayer.api.server import ApiServer
from relayer.log import get_logger
from relayer.portal.aggregate import (
    Timing,
    aggregate_list,
    aggregate_transfer,
    validator_entries,
)
from relayer.portal.inputs import BadInput, parse_address, parse_key, parse_limit
from relayer.portal.openapi import openapi_document
from relayer.portal.ratelimit import Limited, RateLimiter
from relayer.portal.rpc_relay import NodeUnavailable, RpcRelay, parse_request, read_at_most
from relayer.portal.settings import PortalSettings
from relayer.portal.upstream import Upstream

log = get_logger("portal")

SETTINGS = web.AppKey("settings", PortalSettings)
LIMITER = web.AppKey("limiter", RateLimiter)
UPSTREAM = web.AppKey("upstream", Upstream)
RELAY = web.AppKey("rpc_relay", RpcRelay)
API_PREFIX = "/v1/"
LIST_DEFAULT = 20
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(data, indent=2, sort_keys=True) + "\n",
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _blocks(rule: str) -> int | None:
    return int(rule.removeprefix("depth:")) if rule.startswith("depth:") else None


def config_json(settings: PortalSettings) -> dict[str, Any]:
    """``/v1/config``: what a page needs to connect wallets and show transfers."""
    return {
        "version": __version__,
        "chains": [
            {
                "chain_id": c.chain_id,
                "chain_id_hex": hex(c.chain_id),
                "name": c.name,
                "kind": c.kind,
                "rpc_url": c.rpc_url,
                "explorer_tx_url": c.explorer_tx_url,
                "bridge": c.bridge,
                "native_currency": c.native_currency.model_dump(),
                "confirmation": {
                    "rule": c.confirmation,
                    "blocks": _blocks(c.confirmation),
                    "typical_s": c.confirmation_s,
                },
            }
            for c in settings.chains
        ],
        "tokens": [t.model_dump() for t in settings.tokens],
        "validators": [
            {"name": v.name, "jurisdiction": v.jurisdiction, "address": v.address}
            for v in settings.validators
        ],
        "jurisdictions": sorted({v.jurisdiction for v in settings.validators}),
    }


def timings_of(settings: PortalSettings) -> dict[int, Timing]:
    return {
        c.chain_id: Timing(c.confirmation_s, c.release_s, c.explorer_tx_url)
        for c in settings.chains
    }


def client_of(request: web.Request, trust_forwarded_for: bool) -> str:
    """The rate limit's key: the connection's address (or the proxy's X-Forwarded-For)."""
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


def _cors_headers(settings: PortalSettings, origin: str | None) -> dict[str, str]:
    allowed = settings.server.cors_origins
    if not allowed:
        return {}
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"} if origin is not None else {}
    if origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {"Vary": "Origin"}  # the answer depends on the origin: caches must know


async def _methods_of(request: web.Request) -> set[str]:
    """The methods the API routes (not the page's files) take at ``request.path``."""
    methods: set[str] = set()
    for resource in request.app.router.resources():
        if not isinstance(resource, web.StaticResource):
            _match, allowed = await resource.resolve(request)
            methods |= allowed
    return methods


def _not_allowed(methods: set[str]) -> web.Response:
    """405, naming the methods the path takes (GET routes also take HEAD, not named)."""
    named = sorted(methods - {"HEAD"}) or ["GET"]
    message = {"error": f"only {' or '.join(named)}"}
    return _json(message, 405, {"Allow": ", ".join([*named, "OPTIONS"])})


def build_portal_app(
    settings: PortalSettings,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> web.Application:
    """The aiohttp application (its HTTP session to the validators opens with the app)."""
    limiter = RateLimiter(
        settings.rate_limit.requests_per_s,
        settings.rate_limit.burst,
        settings.rate_limit.max_clients,
    )
    timings = timings_of(settings)
    document = openapi_document(settings.upstream.list_limit_max, settings.rpc_relay.max_body_bytes)

    @web.middleware
    async def api_rules(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        cors = _cors_headers(settings, request.headers.get("Origin"))
        if request.method == "OPTIONS":  # a browser's preflight: not counted
            preflight = {
                **cors,
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            }
            allowed = "Access-Control-Allow-Origin" in cors
            return web.Response(status=204, headers=preflight if allowed else cors)
        decision = limiter.take(client_of(request, settings.server.trust_forwarded_for), clock())
        if isinstance(decision, Limited):
            wait = str(decision.retry_after_s)
            message = {"error": f"too many requests: retry after {wait} s"}
            return _json(message, 429, {**cors, "Retry-After": wait})
        unrouted = _json({"error": f"no such endpoint: {request.path}"}, 404)
        if isinstance(request.match_info.route.resource, web.StaticResource):
            # no /v1 route for this method (the page's files answer any GET path)
            methods = await _methods_of(request)
            refused = _not_allowed(methods) if methods else unrouted
            refused.headers.update(cors)
            return refused
        try:
            response = await handler(request)
        except BadInput as err:
            response = _json({"error": str(err)}, 400)
        except web.HTTPNotFound:
            response = unrouted
        except web.HTTPMethodNotAllowed as err:
            response = _not_allowed(set(err.allowed_methods))
        response.headers.update(cors)
        return response

    async def get_config(_request: web.Request) -> web.Response:
        return _json(config_json(settings))

    async def get_openapi(_request: web.Request) -> web.Response:
        return _json(document)

    async def get_transfer(request: web.Request) -> web.Response:
        key = parse_key(request.match_info["key"])
        answers = await request.app[UPSTREAM].transfer(key)
        found = aggregate_transfer(answers, timings, wall_clock())
        if found is not None:
            return _json(found)
        validators = validator_entries(answers)
        if all(v["answer"] == "unreachable" for v in validators):
            return _json({"error": "no validator answered", "validators": validators}, 503)
        return _json({"error": "unknown transfer", "key": key, "validators": validators}, 404)

    async def list_transfers(request: web.Request) -> web.Response:
        address = parse_address(request.query.get("address"))
        limit = parse_limit(
            request.query.get("limit"),
            default=LIST_DEFAULT,
            maximum=settings.upstream.list_limit_max,
        )
        answers = await request.app[UPSTREAM].listing(address, limit)
        merged = aggregate_list(answers, timings, wall_clock(), limit)
        return _json({"address": address, "limit": limit, **merged})

    async def relay_rpc(request: web.Request) -> web.Response:
        chain = request.match_info["chain_id"]
        chain_id = int(chain) if re.fullmatch(r"[0-9]{1,19}", chain) else None
        if chain_id is None or settings.chain(chain_id) is None:
            known = ", ".join(str(c.chain_id) for c in settings.chains)
            return _json({"error": f"unknown chain {chain[:20]}: relayed are {known}"}, 404)
        limit = settings.rpc_relay.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise BadInput(f"body too large: at most {limit} bytes")
        call = parse_request(await read_at_most(request.content, limit), limit)
        try:
            answer = await request.app[RELAY].relay(chain_id, call)
        except NodeUnavailable as err:
            return _json({"error": str(err)}, 502)
        return web.json_response(answer)

    async def index(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(settings.static_path / "index.html")

    async def upstream_session(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
        async with aiohttp.ClientSession(connector=connector) as session:
            app[UPSTREAM] = Upstream(settings.validators, settings.upstream.timeout_s, session)
            yield

    async def relay_session(app: web.Application) -> AsyncIterator[None]:
        """The relay's own connections (keep-alive), apart from the validators'."""
        connector = aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
        jar = aiohttp.DummyCookieJar()
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
            urls = {c.chain_id: c.read_url for c in settings.chains}
            app[RELAY] = RpcRelay(urls, settings.rpc_relay.timeout_s, session)
            yield

    app = web.Application(middlewares=[api_rules])
    app[SETTINGS] = settings
    app[LIMITER] = limiter
    app.cleanup_ctx.append(upstream_session)
    app.cleanup_ctx.append(relay_session)
    app.router.add_get("/v1/config", get_config)
    app.router.add_get("/v1/openapi.json", get_openapi)
    app.router.add_get("/v1/transfers", list_transfers)
    app.router.add_get("/v1/transfers/{key}", get_transfer)
    app.router.add_post("/v1/rpc/{chain_id}", relay_rpc)
    app.router.add_get("/", index)
    app.router.add_static("/", settings.static_path, follow_symlinks=False)
    return app


async def run_portal(settings: PortalSettings) -> int:
    """Serve until SIGTERM or SIGINT."""
    server = ApiServer(build_portal_app(settings), settings.server.host, settings.server.port)
    await server.start()
    log.info("portal listening", url=f"http://{settings.server.host}:{server.port}/")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0
