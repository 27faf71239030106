"""End to end: vetoes, cancels and refunds on the devnet stack (five validators, threshold
4, so a blocking minority is two).

* a delayed large transfer vetoed by two jurisdictions is cancelled and refunded exactly;
* a veto by one validator is not enough: the transfer completes (the vetoer too says so);
* a cancel racing the execution of a delayed transfer: exactly one of them executes and,
  if the cancel won, exactly one refund follows.

The automatic veto of a transfer refused by two validators, and of one the issuer
blacklisted, is in test_bridge_e2e.py (both end refunded); the guardian's cancel in
test_governor.py (refunded too).
"""

from __future__ import annotations

from typing import Any

import pytest
from bridge_client import (
    Sent,
    assert_exactly_once,
    assert_refunded_once,
    destination_status,
    ethereum_mining_paused,
    executions,
    gateway_delay,
    lock,
    refunds,
    status,
    token,
    veto,
    wait_status,
    wait_until,
)
from web3 import Web3

from relayer.chain import transactions
from relayer.devnet.stack import DEVNET_GOVERNORS, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CANCEL = Web3.keccak(text="cancel(bytes32,bytes)")[:4]
EXECUTE_DELAYED = Web3.keccak(text="executeDelayed(bytes32)")[:4]


def balance(bridge: Stack, symbol: str, holder: str) -> int:
    assert bridge.w3c is not None
    erc20 = transactions.contract_at(bridge.w3c, "TestToken", token(bridge, symbol).conflux)
    return int(erc20.functions.balanceOf(holder).call())


def delayed_lock(bridge: Stack, user_index: int) -> tuple[Sent, Any]:
    """A lock at AxHKD's large-transfer threshold, held by the gateway (every validator
    sees it delayed); the user's balance right before it."""
    user = bridge.users[user_index]
    amount = DEVNET_GOVERNORS["AxHKD"][2] * 10**6
    sent = lock(bridge, user, "AxHKD", amount, user.address)
    for v in range(len(bridge.validators)):
        wait_status(bridge, v, sent, "delayed")
    return sent, user


def pending_calls(bridge: Stack) -> list[bytes]:
    """The selectors of the transactions waiting in anvil's pool for the gateway."""
    assert bridge.gateway is not None
    pool = bridge.anvil_rpc("txpool_content", [])["result"]
    gateway = bridge.gateway.address.lower()
    return [
        bytes.fromhex(tx["input"][2:10])
        for queue in ("pending", "queued")
        for by_nonce in pool.get(queue, {}).values()
        for tx in by_nonce.values()
        if (tx.get("to") or "").lower() == gateway
    ]


def test_a_delayed_transfer_vetoed_by_two_jurisdictions_is_cancelled_and_refunded(
    bridge: Stack,
) -> None:
    with gateway_delay(bridge, 3600):
        user = bridge.users[0]
        before = balance(bridge, "AxHKD", user.address)
        sent, _ = delayed_lock(bridge, 0)
        assert balance(bridge, "AxHKD", user.address) == before - sent.amount
        jurisdictions = {bridge.validators[v].jurisdiction for v in (0, 1)}
        assert len(jurisdictions) == 2
        for v in (0, 1):
            answer = veto(bridge, v, sent, "court order 2026/117: funds frozen")
            assert answer["vetoed_by"] == f"operator-{v}"
        assert_refunded_once(bridge, sent, user.address)
        for v in (0, 1):
            view = status(bridge, v, sent)
            assert view is not None and view["veto"]["by"] == f"operator-{v}", view
            assert view["veto"]["reason"] == "court order 2026/117: funds frozen"
        cancellers = {s["address"] for s in view["cancel_signers"]}
        assert cancellers == {bridge.validators[v].address for v in (0, 1)}
    assert balance(bridge, "AxHKD", user.address) == before


def test_a_veto_by_one_validator_is_not_enough_and_the_transfer_completes(
    bridge: Stack,
) -> None:
    assert bridge.w3e is not None and bridge.gateway is not None
    with gateway_delay(bridge, 3600):
        sent, _ = delayed_lock(bridge, 1)
        veto(bridge, 2, sent, "one validator's doubt")
        view = wait_status(bridge, 2, sent, "vetoed", timeout=60)
        assert view["reason"] == "vetoed by operator-2: one validator's doubt", view
        # past its time, the four others execute it: one Cancel signature cancels nothing
        executable_at = int(bridge.gateway.functions.delayedOf(sent.transfer_id).call()[3])
        latest = int(bridge.w3e.eth.get_block("latest")["timestamp"])
        bridge.anvil_rpc("evm_increaseTime", [max(0, executable_at - latest) + 1])
        bridge.anvil_rpc("evm_mine", [])
        assert_exactly_once(bridge, sent)
    for v in range(len(bridge.validators)):
        wait_status(bridge, v, sent, "released")
    assert refunds(bridge, sent) == []


def send_execute_delayed(bridge: Stack, sent: Sent, tip_gwei: int) -> None:
    """``executeDelayed`` from a user into anvil's pool (mining is paused: no estimate, no
    receipt), tipping ``tip_gwei``: anvil orders a block by tip, so the tip decides
    whether it comes before or after the relayers' cancel (tip 1 gwei)."""
    assert bridge.w3e is not None and bridge.gateway is not None
    w3, user = bridge.w3e, bridge.users[0]
    base = int(w3.eth.get_block("latest")["baseFeePerGas"])
    tx = {
        "from": user.address,
        "to": bridge.gateway.address,
        "data": "0x" + (EXECUTE_DELAYED + sent.transfer_id).hex(),
        "gas": 300_000,
        "nonce": w3.eth.get_transaction_count(user.address, "pending"),
        "chainId": w3.eth.chain_id,
        "maxPriorityFeePerGas": Web3.to_wei(tip_gwei, "gwei"),
        "maxFeePerGas": 2 * base + Web3.to_wei(tip_gwei + 1, "gwei"),
    }
    w3.eth.send_raw_transaction(user.sign_transaction(tx).raw_transaction)


@pytest.mark.parametrize(("first", "tip_gwei"), [("execution", 50), ("cancel", 0)])
def test_a_cancel_racing_the_execution_ends_with_exactly_one_of_them(
    bridge: Stack, first: str, tip_gwei: int
) -> None:
    """The relayers' cancel (two jurisdictions vetoed) and someone's executeDelayed of the
    same delayed transfer wait in one pool and are mined in one block, in the order their
    tips give: the first takes effect, the second does nothing. If the cancel won, the
    transfer is refunded exactly once; if the execution won, it is released and never
    refunded, and the vetoing validators say so too."""
    assert bridge.w3e is not None and bridge.gateway is not None
    with gateway_delay(bridge, 3600):
        sent, user = delayed_lock(bridge, 2)
        executable_at = int(bridge.gateway.functions.delayedOf(sent.transfer_id).call()[3])
        with ethereum_mining_paused(bridge):
            for v in (3, 4):
                veto(bridge, v, sent, "racing the execution")
            wait_until(lambda: CANCEL in pending_calls(bridge), timeout=90)
            latest = int(bridge.w3e.eth.get_block("latest")["timestamp"])
            bridge.anvil_rpc("evm_increaseTime", [max(0, executable_at - latest) + 1])
            send_execute_delayed(bridge, sent, tip_gwei)
            assert sorted(pending_calls(bridge)) == sorted([CANCEL, EXECUTE_DELAYED])
            bridge.anvil_rpc("evm_mine", [])  # both in one block
        outcome = destination_status(bridge, sent)
    if first == "execution":
        assert outcome == 1
        assert_exactly_once(bridge, sent)
        for v in range(len(bridge.validators)):
            wait_status(bridge, v, sent, "released")
        assert refunds(bridge, sent) == []  # a refund needs a cancel, which did nothing
    else:
        assert outcome == 3
        assert_refunded_once(bridge, sent, user.address)
        assert executions(bridge, sent) == []
