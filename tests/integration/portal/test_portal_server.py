"""The portal against real validator status APIs: two validators (each its own store and
its own aiohttp status API, as ``relayer run`` serves it), one whose port is closed and
one that accepts connections and never answers; the real portal server in front.

Checks the set's view (the furthest state, attestations per jurisdiction, the release),
the lookup by source transaction, the history of an address, the validators that did
not answer, CORS, 400s, 404, 429.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from eth_utils.address import to_checksum_address

from relayer.api.metrics import Metrics
from relayer.api.server import ApiServer, build_app
from relayer.domain.types import (
    Address,
    Attestation,
    Direction,
    Hash32,
    SourceEvent,
    Validator,
    ValidatorSet,
)
from relayer.portal.app import build_portal_app
from relayer.portal.settings import PortalSettings
from relayer.service.books import SetBook
from relayer.service.status import NodeStatus
from relayer.store import Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")

CFX, ETH = 71, 11155111
VAULT = Address(b"\x0a" * 20)
TOKEN = Address(b"\x0c" * 20)
HK1, SG1, AE1 = (Address(bytes([b]) * 20) for b in (0x11, 0x22, 0x33))
SENDER = Address(bytes.fromhex("70997970c51812dc3a010c7d01b50e0d17dc79c8"))
OTHER = Address(b"\x55" * 20)
RELEASE_TX = Hash32(b"\xee" * 32)
ORIGIN = "https://bridge.example.org"
SET = ValidatorSet(
    1,
    tuple(
        sorted(
            [Validator(HK1, "HK"), Validator(SG1, "SG"), Validator(AE1, "AE")],
            key=lambda v: v.address,
        )
    ),
    2,
    2,
)


def event(nonce: int, sender: Address) -> SourceEvent:
    return SourceEvent(
        transfer_id=Hash32(nonce.to_bytes(32, "big")),
        src_chain_id=CFX,
        src_contract=VAULT,
        nonce=nonce,
        src_token=TOKEN,
        sender=sender,
        recipient=Address(b"\x44" * 20),
        amount=10**6 * nonce,
        dst_chain_id=ETH,
        block_number=900 + nonce,
        block_hash=Hash32((900 + nonce).to_bytes(32, "big")),
        tx_hash=Hash32(nonce.to_bytes(32, "little")),
        log_index=0,
    )


LOCKED, PENDING = event(1, SENDER), event(2, OTHER)


async def fill(store: Store, status: TransferStatus, signers: list[Address]) -> None:
    """LOCKED in ``status`` with ``signers``' attestations; PENDING observed."""
    async with store.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [LOCKED, PENDING], 1000)
        for signer in signers:
            await tx.record_attestation(
                Attestation(LOCKED.transfer_id, Hash32(b"\xd1" * 32), signer, b"\x01" * 65), 1
            )
        for step in (TransferStatus.CONFIRMED, TransferStatus.ATTESTED, TransferStatus.QUORUM):
            await tx.set_status(LOCKED.transfer_id, step)
            if step == status:
                break
        if status == TransferStatus.RELEASED:
            await tx.set_status(LOCKED.transfer_id, status, release_tx_hash=RELEASE_TX)


@dataclass
class Validators:
    urls: list[str]
    stores: list[Store]


@pytest_asyncio.fixture(loop_scope="session")
async def validators(tmp_path: Path) -> AsyncIterator[Validators]:
    """Validator 0 saw the release, validator 1 only the quorum; 2 is down, 3 hangs."""
    stores, servers, urls = [], [], []
    for i, (status, signers) in enumerate(
        [(TransferStatus.RELEASED, [HK1, SG1]), (TransferStatus.QUORUM, [HK1, AE1])]
    ):
        store = await Store.open(
            f"sqlite+aiosqlite:///{tmp_path / f'v{i}.db'}", migrate_schema=True
        )
        await fill(store, status, signers)
        source = NodeStatus(
            store=store,
            sets=SetBook(contracts={}, current={ETH: SET}),
            metrics=Metrics(),
            rpcs={},
            watchers={},
            gossip=None,  # type: ignore[arg-type]  # the transfer reads never touch it
            submitter_accounts={},
            stall_after_s=60.0,
        )
        server = ApiServer(build_app(source, Metrics()), "127.0.0.1", 0)
        await server.start()
        stores.append(store)
        servers.append(server)
        urls.append(f"http://127.0.0.1:{server.port}")
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        urls.append(f"http://127.0.0.1:{closed.getsockname()[1]}")
    hung = socket.socket()  # accepts (the kernel's backlog) and never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    urls.append(f"http://127.0.0.1:{hung.getsockname()[1]}")
    try:
        yield Validators(urls, stores)
    finally:
        hung.close()
        for server in servers:
            await server.stop()
        for store in stores:
            await store.close()


def portal_settings(urls: list[str], timeout_s: float = 10.0, **rate: Any) -> PortalSettings:
    names = [("hk-1", "HK"), ("ae-1", "AE"), ("sg-down", "SG"), ("sg-hung", "SG")][: len(urls)]
    return PortalSettings(
        server={"cors_origins": [ORIGIN]},
        rate_limit=rate or {"requests_per_s": 0.001, "burst": 1000},
        upstream={"timeout_s": timeout_s, "list_limit_max": 50},
        validators=[
            {"name": n, "url": u, "jurisdiction": j} for (n, j), u in zip(names, urls, strict=True)
        ],
        chains=[
            {
                "chain_id": CFX,
                "name": "Conflux eSpace Testnet",
                "kind": "conflux-espace",
                "rpc_url": "http://127.0.0.1:1",
                "bridge": to_checksum_address(bytes(VAULT)),
                "native_currency": {"name": "Conflux", "symbol": "CFX"},
                "confirmation": "depth:5",
            },
            {
                "chain_id": ETH,
                "name": "Sepolia",
                "kind": "ethereum",
                "rpc_url": "http://127.0.0.1:2",
                "explorer_tx_url": "https://sepolia.etherscan.io/tx/{hash}",
                "bridge": "0x" + "0b" * 20,
                "native_currency": {"name": "Ether", "symbol": "ETH"},
            },
        ],
    )


@dataclass
class Portal:
    url: str
    http: aiohttp.ClientSession

    async def get(self, path: str, **headers: str) -> tuple[int, Any, Any]:
        async with self.http.get(self.url + path, headers=headers) as response:
            return response.status, await response.json(), response.headers


@pytest_asyncio.fixture(loop_scope="session")
async def portal(validators: Validators) -> AsyncIterator[Portal]:
    """The portal in front of the two validators and the one that is down."""
    settings = portal_settings(validators.urls[:3])
    server = ApiServer(build_portal_app(settings), "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Portal(f"http://127.0.0.1:{server.port}", http)
    finally:
        await server.stop()


async def test_a_transfer_is_the_view_of_the_set(portal: Portal) -> None:
    tid = "0x" + LOCKED.transfer_id.hex()
    status, shown, headers = await portal.get(f"/v1/transfers/{tid}")
    assert status == 200, shown
    assert shown["state"] == "released"  # validator 0 saw it, validator 1 lags at quorum
    assert shown["release"]["tx"] == "0x" + RELEASE_TX.hex()
    assert shown["release"]["explorer_url"] == "https://sepolia.etherscan.io/tx/0x" + "ee" * 32
    by = shown["attestations"]["by_jurisdiction"]
    assert {j: [s["validator"] for s in v] for j, v in by.items()} == {
        "HK": [to_checksum_address(bytes(HK1))],
        "SG": [to_checksum_address(bytes(SG1))],
        "AE": [to_checksum_address(bytes(AE1))],
    }
    assert all(s["at"] for v in by.values() for s in v)  # when each arrived
    assert shown["quorum"] == {"threshold": 2, "min_jurisdictions": 2, "reached": True}
    answers = [(v["name"], v["answer"], v["status"]) for v in shown["validators"]]
    assert answers == [
        ("hk-1", "found", "released"),
        ("ae-1", "found", "quorum"),
        ("sg-down", "unreachable", None),
    ]
    assert "Connect" in shown["validators"][2]["error"]  # connection refused
    assert "Access-Control-Allow-Origin" not in headers  # no Origin, no CORS header


async def test_the_source_transaction_finds_the_same_transfer(portal: Portal) -> None:
    status, shown, _ = await portal.get("/v1/transfers/0x" + LOCKED.tx_hash.hex().upper())
    assert status == 200
    assert shown["transfer_id"] == "0x" + LOCKED.transfer_id.hex()
    assert shown["source_tx"] == "0x" + LOCKED.tx_hash.hex()


async def test_a_hung_validator_is_unreachable_after_the_timeout(validators: Validators) -> None:
    """Each validator is asked under its timeout, all at once: four requests to a portal
    whose fourth validator never answers take about one timeout, not four (nor forever)."""
    server = ApiServer(build_portal_app(portal_settings(validators.urls, 1.0)), "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            portal = Portal(f"http://127.0.0.1:{server.port}", http)
            loop = asyncio.get_running_loop()
            started = loop.time()
            key = "/v1/transfers/0x" + LOCKED.transfer_id.hex()
            answers = await asyncio.gather(*(portal.get(key) for _ in range(4)))
            assert loop.time() - started < 3.5
    finally:
        await server.stop()
    for status, shown, _ in answers:
        assert status == 200
        hung = shown["validators"][3]
        assert (hung["name"], hung["answer"]) == ("sg-hung", "unreachable")
        assert hung["error"] == "no answer within 1.0s"


async def test_an_unknown_transfer_is_404_with_who_answered(portal: Portal) -> None:
    status, shown, _ = await portal.get("/v1/transfers/0x" + "77" * 32)
    assert status == 404
    assert shown["error"] == "unknown transfer"
    assert [v["answer"] for v in shown["validators"]] == [
        "not_found",
        "not_found",
        "unreachable",
    ]


async def test_the_history_of_an_address(portal: Portal) -> None:
    address = to_checksum_address(bytes(SENDER))
    status, shown, _ = await portal.get(f"/v1/transfers?address={address}&limit=5")
    assert status == 200, shown
    assert (shown["address"], shown["limit"]) == (address, 5)
    assert [(t["transfer_id"], t["state"]) for t in shown["transfers"]] == [
        ("0x" + LOCKED.transfer_id.hex(), "released")
    ], shown["validators"]
    assert [v["answer"] for v in shown["validators"]] == [
        "listed",
        "listed",
        "unreachable",
    ]
    status, shown, _ = await portal.get(f"/v1/transfers?address={address.lower()}")
    assert status == 200 and len(shown["transfers"]) == 1  # lower case: no checksum to check


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1/transfers/0x1234", "0x and 64 hex digits"),
        ("/v1/transfers/" + "ab" * 32, "0x and 64 hex digits"),
        ("/v1/transfers", "address is required"),
        ("/v1/transfers?address=0x70997970c51812dc3A010C7d01b50e0d17dc79C8", "bad EIP-55"),
        ("/v1/transfers?address=0x1234", "40 hex digits"),
        ("/v1/transfers?address=0x" + "55" * 20 + "&limit=0", "from 1 to 50"),
        ("/v1/transfers?address=0x" + "55" * 20 + "&limit=51", "from 1 to 50"),
        ("/v1/transfers?address=0x" + "55" * 20 + "&limit=x", "from 1 to 50"),
    ],
)
async def test_bad_input_is_400_with_a_message(portal: Portal, path: str, message: str) -> None:
    status, shown, _ = await portal.get(path)
    assert status == 400
    assert message in shown["error"]


async def test_an_unknown_endpoint_is_a_json_404(portal: Portal) -> None:
    status, shown, _ = await portal.get("/v1/nothing")
    assert (status, shown) == (404, {"error": "no such endpoint: /v1/nothing"})


async def test_cors_for_the_configured_origin_only(portal: Portal) -> None:
    _, _, headers = await portal.get("/v1/config", Origin=ORIGIN)
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Vary"] == "Origin"
    _, _, headers = await portal.get("/v1/config", Origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in headers
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    async with portal.http.options(portal.url + "/v1/transfers", headers=preflight) as answer:
        assert answer.status == 204
        assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "GET" in answer.headers["Access-Control-Allow-Methods"]


async def test_config_openapi_and_the_page_are_served(portal: Portal) -> None:
    status, config, _ = await portal.get("/v1/config")
    assert status == 200
    assert [c["chain_id"] for c in config["chains"]] == [CFX, ETH]
    assert config["chains"][0]["confirmation"]["blocks"] == 5
    assert config["jurisdictions"] == ["AE", "HK", "SG"]
    status, document, _ = await portal.get("/v1/openapi.json")
    assert status == 200 and document["openapi"] == "3.1.0"
    async with portal.http.get(portal.url + "/") as page:
        assert page.status == 200 and "/v1/openapi.json" in await page.text()
    async with portal.http.get(portal.url + "/index.html") as page:
        assert page.status == 200


async def test_a_client_over_its_rate_gets_429_with_retry_after(validators: Validators) -> None:
    settings = portal_settings(validators.urls[:3], requests_per_s=0.5, burst=2)
    server = ApiServer(build_portal_app(settings, clock=lambda: 0.0), "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{server.port}/v1/config"
            codes = []
            for _ in range(3):
                async with http.get(url, headers={"Origin": ORIGIN}) as answer:
                    codes.append(answer.status)
                    last_headers, last_body = answer.headers, await answer.json()
            assert codes == [200, 200, 429]
            assert last_headers["Retry-After"] == "2"
            assert last_headers["Access-Control-Allow-Origin"] == ORIGIN  # readable by the page
            assert "too many requests" in last_body["error"]
            async with http.get(f"http://127.0.0.1:{server.port}/") as page:
                assert page.status == 200  # the page itself is not rate-limited
    finally:
        await server.stop()


async def test_the_validator_api_filters_by_address(validators: Validators) -> None:
    address = to_checksum_address(bytes(OTHER))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{validators.urls[1]}/transfers?address={address}") as answer:
            listed = await answer.json()
        assert [v["transfer_id"] for v in listed] == ["0x" + PENDING.transfer_id.hex()]
        bad = "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"
        async with http.get(f"{validators.urls[1]}/transfers?address={bad}") as answer:
            assert answer.status == 400
