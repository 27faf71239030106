"""The worst days, on the real stack: crashes, a broker outage, hostile peers, leaked keys.

Every scenario ends with the same two facts: each transfer that should be executed was
executed exactly once with the exact amount, and no other was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import time

import aiomqtt
import pytest
from bridge_client import (
    Sent,
    alerts,
    alerts_cli,
    assert_exactly_once,
    burn,
    ethereum_mining_paused,
    executions,
    lock,
    metric,
    status,
    wait_status,
    wait_until,
)
from eth_account import Account

from relayer.devnet.postgres import PostgresServer
from relayer.devnet.stack import Stack
from relayer.domain.digest import release_digest
from relayer.domain.signature import sign_digest
from relayer.domain.types import Address, EvmDomain, Hash32, Release
from relayer.gossip.topics import attestation_topic
from relayer.gossip.wire import AttestationMessage, encode_attestation

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


ATTESTATIONS = "relayer_attestations_received_total"


def test_sigkill_every_relayer_mid_burst_then_restart(bridge: Stack) -> None:
    users = bridge.users
    sent = [
        lock(bridge, users[i % 3], "AxHKD", 100_000 + i, users[i % 3].address) for i in range(8)
    ]
    for index in list(bridge.relayers):
        bridge.kill_relayer(index)
    more = [lock(bridge, users[i % 3], "CFXT", 10**15 + i, users[i % 3].address) for i in range(4)]
    for index in range(len(bridge.validators)):
        bridge.start_relayer(index)
    bridge.wait_ready()
    for s in sent + more:
        assert_exactly_once(bridge, s)


def test_sigkill_a_relayer_after_it_signed_then_restart(bridge: Stack) -> None:
    user = bridge.users[0]
    sent = lock(bridge, user, "AxHKD", 333_333, user.address)
    wait_until(lambda: (v := status(bridge, 1, sent)) and v["status"] != "confirmed" and v)
    bridge.kill_relayer(1)
    assert_exactly_once(bridge, sent)
    bridge.start_relayer(1)
    bridge.wait_ready(indexes=[1])
    view = wait_until(lambda: (v := status(bridge, 1, sent)) and v["status"] == "released" and v)
    assert view["amount"] == "333333"


def test_broker_down_for_30_seconds_mid_transfer(bridge: Stack) -> None:
    assert bridge.broker is not None
    user = bridge.users[1]
    bridge.broker.stop()
    try:
        sent = lock(bridge, user, "AxHKD", 444_444, user.address)
        wait_until(lambda: (v := status(bridge, 0, sent)) and v["status"] == "attested" and v)
        time.sleep(30)  # the scenario is a 30-second outage: nothing can be gossiped
        assert bridge.gateway is not None
        assert not bridge.gateway.functions.isProcessed(sent.transfer_id).call()
    finally:
        bridge.restart_broker()
    assert_exactly_once(bridge, sent)


def test_postgresql_restarted_under_a_running_relayer(
    bridge: Stack, private_pg: PostgresServer
) -> None:
    """Validator 3's PostgreSQL goes away for 10 s while a transfer is in flight.

    The relayer must either ride it out (every loop retries ``StoreError``) or exit
    non-zero so that its supervisor restarts it; either way nothing is lost and nothing
    is executed twice, and it reports the transfer ``released`` afterwards.
    """
    user = bridge.users[1]
    relayer = bridge.relayers[3]
    sent = lock(bridge, user, "AxHKD", 666_666, user.address)
    private_pg.restart(down_s=10)
    assert_exactly_once(bridge, sent)
    after = lock(bridge, user, "AxHKD", 666_667, user.address)
    assert_exactly_once(bridge, after)
    code = relayer.exit_code()
    if code is not None:  # it chose to exit: as a supervisor would, start it again
        assert code == 1, relayer.log_tail()
        bridge.start_relayer(3)
        bridge.wait_ready(indexes=[3])
    for s in (sent, after):
        view = wait_status(bridge, 3, s, "released", timeout=120)
        assert view["amount"] == str(s.amount)
    assert wait_until(lambda: bridge.http_get(3, "/readyz"), timeout=60)["ready"] is True


def _forged(bridge: Stack, sent: Sent, key: str, amount: int, nonce: int = 0) -> AttestationMessage:
    """An attestation of ``sent`` (with ``amount``) signed by ``key`` over the real digest."""
    assert bridge.anvil is not None
    assert bridge.gateway is not None
    assert bridge.conflux is not None
    release = Release(
        transfer_id=Hash32(sent.transfer_id),
        src_chain_id=bridge.conflux.chain_id,
        nonce=nonce,
        token=Address(bytes.fromhex(sent.token.ethereum[2:])),
        recipient=Address(bytes.fromhex(sent.recipient[2:])),
        amount=amount,
    )
    domain = EvmDomain(bridge.anvil.chain_id, Address(bytes.fromhex(bridge.gateway.address[2:])))
    digest = release_digest(domain, release)
    signer = Address(bytes.fromhex(Account.from_key(key).address[2:]))
    return AttestationMessage(
        release=release,
        dst_chain_id=bridge.anvil.chain_id,
        set_id=1,
        digest=digest,
        signer=signer,
        signature=sign_digest(bytes.fromhex(key[2:]), digest),
    )


async def _publish_hostile(bridge: Stack, messages: list[tuple[str, bytes]], junk: int) -> None:
    assert bridge.broker is not None
    prefix = bridge.options.topic_prefix
    async with aiomqtt.Client("127.0.0.1", bridge.broker.port, identifier="attacker") as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)
        for i in range(junk):
            kind = i % 4
            if kind == 0:
                topic, payload = f"{prefix}/v1/att/1/{'ab' * 32}/0x{'cd' * 20}", os.urandom(64)
            elif kind == 1:
                topic, payload = f"{prefix}/v1/att/31337/x/y", b"{}"
            elif kind == 2:
                topic, payload = f"{prefix}/v1/att/31337/0x{'00' * 32}/0x{'11' * 20}", b"x" * 5000
            else:
                topic, payload = f"{prefix}/v1/att/31337/0x{'00' * 32}/0x{'11' * 20}", b'{"v":2}'
            await client.publish(topic, payload, qos=0)


def test_hostile_peers_are_dropped_counted_and_honest_ones_complete(bridge: Stack) -> None:
    user = bridge.users[2]
    sent = lock(bridge, user, "AxHKD", 555_555, user.address)
    prefix = bridge.options.topic_prefix
    outsider = "0x" + "42" * 32
    member = bridge.validators[0].private_key
    bad_sig = _forged(bridge, sent, outsider, sent.amount)
    bad_sig = AttestationMessage(
        release=bad_sig.release,
        dst_chain_id=bad_sig.dst_chain_id,
        set_id=1,
        digest=bad_sig.digest,
        signer=Address(bytes.fromhex(bridge.validators[3].address[2:])),  # claims to be v3
        signature=bad_sig.signature,
    )
    non_member = _forged(bridge, sent, outsider, sent.amount)
    other_content = _forged(bridge, sent, member, sent.amount * 1000)  # equivocation by v0
    hostile = [(attestation_topic(prefix, m), encode_attestation(m)) for m in (bad_sig, non_member)]
    asyncio.run(_publish_hostile(bridge, hostile, junk=0))
    assert_exactly_once(bridge, sent)
    for v in range(5):  # every relayer holds validator 0's honest attestation by now
        wait_until(lambda v=v: (x := status(bridge, v, sent)) and x["status"] == "released")
    # A member's attestation for a transfer id no relayer observed waits in the bounded
    # buffer and never becomes a transfer; a replay of an old honest message is a duplicate.
    unknown = _forged(bridge, dataclasses.replace(sent, transfer_id=b"\x99" * 32), member, 5)
    nonce = int(status(bridge, 2, sent)["nonce"])  # type: ignore[index]
    replay = _forged(bridge, sent, member, sent.amount, nonce)  # validator 0's own, again
    counted = {
        r: metric(bridge, 2, ATTESTATIONS, f'result="{r}"') for r in ("buffered", "duplicate")
    }
    asyncio.run(
        _publish_hostile(
            bridge,
            [(attestation_topic(prefix, m), encode_attestation(m)) for m in (unknown, replay)],
            0,
        )
    )
    for result, before_count in counted.items():
        wait_until(
            lambda r=result, b=before_count: metric(bridge, 2, ATTESTATIONS, f'result="{r}"') > b
        )
    assert status(bridge, 2, dataclasses.replace(sent, transfer_id=b"\x99" * 32)) is None
    # Validator 0's key now also signs other content for the same transfer.
    asyncio.run(
        _publish_hostile(
            bridge,
            [(attestation_topic(prefix, other_content), encode_attestation(other_content))],
            0,
        )
    )

    # The equivocation by validator 0 is reported with both signatures as evidence.
    def equivocations() -> list[dict[str, object]]:
        details = [a["detail"] for a in alerts(bridge, 2) if isinstance(a["detail"], dict)]
        return [d for d in details if str(d.get("reason", "")).startswith("equivocation")]

    found = wait_until(equivocations, timeout=30)
    assert found[0]["signer"] == bridge.validators[0].address
    assert len(found[0]["digests"]) == 2
    # Then a flood of 10,000 junk messages.
    before = metric(bridge, 2, "relayer_gossip_received_messages")
    started = time.monotonic()
    asyncio.run(_publish_hostile(bridge, [], junk=10_000))
    flood_seconds = time.monotonic() - started
    later = lock(bridge, user, "AxHKD", 555_556, user.address)
    assert_exactly_once(bridge, later)
    # Still live and responsive after the flood.
    assert bridge.http_get(2, "/healthz") == {"status": "ok"}
    ready = wait_until(lambda: bridge.http_get(2, "/readyz"), timeout=60)  # 503 meanwhile
    assert ready["ready"] is True
    # QoS 0 junk may be shed by the broker under load; what arrives is counted.
    after = wait_until(
        lambda: (n := metric(bridge, 2, "relayer_gossip_received_messages")) >= before + 5_000 and n
    )
    assert metric(bridge, 2, "relayer_attestations_received_total", 'result="bad_signature"') >= 1
    assert metric(bridge, 2, "relayer_attestations_received_total", 'result="not_a_member"') >= 1
    dropped = sum(
        metric(bridge, 2, "relayer_gossip_dropped_messages", f'reason="{r}"')
        for r in (
            "not_json",
            "bad_topic",
            "oversized",
            "wrong_version",
            "queue_full",
            "topic_mismatch",
            "bad_field",
            "missing_field",
        )
    )
    assert dropped >= (after - before) - 100, (dropped, after - before)  # junk is all dropped

    print(json.dumps({"flood_messages": 10_000, "flood_seconds": round(flood_seconds, 2)}))


def test_reorg_deeper_than_confirmation_over_a_signed_burn_halts_until_acknowledged(
    bridge: Stack,
) -> None:
    assert bridge.w3e is not None
    assert bridge.anvil is not None
    user = bridge.users[0]
    assert_exactly_once(bridge, lock(bridge, user, "AxHKD", 100, user.address))  # mirror to burn
    assert bridge.gateway is not None
    burned_nonce = bridge.gateway.functions.nextNonce().call()
    burned = burn(bridge, user, "AxHKD", 11, user.address)
    assert_exactly_once(bridge, burned)
    for v in range(5):
        wait_until(lambda v=v: (x := status(bridge, v, burned)) and x["status"] == "released")
    burn_block = int(status(bridge, 0, burned)["source_block"])  # type: ignore[index]
    # Replace every block from the burn's on: deeper than depth:2 (the relayers have long
    # confirmed and signed it) but sparing the earlier mint, so Ethereum keeps its state.
    with ethereum_mining_paused(bridge):  # no block between reading the head and the reorg
        depth = bridge.w3e.eth.block_number - burn_block + 1
        assert depth > 2
        bridge.anvil_rpc("anvil_reorg", [depth, []])
    assert bridge.gateway.functions.nextNonce().call() == burned_nonce  # the burn is gone
    eth = bridge.anvil.chain_id

    def halted(v: int) -> list[dict[str, object]]:
        return [a for a in alerts(bridge, v) if a["kind"] == "halt" and a["chain_id"] == eth]

    for v in range(5):
        alert = wait_until(lambda v=v: halted(v), timeout=60)[0]
        detail = alert["detail"]
        assert isinstance(detail, dict)
        assert "0x" + burned.transfer_id.hex() in detail["signed_transfers"]
    # the operator's CLI lists the same alerts as the API
    assert {a["id"] for a in halted(0)} <= {a["id"] for a in alerts_cli(bridge, 0)}
    # The reorg rolled the gateway's nonce back: the next burn reuses the orphaned burn's
    # nonce, hence its transfer id, with other content. Already unlocked on Conflux, it can
    # never execute: the relayers report the conflict with its evidence (a halt as well).
    reused = burn(bridge, user, "AxHKD", 12, user.address)
    assert reused.transfer_id == burned.transfer_id
    for v in range(5):
        wait_until(
            lambda v=v: [
                a
                for a in halted(v)
                if isinstance(a["detail"], dict)
                and a["detail"].get("reason") == "a different event for a stored transfer id"
            ],
            timeout=60,
        )
    # While halted, a new burn (fresh nonce) is observed but never signed.
    later = burn(bridge, user, "AxHKD", 13, user.address)
    wait_until(lambda: (x := status(bridge, 0, later)) and x["status"] == "confirmed")
    time.sleep(5)
    for v in range(5):
        view = status(bridge, v, later)
        assert view is None or view["status"] == "confirmed", view
    assert bridge.vault is not None
    assert not bridge.vault.functions.isProcessed(later.transfer_id).call()
    # Conflux -> Ethereum is not halted meanwhile.
    other = lock(bridge, user, "AxHKD", 14, user.address)
    assert_exactly_once(bridge, other)
    # The operators acknowledge after investigating; signing resumes and it completes once.
    for v in range(5):
        for alert in halted(v):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "relayer",
                    "alerts",
                    "ack",
                    str(alert["id"]),
                    "--by",
                    "e2e-operator",
                    "--config",
                    str(bridge.validators[v].config_path),
                ],
                check=True,
                capture_output=True,
                timeout=180,  # a CLI start under a loaded machine
            )
    assert_exactly_once(bridge, later)
    # The reused id was never unlocked again (the original unlock of 11 is the only one).
    assert all(e["amount"] != 12 for e in executions(bridge, reused))
    assert bridge.vault.functions.isProcessed(reused.transfer_id).call()


def test_no_private_key_in_any_log_or_database(bridge: Stack) -> None:
    keys = [v.private_key[2:].lower() for v in bridge.validators]
    keys += [u.key.hex().removeprefix("0x").lower() for u in bridge.users]
    for v in bridge.validators:
        text = v.log_path.read_text(errors="replace").lower()
        for key in keys:
            assert key not in text, f"a private key appears in {v.log_path}"
        if v.database_url.startswith("sqlite"):
            path = v.database_url.split("///", 1)[1]
            with sqlite3.connect(path) as db:
                dump = "\n".join(db.iterdump()).lower()
        else:
            dsn = v.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
            dump = subprocess.run(
                ["pg_dump", "--data-only", dsn],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout.lower()
        assert "attestations" in dump or "insert" in dump or "copy" in dump
        for key in keys:
            assert key not in dump, f"a private key appears in {v.database_url}"
