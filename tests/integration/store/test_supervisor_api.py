"""The supervisor API over a real store (SQLite and PostgreSQL) and a real anvil: what each
supervisor sees of this HK validator's records, and every refusal of bad requests.

The validator set: this validator (HK), a peer in SG, a peer in AE. Transfers:
- ``released``: approved by us and by SG;
- ``refused``: refused by us (stored refusal, under pack v3) and by AE (signed decision);
- ``delayed``: approved by SG only, delayed until ``EXECUTABLE_AT``;
- ``refunded``: refused by AE only (the status written as the lifecycle will, a string);
- ``review``: held for our review, nothing signed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from eth_account import Account
from sqlalchemy import text
from store_factories import ETHEREUM, make_event
from web3 import Web3

from relayer.api.supervisor_app import build_supervisor_app
from relayer.api.supervisor_auth import Credential, token_sha256
from relayer.chain import transactions
from relayer.chain.rpc import RpcClient
from relayer.devnet import deploy
from relayer.devnet.anvil import AnvilNode
from relayer.domain.decisions import approval, refusal
from relayer.domain.limits import Spend
from relayer.domain.packs import PolicyPack, Sanctions, TokenRules
from relayer.domain.policy import RefusalReason, Refused
from relayer.domain.types import Address, Direction, Hash32, Validator, ValidatorSet, checksum
from relayer.service.books import SetBook
from relayer.service.policy import PolicyBook
from relayer.service.supervision import NodeSupervision
from relayer.settings import PolicySettings
from relayer.store import AlertKind, Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")

ETH = 31337
CFX = 71
ME = Address(b"\x01" * 20)
SG_PEER = Address(b"\x02" * 20)
AE_PEER = Address(b"\x03" * 20)
PACK_HASH = Hash32(b"\x9c" * 32)
PEER_POLICY = Hash32(b"\x7e" * 32)
EXECUTABLE_AT = 1_900_000_000
TOKENS = {
    "hk": "token-of-hk",
    "sgae": "token-of-sg-and-ae",
    "all": "token-of-all",
    "ch": "token-of-ch",
}
CREDENTIALS = [
    Credential("hk-sfc", bytes.fromhex(token_sha256(TOKENS["hk"])), frozenset({"HK"})),
    Credential("sg-ae", bytes.fromhex(token_sha256(TOKENS["sgae"])), frozenset({"SG", "AE"})),
    Credential("all", bytes.fromhex(token_sha256(TOKENS["all"])), frozenset({"HK", "SG", "AE"})),
    Credential("ch-finma", bytes.fromhex(token_sha256(TOKENS["ch"])), frozenset({"CH"})),
]


@dataclass
class Chain:
    rpc_url: str
    mirror: Address
    frozen: str  # the account still frozen
    thawed: str  # frozen, then unfrozen


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    """An anvil with a MirroredToken whose issuer froze two accounts and unfroze one."""
    with AnvilNode.start_sync(chain_id=ETH) as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url))
        issuer = Account.from_key(node.funded_keys[0])
        mirror = deploy.deploy(
            w3, issuer, "MirroredToken", "Bridged HKD", "bAxHKD", 6, issuer.address, issuer.address
        )
        frozen, thawed = checksum(b"\xaa" * 20), checksum(b"\xbb" * 20)
        transactions.send(w3, issuer, mirror.functions.freeze(thawed))
        transactions.send(w3, issuer, mirror.functions.freeze(frozen))
        transactions.send(w3, issuer, mirror.functions.unfreeze(thawed))
        yield Chain(node.rpc_url, Address(bytes.fromhex(mirror.address[2:])), frozen, thawed)


@dataclass
class World:
    client: TestClient[Any, Any]
    store: Store
    ids: dict[str, Hash32]
    source: NodeSupervision

    async def get(self, path: str, who: str | None = "hk", **params: str) -> tuple[int, Any]:
        headers = {} if who is None else {"Authorization": f"Bearer {TOKENS[who]}"}
        response = await self.client.get(path, headers=headers, params=params)
        return response.status, await response.json()


def _pack(mirror: Address) -> PolicyPack:
    return PolicyPack(
        jurisdiction="HK",
        version=3,
        issued_at="2026-12-01T00:00:00Z",
        tokens={
            (CFX, Address(b"\x00" * 20)): TokenRules(10**30, None, 5 * 10**18, 10**21, "CFX"),
            (ETH, mirror): TokenRules(10**12, symbol="bAxHKD"),
        },
        sanctions=Sanctions("test", "1", frozenset()),
        content_hash=PACK_HASH,
    )


async def _records(store: Store, nonce: int) -> dict[str, Hash32]:
    names = ["released", "refused", "delayed", "refunded", "review"]
    events = {name: make_event(nonce * 10 + i) for i, name in enumerate(names)}
    ids = {name: e.transfer_id for name, e in events.items()}
    async with store.transaction() as tx:
        await tx.record_scan(
            CFX, Address(b"\x11" * 20), Direction.TO_ETHEREUM, [*events.values()], 1
        )
        await tx.record_pack(PACK_HASH, "HK", 3, b"raw pack", b"\x01" * 65)
        digest = Hash32(b"\xd1" * 32)
        await tx.record_decision(approval(ids["released"], digest, PACK_HASH), ME, b"s" * 65)
        await tx.record_decision(approval(ids["released"], digest, PEER_POLICY), SG_PEER, b"s" * 65)
        await tx.set_status(ids["released"], TransferStatus.RELEASED)
        await tx.record_refusal(
            ids["refused"], ME, "amount_above_limit", "over 10", PACK_HASH.hex()
        )
        sanctioned = Refused(RefusalReason.SENDER_SANCTIONED, "on the AE list")
        await tx.record_decision(
            refusal(ids["refused"], sanctioned, PEER_POLICY), AE_PEER, b"s" * 65
        )
        await tx.set_status(ids["refused"], TransferStatus.REFUSED, "amount_above_limit")
        await tx.record_decision(approval(ids["delayed"], digest, PEER_POLICY), SG_PEER, b"s" * 65)
        await tx.set_status(ids["delayed"], TransferStatus.DELAYED, executable_at=EXECUTABLE_AT)
        blocked = Refused(RefusalReason.ISSUER_BLACKLISTED, "frozen by the issuer")
        await tx.record_decision(refusal(ids["refunded"], blocked, PEER_POLICY), AE_PEER, b"s" * 65)
        await tx.set_status(ids["review"], TransferStatus.REVIEW, "above the review threshold")
        for i, name in enumerate(("released", "delayed")):
            event = events[name]
            spend = Spend(ids[name], (CFX, event.src_token), event.sender, 10**18, 1_000 + i)
            await tx.record_spend(spend, PACK_HASH)
        await tx.raise_alert(AlertKind.WARNING, ETH, {"what": "a test alert"})
    async with store.engine.begin() as conn:  # a state this code's lifecycle does not write yet
        await conn.execute(
            text("UPDATE transfers SET status = 'refunded' WHERE transfer_id = :t"),
            {"t": bytes(ids["refunded"])},
        )
    return ids


@pytest_asyncio.fixture(loop_scope="session")
async def world(store: Store, chain: Chain, nonce: int) -> AsyncIterator[World]:
    members = (Validator(ME, "HK"), Validator(SG_PEER, "SG"), Validator(AE_PEER, "AE"))
    vset = ValidatorSet(1, members, 2, 1)
    sets = SetBook(contracts={}, current={ETH: vset, ETHEREUM: vset})  # the events' destination
    policy = PolicyBook(PolicySettings(), "HK")
    policy.pack = _pack(chain.mirror)
    ids = await _records(store, nonce)
    async with RpcClient(chain.rpc_url, timeout=5) as rpc:
        now = [1_000.0 + 86_400 * 0.5]
        source = NodeSupervision(
            store=store,
            sets=sets,
            policy=policy,
            validator=bytes(ME),
            jurisdiction="HK",
            ethereum=rpc,
            ethereum_chain_id=ETH,
            max_log_window=2,  # several windows over the few blocks
            freeze_lookback=1_000,
            clock=lambda: now[0],
        )
        app = build_supervisor_app(source, CREDENTIALS)
        async with TestClient(TestServer(app)) as client:
            yield World(client, store, ids, source)


async def test_missing_or_wrong_tokens_get_401_and_writes_get_405(world: World) -> None:
    response = await world.client.get("/supervisor/api/transfers")
    assert response.status == 401
    assert (await response.json())["error"].startswith("missing Authorization header")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="supervisor"'
    bad = await world.client.get(
        "/supervisor/api/me", headers={"Authorization": "Bearer " + token_sha256(TOKENS["hk"])}
    )
    assert (bad.status, (await bad.json())["error"]) == (401, "unknown token")
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        answer = await world.client.request(
            method, "/supervisor/api/transfers", headers={"Authorization": "Bearer x"}
        )
        assert answer.status == 405
        assert "read-only" in (await answer.json())["error"]
        assert answer.headers["Allow"] == "GET, HEAD"
    status, body = await world.get("/supervisor/api/nothing")
    assert (status, body["error"]) == (404, "no such path /supervisor/api/nothing")


async def test_every_answer_carries_the_security_headers(world: World) -> None:
    for path in ("/supervisor/", "/supervisor/app.js", "/supervisor/api/me"):
        response = await world.client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = await world.client.get("/supervisor/")
    html = await page.text()
    assert page.content_type == "text/html" and '<script src="/supervisor/app.js"' in html
    assert "<script>" not in html and "style=" not in html  # nothing inline: CSP holds
    assert (await world.client.get("/supervisor/evil.js")).status == 404


async def test_me_names_the_supervisor_scope_and_validator(world: World) -> None:
    status, body = await world.get("/supervisor/api/me", "sgae")
    assert status == 200
    assert body["supervisor"] == "sg-ae" and body["jurisdictions"] == ["AE", "SG"]
    assert body["validator"] == {"address": "0x" + "01" * 20, "jurisdiction": "HK"}
    assert body["known_jurisdictions"] == ["AE", "HK", "SG"]
    assert "vetoed" in body["states"] and "refunded" in body["states"]


async def test_transfers_are_scoped_by_the_jurisdictions_of_their_validators(world: World) -> None:
    ids = {name: "0x" + tid.hex() for name, tid in world.ids.items()}
    names = {v: k for k, v in ids.items()}

    async def listed(who: str, **params: str) -> dict[str, list[str]]:
        status, body = await world.get("/supervisor/api/transfers", who, **params)
        assert status == 200, body
        return {names[t["transfer_id"]]: t["jurisdictions"] for t in body["transfers"]}

    # this validator (HK) observed and decided every transfer it stores: its supervisor
    # sees them all, and each concerns HK besides its signers' jurisdictions
    everything = {
        "released": ["HK", "SG"],
        "refused": ["AE", "HK"],
        "delayed": ["HK", "SG"],
        "refunded": ["AE", "HK"],
    }
    # a transfer held for review here has no decision yet: only HK's supervisor sees it
    assert await listed("hk") == {**everything, "review": ["HK"]}
    assert await listed("sgae") == everything  # each of these has an SG or AE signer
    assert await listed("sgae", jurisdiction="AE") == {
        "refused": ["AE", "HK"],
        "refunded": ["AE", "HK"],
    }
    assert await listed("sgae", jurisdiction="SG") == {
        "released": ["HK", "SG"],
        "delayed": ["HK", "SG"],
    }
    assert await listed("ch") == {}  # no CH validator took part in any
    assert await listed("all", state="vetoed,cancelled,refunded") == {"refunded": ["AE", "HK"]}
    assert await listed("all", state="delayed") == {"delayed": ["HK", "SG"]}
    assert await listed("all", state="vetoed") == {}
    assert await listed("all", **{"from": "2999-01-01"}) == {}
    _, body = await world.get("/supervisor/api/transfers", "all", state="delayed")
    assert body["transfers"][0]["executable_at"] == EXECUTABLE_AT


async def test_a_jurisdiction_out_of_scope_is_403_naming_it(world: World) -> None:
    status, body = await world.get("/supervisor/api/transfers", "sgae", jurisdiction="SG,HK")
    assert status == 403
    assert body == {
        "error": "jurisdiction HK is not in the scope of supervisor sg-ae",
        "jurisdiction": "HK",
    }
    for path in ("/supervisor/api/volumes", "/supervisor/api/audit", "/supervisor/api/alerts"):
        status, body = await world.get(path, "sgae")
        assert status == 403, path
        assert body["error"].startswith("jurisdiction HK is not in the scope of supervisor sg-ae")


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/supervisor/api/transfers", {"state": "lost"}, "state: unknown state 'lost'"),
        ("/supervisor/api/transfers", {"from": "2026-02-30"}, "from: '2026-02-30' is not a date"),
        ("/supervisor/api/transfers", {"limit": "1000"}, "limit: 1000 is out of range 1..500"),
        ("/supervisor/api/refusals", {"jurisdiction": "Hong Kong"}, "jurisdiction: 'Hong Kong'"),
        ("/supervisor/api/volumes", {"days": "0"}, "days: 0 is out of range 1..31"),
        ("/supervisor/api/audit", {"verify": "1"}, "unknown parameter 'verify'"),
        ("/supervisor/api/transfers/0x12", {}, "transfer id '0x12' is not 0x and 64 hex digits"),
    ],
)
async def test_malformed_parameters_are_400_naming_what_was_wrong(
    world: World, path: str, params: dict[str, str], message: str
) -> None:
    status, body = await world.get(path, "all", **params)
    assert status == 400
    assert body["error"].startswith(message)


async def test_one_transfer_in_scope_404_unknown_403_outside(world: World) -> None:
    refused = "0x" + world.ids["refused"].hex()
    status, body = await world.get(f"/supervisor/api/transfers/{refused}", "hk")
    assert status == 200
    assert body["status"] == "refused" and body["jurisdictions"] == ["AE", "HK"]
    assert {r["jurisdiction"] for r in body["refusals"]} == {"HK", "AE"}
    delayed = "0x" + world.ids["delayed"].hex()
    status, body = await world.get(f"/supervisor/api/transfers/{delayed}", "hk")
    assert (status, body["jurisdictions"]) == (200, ["HK", "SG"])
    status, body = await world.get(f"/supervisor/api/transfers/{delayed}", "ch")
    assert status == 403
    assert body["error"] == (
        f"transfer {delayed} concerns jurisdictions HK, SG, none in the scope of supervisor "
        "ch-finma"
    )
    unknown = "0x" + "ee" * 32
    status, body = await world.get(f"/supervisor/api/transfers/{unknown}", "hk")
    assert (status, body["error"]) == (404, f"unknown transfer {unknown}")
    refunded = "0x" + world.ids["refunded"].hex()
    status, body = await world.get(f"/supervisor/api/transfers/{refunded}", "sgae")
    assert (status, body["status"]) == (200, "refunded")  # a state added by the lifecycle


async def test_refusals_with_reasons_and_pack_versions(world: World) -> None:
    refused = "0x" + world.ids["refused"].hex()
    status, body = await world.get("/supervisor/api/refusals", "hk")
    assert status == 200
    (ours,) = body["refusals"]
    assert ours["transfer_id"] == refused and ours["validator"] == checksum(ME)
    assert (ours["reason"], ours["detail"], ours["signed"]) == (
        "amount_above_limit",
        "over 10",
        False,
    )
    assert (ours["pack_jurisdiction"], ours["pack_version"]) == ("HK", 3)
    assert ours["policy"] == "0x" + PACK_HASH.hex() and ours["transfer_status"] == "refused"
    status, body = await world.get("/supervisor/api/refusals", "sgae")
    reasons = {(r["jurisdiction"], r["reason"], r["transfer_status"]) for r in body["refusals"]}
    assert reasons == {
        ("AE", "sender_sanctioned", "refused"),
        ("AE", "issuer_blacklisted", "refunded"),
    }
    assert all(r["signed"] and r["policy"] == "0x" + PEER_POLICY.hex() for r in body["refusals"])


async def test_reviews_volumes_alerts_of_this_validator(world: World) -> None:
    status, body = await world.get("/supervisor/api/reviews", "hk")
    assert status == 200
    (held,) = body["reviews"]
    assert held["transfer_id"] == "0x" + world.ids["review"].hex()
    assert (held["status"], held["decision"]) == ("review", None)

    status, body = await world.get("/supervisor/api/volumes", "hk", days="2")
    assert status == 200
    assert body["pack"] == {"jurisdiction": "HK", "version": 3, "hash": "0x" + PACK_HASH.hex()}
    cfx = next(t for t in body["tokens"] if t["symbol"] == "CFX")
    assert cfx["limits"]["max_total_24h"] == str(5 * 10**18)
    assert cfx["rolling_24h"] == str(2 * 10**18) and cfx["rolling_24h_share"] == 0.4
    assert [(d["day"], d["approved"], d["transfers"]) for d in cfx["days"]] == [
        ("1969-12-31", "0", 0),
        ("1970-01-01", str(2 * 10**18), 2),
    ]

    status, body = await world.get("/supervisor/api/alerts", "hk")
    assert status == 200
    (alert,) = body["alerts"]
    assert (alert["kind"], alert["detail"]) == ("warning", {"what": "a test alert"})


async def test_freezes_are_read_from_the_mirrors_logs(world: World, chain: Chain) -> None:
    status, body = await world.get("/supervisor/api/freezes", "sgae")  # public facts: any scope
    assert status == 200, body
    assert body["tokens_watched"] == [checksum(chain.mirror)]
    assert [(e["account"], e["event"]) for e in body["events"]] == [
        (chain.thawed, "frozen"),
        (chain.frozen, "frozen"),
        (chain.thawed, "unfrozen"),
    ]
    assert [e["account"] for e in body["frozen"]] == [chain.frozen]


async def test_audit_status_is_verified_and_a_rewritten_link_is_reported(world: World) -> None:
    status, body = await world.get("/supervisor/api/audit", "hk")
    assert status == 200
    assert body["intact"] is True and body["entries"] > 5 and body["head"].startswith("0x")
    async with world.store.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE audit_log SET event = 'rewritten' "
                "WHERE seq = (SELECT MIN(seq) + 2 FROM audit_log)"
            )
        )
    world.source.clock = lambda: 10**9  # past the cached verification
    status, body = await world.get("/supervisor/api/audit", "all")
    assert status == 200
    assert body["intact"] is False and body["broken_at"] is not None
    assert body["problem"] == "hash does not match the row's content"
