"""A lying, broken RPC in front of a running relayer: retried, rejected or alerted.

Validator 2 is restarted with its Conflux RPC behind a fault-injecting proxy of our own
(``ThreadedFaultProxy``): refused connections, timeouts, truncated JSON, HTTP 429,
JSON-RPC -32005, dropped connections, a log from another contract forged into the
vault's log query, and a confirmed head that goes backwards. While all that happens a
real lock goes through: it executes exactly once, validator 2 signs it and reports it
``released``, and it never learns of the forged transfer.

A node that lies consistently forges a ``Locked`` log *from the vault's own address*,
which decodes like a real one. Validator 2 runs with a cross-check node (the honest
node): the forged event is refused as ``uncorroborated``, with an alert naming the
evidence, and never signed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from bridge_client import (
    alerts,
    assert_exactly_once,
    lock,
    metric,
    metric_sum,
    status,
    wait_status,
    wait_until,
)

from relayer.chain.events import BridgeEvent
from relayer.devnet.faultproxy import Fault, ThreadedFaultProxy
from relayer.devnet.processes import free_ports
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]
VICTIM = 2
LOCKED = "0x" + BridgeEvent.LOCKED.topic0.hex()
FORGED_ID = "0x" + "f0" * 32
FORGED_VAULT_ID = "0x" + "f1" * 32
FORGED_NONCE = "0x" + (2**40).to_bytes(32, "big").hex()  # far above any real nonce


@pytest.fixture
def lying_rpc(bridge: Stack) -> Iterator[ThreadedFaultProxy]:
    assert bridge.conflux is not None
    with ThreadedFaultProxy(bridge.conflux.rpc_url) as proxy:
        bridge.stop_relayer(VICTIM)
        bridge.start_relayer(
            VICTIM,
            env={
                "RELAYER_CONFLUX__RPC_URL": proxy.url,
                # no pushed heads: the head is polled through the proxy (and the relayer
                # runs with its subscription down, polling, as it must)
                "RELAYER_CONFLUX__WS_URL": f"ws://127.0.0.1:{free_ports(1)[0]}",
                "RELAYER_CONFLUX__RPC_TIMEOUT_S": "2",
                "RELAYER_CONFLUX__CROSS_CHECK_RPC_URL": bridge.conflux.rpc_url,
            },
        )
        bridge.wait_ready(indexes=[VICTIM])
        try:
            yield proxy
        finally:  # back to the honest node for the tests that follow
            bridge.stop_relayer(VICTIM)
            bridge.start_relayer(VICTIM)
            bridge.wait_ready(indexes=[VICTIM])


def _forge_into_vault_query(
    bridge: Stack, proxy: ThreadedFaultProxy, template: dict[str, Any]
) -> list[int]:
    """Once: answer the vault's next Locked query with a copy of ``template`` emitted by
    another contract (the AxHKD token) under a new transfer id."""
    token = next(t for t in bridge.tokens if t.symbol == "AxHKD").conflux
    forged_count = [0]

    def rule(method: str, params: list[Any]) -> Fault | None:
        if forged_count[0] or method != "eth_getLogs" or LOCKED not in json.dumps(params):
            return None
        window = params[0]
        forged_count[0] += 1
        topics = [template["topics"][0], FORGED_ID, *template["topics"][2:]]
        forged = dict(template, address=token, topics=topics, blockNumber=window["toBlock"])
        return Fault.replace_result([forged])

    proxy.add(rule)
    return forged_count


def _forge_from_the_vault(
    bridge: Stack, proxy: ThreadedFaultProxy, template: dict[str, Any]
) -> list[int]:
    """Once: add to the node's real answer of a vault Locked query a copy of ``template``
    as the vault's own log, under a new transfer id and nonce, in a real block of the
    window, from a transaction that does not exist: only a second node can tell."""
    assert bridge.w3c is not None
    w3c = bridge.w3c
    forged_count = [0]

    def rule(method: str, params: list[Any]) -> Fault | None:
        if forged_count[0] or method != "eth_getLogs" or LOCKED not in json.dumps(params):
            return None
        window = params[0]
        real = w3c.provider.make_request("eth_getLogs", params)["result"]  # type: ignore[arg-type]
        number = int(window["fromBlock"], 16)
        forged = dict(
            template,
            topics=[template["topics"][0], FORGED_VAULT_ID, FORGED_NONCE, template["topics"][3]],
            blockNumber=hex(number),
            blockHash=w3c.eth.get_block(number)["hash"].to_0x_hex(),
            transactionHash="0x" + "ab" * 32,
        )
        forged_count[0] += 1
        return Fault.replace_result([*real, forged])

    proxy.add(rule)
    return forged_count


def test_a_lying_rpc_is_retried_rejected_or_alerted_and_nothing_wrong_is_signed(
    bridge: Stack, lying_rpc: ThreadedFaultProxy
) -> None:
    assert bridge.w3c is not None and bridge.vault is not None
    proxy = lying_rpc
    user = bridge.users[1]
    assert_exactly_once(bridge, lock(bridge, user, "AxHKD", 888_887, user.address))
    recent = {
        "address": bridge.vault.address,
        "fromBlock": hex(max(0, bridge.w3c.eth.block_number - 900)),  # nodes cap the range
        "topics": [LOCKED],
    }
    answer = bridge.w3c.provider.make_request("eth_getLogs", [recent])  # type: ignore[arg-type]
    template = answer["result"][-1]  # the node's own JSON: hex quantities
    forged = _forge_into_vault_query(bridge, proxy, template)
    forged_vault = _forge_from_the_vault(bridge, proxy, template)
    proxy.fail_next("eth_getLogs", Fault.http(429), times=3)
    proxy.fail_next("eth_getLogs", Fault.rpc_error(-32005, "limit exceeded"), times=2)
    proxy.fail_next("eth_blockNumber", Fault.truncated(), times=2)
    proxy.fail_next("eth_getBlockByNumber", Fault.drop(), times=2)
    proxy.fail_next("eth_blockNumber", Fault.delay(3.0), times=1)  # > the 2 s RPC timeout
    wait_until(lambda: forged[0] == 1 and forged_vault[0] == 1, timeout=60)
    proxy.refuse_connections(3.0)

    sent = lock(bridge, user, "AxHKD", 888_888, user.address)

    assert_exactly_once(bridge, sent)
    view = wait_status(bridge, VICTIM, sent, "released", timeout=120)
    assert view["amount"] == str(sent.amount)
    signers = {s["address"] for s in view["attestations"]["signers"]}
    assert bridge.validators[VICTIM].address in signers  # it signed the real one

    forged_sent = dataclasses.replace(sent, transfer_id=bytes.fromhex(FORGED_ID[2:]))
    assert status(bridge, VICTIM, forged_sent) is None  # never stored, so never signed
    assert metric_sum(bridge, VICTIM, "relayer_chain_rejected_logs") >= 1
    assert metric_sum(bridge, VICTIM, "relayer_rpc_errors_total") >= 5

    # The vault's own log, forged: stored, contradicted by the cross-check node, refused.
    from_vault = dataclasses.replace(sent, transfer_id=bytes.fromhex(FORGED_VAULT_ID[2:]))
    refused = wait_status(bridge, VICTIM, from_vault, "refused", timeout=60)
    (refusal,) = refused["refusals"]
    assert refusal["reason"] == "uncorroborated"
    assert "has no Locked log" in refusal["detail"] and "0x" + "ab" * 32 in refusal["detail"]
    assert refused["attestations"]["count"] == 0  # never signed
    (alert,) = [
        a
        for a in alerts(bridge, VICTIM)
        if isinstance(a["detail"], dict) and a["detail"].get("transfer_id") == FORGED_VAULT_ID
    ]
    assert alert["kind"] == "warning"
    assert alert["detail"]["reason"] == "the cross-check node contradicts the event"
    corroborated = metric(
        bridge, VICTIM, "relayer_cross_checks_total", 'chain="conflux",result="corroborated"'
    )
    assert corroborated >= 1  # the real lock
    contradicted = metric(
        bridge, VICTIM, "relayer_cross_checks_total", 'chain="conflux",result="contradicted"'
    )
    assert contradicted == 1
    ready = wait_until(lambda: bridge.http_get(VICTIM, "/readyz"), timeout=60)
    assert ready["checks"]["rpc:conflux:cross_check"]["ok"] is True

    def regressed() -> list[dict[str, Any]]:
        """The alert, once the watcher saw the head 40 blocks below the real one (several
        components read the head: answer a few calls with it until the watcher got one)."""
        found = [
            a
            for a in alerts(bridge, VICTIM)
            if isinstance(a["detail"], dict)
            and a["detail"].get("reason") == "confirmed head went backwards"
        ]
        if not found:
            behind = hex(bridge.w3c.eth.block_number - 40)  # type: ignore[union-attr]
            proxy.fail_next("eth_blockNumber", Fault.replace_result(behind), times=2)
        return found

    wait_until(regressed, timeout=90)
    later = lock(bridge, user, "AxHKD", 888_889, user.address)  # and it carries on
    assert_exactly_once(bridge, later)
    wait_status(bridge, VICTIM, later, "released", timeout=120)
    injected = sum(proxy.proxy.faults.values())
    print(f"lying RPC: {injected} faults injected: {dict(proxy.proxy.faults)}")
    assert injected >= 12
