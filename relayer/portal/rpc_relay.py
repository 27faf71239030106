"""The read-only JSON-RPC relay behind ``POST /v1/rpc/{chain_id}`` (docs/portal.md, "The
read-only RPC relay").

The wallet page reads both chains through the portal: the Conflux node sends no CORS
headers, and browsers should not each hammer the nodes. One JSON-RPC 2.0 request object
per HTTP request (no batches), one of :data:`READ_METHODS`, relayed to the chain's
``read_rpc_url`` under a timeout; the node's answer comes back as it came, with the
caller's id. :func:`parse_request` is pure (the input rules); :class:`RpcRelay` is the I/O.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from relayer.log import get_logger
from relayer.portal.inputs import BadInput

log = get_logger("portal.rpc_relay")

# Reads a wallet page needs, nothing else: no sending, no signing, no eth_getLogs (an
# unbounded range is a denial of service on a public node), no filters or subscriptions.
# NEVER add eth_maxPriorityFeePerGas or eth_feeHistory: on the conflux-rust dev node
# (npm @xcfx/node 0.8.0) eth_feeHistory, which eth_maxPriorityFeePerGas calls, can deadlock
# the node for good (block production and every RPC stop; docs/chain.md, "Fees on
# Conflux"). A page takes fees from eth_gasPrice.
READ_METHODS = frozenset(
    {
        "eth_chainId",
        "eth_blockNumber",
        "eth_call",
        "eth_getBalance",
        "eth_getCode",
        "eth_getTransactionReceipt",
        "eth_getTransactionByHash",
        "eth_getBlockByNumber",
        "eth_gasPrice",
        "eth_estimateGas",
        "eth_getTransactionCount",
    }
)
MAX_ANSWER_BYTES = 8 * 1024 * 1024  # a node's answer larger than this is a 502
_SHOWN_CHARS = 64  # of a refused method name, in the message


@dataclass(frozen=True, slots=True)
class RelayRequest:
    """One JSON-RPC request the portal relays."""

    id: int | str
    method: str
    params: tuple[Any, ...]

    def payload(self) -> dict[str, Any]:
        """What the node is sent (only these four members, whatever else the caller sent)."""
        return {"jsonrpc": "2.0", "id": self.id, "method": self.method, "params": [*self.params]}


class NodeUnavailable(Exception):
    """The node did not give a JSON-RPC answer (HTTP 502); the message says why."""


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


async def read_at_most(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """The stream's bytes up to end of stream, or the first ``limit + 1`` of them (more
    than ``limit`` means too large; the rest is not read)."""
    data = bytearray()
    while len(data) <= limit:
        chunk = await stream.read(limit + 1 - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def parse_request(raw: bytes, max_body_bytes: int) -> RelayRequest:
    """The body of ``POST /v1/rpc/{chain_id}``: one JSON-RPC 2.0 request object whose method
    is one of :data:`READ_METHODS`, at most ``max_body_bytes``. Raises :class:`BadInput`
    naming what was wrong."""
    if len(raw) > max_body_bytes:
        raise BadInput(f"body too large: at most {max_body_bytes} bytes")
    try:
        body = json.loads(raw)
    except ValueError as err:  # includes bytes that are not UTF-8
        raise BadInput("body is not JSON: send one JSON-RPC 2.0 request object") from err
    if isinstance(body, list):
        raise BadInput("batches are not relayed: send one JSON-RPC 2.0 request object")
    if not isinstance(body, dict):
        raise BadInput("body must be a JSON-RPC 2.0 request object")
    if body.get("jsonrpc") != "2.0":
        raise BadInput('jsonrpc must be "2.0"')
    if "id" not in body:
        raise BadInput("id is required (notifications are not relayed)")
    request_id = body["id"]
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        raise BadInput("id must be an integer or a string")
    method = body.get("method")
    if not isinstance(method, str):
        raise BadInput("method must be a string")
    if method not in READ_METHODS:
        allowed = ", ".join(sorted(READ_METHODS))
        raise BadInput(f"method {_shown(method)} is not relayed (read methods only: {allowed})")
    params = body.get("params", [])
    if not isinstance(params, list):
        raise BadInput("params must be a list")
    return RelayRequest(request_id, method, tuple(params))


class RpcRelay:
    """The chains' read nodes, asked through one HTTP session, each request under
    ``timeout_s``."""

    def __init__(
        self, urls: Mapping[int, str], timeout_s: float, session: aiohttp.ClientSession
    ) -> None:
        self.urls = dict(urls)
        self.timeout_s = timeout_s
        self.session = session

    async def relay(self, chain_id: int, request: RelayRequest) -> dict[str, Any]:
        """The node's JSON-RPC answer (a ``result`` or an ``error``) with the caller's id;
        :class:`NodeUnavailable` when it gives none. ``chain_id`` must be in ``urls``."""
        try:
            async with asyncio.timeout(self.timeout_s):
                raw = await self._post(self.urls[chain_id], request.payload())
        except TimeoutError as err:
            message = f"chain {chain_id}: the node did not answer within {self.timeout_s} s"
            raise NodeUnavailable(message) from err
        except (aiohttp.ClientError, OSError) as err:
            log.warning("rpc relay: node unreachable", chain_id=chain_id, error=repr(err))
            raise NodeUnavailable(f"chain {chain_id}: the node could not be reached") from err
        if len(raw) > MAX_ANSWER_BYTES:
            raise NodeUnavailable(f"chain {chain_id}: the node's answer is too large")
        try:
            answer = json.loads(raw)
        except ValueError as err:
            raise NodeUnavailable(f"chain {chain_id}: the node's answer is not JSON") from err
        if not isinstance(answer, dict) or not ("result" in answer or "error" in answer):
            raise NodeUnavailable(f"chain {chain_id}: the node's answer is not JSON-RPC")
        return {**answer, "id": request.id}

    async def _post(self, url: str, payload: dict[str, Any]) -> bytes:
        async with self.session.post(url, json=payload, allow_redirects=False) as response:
            # any HTTP status: a node may carry a JSON-RPC error on a 4xx or 5xx
            return await read_at_most(response.content, MAX_ANSWER_BYTES)
