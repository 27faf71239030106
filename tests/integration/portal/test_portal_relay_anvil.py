"""The portal's read-only JSON-RPC relay (``POST /v1/rpc/{chain_id}``) in front of a real
anvil node (chain 71 here), a node that accepts connections and never answers (chain
11155111) and a port nothing listens on.

Checks reads relayed with the caller's id, an eth_call revert passed through with its data,
refused methods and bodies (400), an unknown chain (404), the node timing out or being down
(502, within the timeout), the rate limit (429), CORS and the 405s of the /v1 routes.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from relayer.api.server import ApiServer
from relayer.devnet.anvil import AnvilNode
from relayer.portal.app import build_portal_app
from relayer.portal.settings import PortalSettings

pytestmark = pytest.mark.asyncio(loop_scope="session")

CFX, ETH = 71, 11155111
ORIGIN = "https://bridge.example.org"
REVERTER = "0x" + "ab" * 20
# PUSH4 0xdeadbeef, PUSH1 224, SHL, PUSH1 0, MSTORE, PUSH1 4, PUSH1 0, REVERT: any call
# reverts with the 4 bytes 0xdeadbeef (like a custom error without arguments)
REVERTING_CODE = "0x63deadbeef60e01b60005260046000fd"


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode.start_sync(chain_id=CFX) as node:
        yield node


@pytest.fixture(scope="module")
def hung_url() -> Iterator[str]:
    """A socket that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        yield f"http://127.0.0.1:{hung.getsockname()[1]}"


def closed_url() -> str:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{closed.getsockname()[1]}"


def settings_for(
    cfx_url: str, eth_read_url: str, *, timeout_s: float = 5.0, **rate: Any
) -> PortalSettings:
    return PortalSettings(
        server={"cors_origins": [ORIGIN]},
        rate_limit=rate or {"requests_per_s": 0.001, "burst": 1000},
        rpc_relay={"timeout_s": timeout_s, "max_body_bytes": 1024},
        validators=[{"name": "hk-1", "url": closed_url(), "jurisdiction": "HK"}],
        chains=[
            {
                "chain_id": CFX,
                "name": "Conflux eSpace (anvil)",
                "kind": "conflux-espace",
                "rpc_url": cfx_url,  # no read_rpc_url: reads go to rpc_url
                "bridge": "0x" + "0a" * 20,
                "native_currency": {"name": "Conflux", "symbol": "CFX"},
            },
            {
                "chain_id": ETH,
                "name": "Sepolia",
                "kind": "ethereum",
                "rpc_url": "https://rpc.sepolia.org",
                "read_rpc_url": eth_read_url,
                "bridge": "0x" + "0b" * 20,
                "native_currency": {"name": "Ether", "symbol": "ETH"},
            },
        ],
    )


@dataclass
class Portal:
    url: str
    http: aiohttp.ClientSession

    async def rpc(self, chain: int | str, request: Any, **headers: str) -> tuple[int, Any, Any]:
        data = request if isinstance(request, bytes) else json.dumps(request).encode()
        headers = {"Content-Type": "application/json", **headers}
        async with self.http.post(
            f"{self.url}/v1/rpc/{chain}", data=data, headers=headers
        ) as answer:
            return answer.status, await answer.json(), answer.headers


@pytest_asyncio.fixture(loop_scope="session")
async def serve() -> AsyncIterator[Any]:
    """``await serve(settings, clock=…)``: a portal on a free port, stopped at the end."""
    servers: list[ApiServer] = []
    async with aiohttp.ClientSession() as http:

        async def start(settings: PortalSettings, **kwargs: Any) -> Portal:
            server = ApiServer(build_portal_app(settings, **kwargs), "127.0.0.1", 0)
            await server.start()
            servers.append(server)
            return Portal(f"http://127.0.0.1:{server.port}", http)

        try:
            yield start
        finally:
            for server in servers:
                await server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def portal(serve: Any, anvil: AnvilNode, hung_url: str) -> Portal:
    portal: Portal = await serve(settings_for(anvil.rpc_url, hung_url, timeout_s=1.0))
    return portal


def call(method: str, params: list[Any] | None = None, request_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or []}


async def test_reads_are_relayed_with_the_callers_id(portal: Portal, anvil: AnvilNode) -> None:
    status, answer, headers = await portal.rpc(CFX, call("eth_chainId", request_id="page-1"))
    assert status == 200, answer
    assert answer == {"jsonrpc": "2.0", "id": "page-1", "result": hex(CFX)}
    assert "Access-Control-Allow-Origin" not in headers  # no Origin, no CORS header
    await anvil.mine(3)
    expected = int(await anvil.request("eth_blockNumber"), 16)
    status, answer, _ = await portal.rpc(CFX, call("eth_blockNumber", request_id=42))
    assert (status, answer["id"], int(answer["result"], 16)) == (200, 42, expected)
    funded = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first account
    status, answer, _ = await portal.rpc(CFX, call("eth_getBalance", [funded, "latest"]))
    assert status == 200 and int(answer["result"], 16) > 0


async def test_an_eth_call_revert_passes_through_with_its_data(
    portal: Portal, anvil: AnvilNode
) -> None:
    await anvil.request("anvil_setCode", [REVERTER, REVERTING_CODE])
    direct = await _post(anvil.rpc_url, call("eth_call", [{"to": REVERTER}, "latest"], 9))
    status, answer, _ = await portal.rpc(
        CFX, call("eth_call", [{"to": REVERTER, "data": "0x"}, "latest"], 9), Origin=ORIGIN
    )
    assert status == 200
    assert answer == direct  # the node's error, unchanged
    assert answer["error"]["data"] == "0xdeadbeef"
    assert "result" not in answer


async def _post(url: str, request: dict[str, Any]) -> Any:
    async with aiohttp.ClientSession() as http, http.post(url, json=request) as answer:
        return await answer.json()


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (call("eth_sendRawTransaction", ["0x00"]), "method eth_sendRawTransaction is not relayed"),
        (call("eth_feeHistory", [1, "latest", []]), "method eth_feeHistory is not relayed"),
        (call("eth_maxPriorityFeePerGas"), "method eth_maxPriorityFeePerGas is not relayed"),
        (call("eth_getLogs", [{}]), "method eth_getLogs is not relayed"),
        (call("anvil_setBalance", ["0x" + "00" * 20, "0x1"]), "read methods only: "),
        ([call("eth_chainId")], "batches are not relayed"),
        (b"{not json", "body is not JSON"),
        (b"1", "must be a JSON-RPC 2.0 request object"),
        ({**call("eth_call"), "params": {"to": REVERTER}}, "params must be a list"),
        (json.dumps(call("eth_call", ["0x" + "00" * 1024])).encode(), "body too large"),
    ],
)
async def test_a_refused_request_is_400_naming_what_was_wrong(
    portal: Portal, request_body: Any, message: str
) -> None:
    status, answer, headers = await portal.rpc(CFX, request_body, Origin=ORIGIN)
    assert status == 400
    assert message in answer["error"]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize("chain", ["1", "0", "abc", "99999999999999999999999", "\u0667\u0661"])
async def test_an_unknown_chain_is_404(portal: Portal, chain: str) -> None:
    status, answer, _ = await portal.rpc(chain, call("eth_chainId"))
    assert status == 404
    assert "unknown chain" in answer["error"] and f"{CFX}, {ETH}" in answer["error"]


async def test_a_node_that_does_not_answer_is_502_within_the_timeout(portal: Portal) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, answer, _ = await portal.rpc(ETH, call("eth_blockNumber"))
    assert loop.time() - started < 3.0
    assert status == 502
    assert answer == {"error": f"chain {ETH}: the node did not answer within 1.0 s"}


async def test_a_node_that_is_down_is_502(serve: Any, anvil: AnvilNode) -> None:
    portal: Portal = await serve(settings_for(anvil.rpc_url, closed_url()))
    status, answer, _ = await portal.rpc(ETH, call("eth_chainId"))
    assert status == 502
    assert answer == {"error": f"chain {ETH}: the node could not be reached"}


async def test_a_node_that_answers_something_else_is_502(serve: Any, anvil: AnvilNode) -> None:
    page = await serve(settings_for(anvil.rpc_url, closed_url()))  # its HTML page as a "node"
    portal: Portal = await serve(settings_for(anvil.rpc_url, page.url + "/"))
    status, answer, _ = await portal.rpc(ETH, call("eth_chainId"))
    assert status == 502
    assert answer == {"error": f"chain {ETH}: the node's answer is not JSON"}


async def test_each_relayed_call_spends_a_token(serve: Any, anvil: AnvilNode) -> None:
    settings = settings_for(anvil.rpc_url, closed_url(), requests_per_s=0.5, burst=2)
    portal: Portal = await serve(settings, clock=lambda: 0.0)
    codes = []
    for _ in range(3):
        status, answer, headers = await portal.rpc(CFX, call("eth_chainId"), Origin=ORIGIN)
        codes.append(status)
    assert codes == [200, 200, 429]
    assert "too many requests" in answer["error"]
    assert (headers["Retry-After"], headers["Access-Control-Allow-Origin"]) == ("2", ORIGIN)


async def test_post_is_allowed_on_the_relay_only_and_preflights_allow_it(portal: Portal) -> None:
    async with portal.http.get(f"{portal.url}/v1/rpc/{CFX}") as answer:
        assert answer.status == 405
        assert await answer.json() == {"error": "only POST"}
        assert answer.headers["Allow"] == "POST, OPTIONS"
    async with portal.http.post(f"{portal.url}/v1/config", json={}) as answer:
        assert answer.status == 405
        assert await answer.json() == {"error": "only GET"}
        assert answer.headers["Allow"] == "GET, OPTIONS"
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with portal.http.options(f"{portal.url}/v1/rpc/{CFX}", headers=preflight) as answer:
        assert answer.status == 204
        assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert answer.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
        assert answer.headers["Access-Control-Allow-Headers"] == "Content-Type"
