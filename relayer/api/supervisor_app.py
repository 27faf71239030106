"""The supervisor API (``/supervisor/api/...``, JSON) and page (``/supervisor/``): read-only.

Every API request carries ``Authorization: Bearer <token>`` (401 otherwise) and sees only
the jurisdictions of its supervisor (403 naming the jurisdiction asked for outside it).
Malformed parameters answer 400, an unknown transfer 404, any method but GET and HEAD 405;
every answer is JSON with an ``error`` naming what was wrong. No route writes: the source
behind it only reads (see ``relayer.service.supervision``).

The page is three static files (no inline script or style, no external resource), so the
Content-Security-Policy allows only this origin's own files.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import Any, Protocol

from aiohttp import web

from relayer.api.supervisor_auth import (
    AuthRefused,
    Credential,
    OutOfScope,
    Supervisor,
    authenticate,
    scope_of,
)
from relayer.api.supervisor_query import (
    STATES,
    ListQuery,
    QueryError,
    parse_days,
    parse_limit,
    parse_list_query,
    parse_no_params,
    parse_transfer_id,
)
from relayer.errors import RelayerError
from relayer.log import get_logger

log = get_logger("supervisor-api")

API = "/supervisor/api"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PAGE_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SUPERVISOR = web.RequestKey("supervisor", Supervisor)  # who asked, set by the middleware


class SupervisorSource(Protocol):
    """What the supervisor API reads (``relayer.service.supervision.NodeSupervision``)."""

    jurisdiction: str
    validator: bytes

    def known_jurisdictions(self) -> list[str]: ...

    async def transfers(self, scope: frozenset[str], query: ListQuery) -> list[dict[str, Any]]: ...

    async def transfer(self, transfer_id: bytes) -> tuple[list[str], dict[str, Any]] | None: ...

    async def refusals(self, scope: frozenset[str], query: ListQuery) -> list[dict[str, Any]]: ...

    async def reviews(self, limit: int) -> list[dict[str, Any]]: ...

    async def volumes(self, days: int) -> dict[str, Any]: ...

    async def freezes(self) -> dict[str, Any]: ...

    async def alerts(self) -> list[dict[str, Any]]: ...

    async def audit(self) -> dict[str, Any]: ...


class Refusal(Exception):
    """An answer other than 200, with its message."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, indent=2, sort_keys=True) + "\n",
        status=status,
        content_type="application/json",
    )


def _supervisor(request: web.Request) -> Supervisor:
    return request[SUPERVISOR]  # the middleware put it there


def _scope(request: web.Request, asked: Sequence[str] | None) -> frozenset[str]:
    scope = scope_of(_supervisor(request), asked)
    if isinstance(scope, OutOfScope):
        raise Refusal(403, scope.message, jurisdiction=scope.jurisdiction)
    return scope


def _own(request: web.Request, source: SupervisorSource, what: str) -> None:
    """This validator's own records: its jurisdiction must be in the supervisor's scope."""
    supervisor = _supervisor(request)
    if not supervisor.sees(source.jurisdiction):
        raise Refusal(
            403,
            f"jurisdiction {source.jurisdiction} is not in the scope of supervisor "
            f"{supervisor.name}: the {what} of this validator belong to {source.jurisdiction}",
            jurisdiction=source.jurisdiction,
        )


def build_supervisor_app(
    source: SupervisorSource, credentials: Sequence[Credential]
) -> web.Application:
    """The aiohttp application; the node runs it with ``ApiServer`` on its own port."""

    def admit(request: web.Request) -> None:
        """GET or HEAD only; under the API, an authenticated supervisor."""
        if request.method not in ("GET", "HEAD"):
            raise Refusal(405, f"method {request.method} not allowed: this API is read-only")
        if request.path.startswith(API + "/") or request.path == API:
            who = authenticate(request.headers.get("Authorization"), credentials)
            if isinstance(who, AuthRefused):
                raise Refusal(401, who.message)
            request[SUPERVISOR] = who

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            admit(request)
            response = await handler(request)
        except Refusal as refusal:
            response = _json(refusal.body, refusal.status)
            if refusal.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="supervisor"'
            elif refusal.status == 405:
                response.headers["Allow"] = "GET, HEAD"
        except QueryError as err:
            response = _json({"error": str(err)}, 400)
        except web.HTTPNotFound:
            response = _json({"error": f"no such path {request.path}"}, 404)
        except web.HTTPMethodNotAllowed:
            response = _json({"error": "method not allowed: this API is read-only"}, 405)
        except (RelayerError, TimeoutError) as err:
            log.warning("supervisor API could not answer", path=request.path, error=str(err))
            response = _json({"error": f"not available now: {err or 'timed out'}"}, 503)
        response.headers.update(SECURITY_HEADERS)
        return response

    async def page(request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name") or "index.html"
        if name not in PAGE_FILES:
            raise web.HTTPNotFound
        files = resources.files("relayer.api") / "supervisor_page"
        body = (files / name).read_bytes()
        return web.Response(body=body, content_type=PAGE_FILES[name], charset="utf-8")

    async def to_page(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/supervisor/")

    async def me(request: web.Request) -> web.StreamResponse:
        parse_no_params(request.query)
        supervisor = _supervisor(request)
        return _json(
            {
                "supervisor": supervisor.name,
                "jurisdictions": sorted(supervisor.jurisdictions),
                "validator": {
                    "address": "0x" + bytes(source.validator).hex(),
                    "jurisdiction": source.jurisdiction,
                },
                "known_jurisdictions": source.known_jurisdictions(),
                "states": list(STATES),
            }
        )

    async def transfers(request: web.Request) -> web.StreamResponse:
        query = parse_list_query(request.query)
        scope = _scope(request, query.jurisdictions)
        return _json({"scope": sorted(scope), "transfers": await source.transfers(scope, query)})

    async def transfer(request: web.Request) -> web.StreamResponse:
        parse_no_params(request.query)
        transfer_id = parse_transfer_id(request.match_info["transfer_id"])
        found = await source.transfer(transfer_id)
        if found is None:
            raise Refusal(404, f"unknown transfer 0x{transfer_id.hex()}")
        jurisdictions, shown = found
        supervisor = _supervisor(request)
        if not supervisor.sees_any(jurisdictions):
            listed = ", ".join(jurisdictions) or "none yet"
            raise Refusal(
                403,
                f"transfer 0x{transfer_id.hex()} concerns jurisdictions {listed}, none in the "
                f"scope of supervisor {supervisor.name}",
            )
        return _json(shown)

    async def refusals(request: web.Request) -> web.StreamResponse:
        query = parse_list_query(request.query, states=False)
        scope = _scope(request, query.jurisdictions)
        return _json({"scope": sorted(scope), "refusals": await source.refusals(scope, query)})

    async def reviews(request: web.Request) -> web.StreamResponse:
        limit = parse_limit(request.query)
        _own(request, source, "reviews")
        return _json({"jurisdiction": source.jurisdiction, "reviews": await source.reviews(limit)})

    async def volumes(request: web.Request) -> web.StreamResponse:
        days = parse_days(request.query)
        _own(request, source, "volumes")
        return _json(await source.volumes(days))

    async def freezes(request: web.Request) -> web.StreamResponse:
        parse_no_params(request.query)  # public on-chain facts: every supervisor sees them
        return _json(await source.freezes())

    async def alerts(request: web.Request) -> web.StreamResponse:
        parse_no_params(request.query)
        _own(request, source, "alerts")
        return _json({"jurisdiction": source.jurisdiction, "alerts": await source.alerts()})

    async def audit(request: web.Request) -> web.StreamResponse:
        parse_no_params(request.query)
        _own(request, source, "audit records")
        return _json(await source.audit())

    async def unknown(request: web.Request) -> web.StreamResponse:
        raise Refusal(404, f"no such path {request.path}")

    app = web.Application(middlewares=[guard])
    add = app.router.add_get
    add("/supervisor", to_page)
    add("/supervisor/", page)
    add("/supervisor/{name:[a-z]+\\.(?:html|js|css)}", page)
    add(f"{API}/me", me)
    add(f"{API}/transfers", transfers)
    add(f"{API}/transfers/{{transfer_id}}", transfer)
    add(f"{API}/refusals", refusals)
    add(f"{API}/reviews", reviews)
    add(f"{API}/volumes", volumes)
    add(f"{API}/freezes", freezes)
    add(f"{API}/alerts", alerts)
    add(f"{API}/audit", audit)
    add(f"{API}/{{tail:.*}}", unknown)
    return app
