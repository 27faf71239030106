"""End to end with the contracts' governor: a large transfer is delayed where everyone
can see it (API, `relayer status`) and a relayer executes it when due; a burst larger
than the bucket partly executes at once and partly later, all of it exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from bridge_client import (
    Sent,
    assert_exactly_once,
    assert_refunded_once,
    burn,
    executions,
    gateway_delay,
    lock,
    token,
    wait_executed,
    wait_status,
)
from web3 import Web3

from relayer.chain import transactions
from relayer.devnet import deploy
from relayer.devnet.stack import DEVNET_GOVERNORS, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

EXECUTE_DELAYED = Web3.keccak(text="executeDelayed(bytes32)")[:4]
RELEASE_DELAYED = Web3.keccak(text="ReleaseDelayed(bytes32,uint64)")
STATUS_DELAYED = 2


@contextmanager
def mirror_governor(bridge: Stack, symbol: str, capacity: int, refill: int) -> Iterator[None]:
    """A tighter governor on ``symbol``'s mirror (applies at once), then the devnet's."""
    assert bridge.w3e and bridge.deployer_e and bridge.gateway
    info = token(bridge, symbol)
    w3, admin, gateway = bridge.w3e, bridge.deployer_e, bridge.gateway
    assert deploy.configure_governor(w3, admin, gateway, info.ethereum, capacity, refill, 0)
    try:
        yield
    finally:
        default = (v * 10**info.decimals for v in DEVNET_GOVERNORS[symbol])
        assert deploy.configure_governor(w3, admin, gateway, info.ethereum, *default)


def delayed_ids(bridge: Stack, sent: list[Sent]) -> set[bytes]:
    """The ids of ``sent`` for which the gateway logged ReleaseDelayed."""
    assert bridge.w3e and bridge.gateway
    logs = bridge.w3e.eth.get_logs(
        {
            "address": bridge.gateway.address,
            "fromBlock": max(0, bridge.w3e.eth.block_number - 900),
            "toBlock": "latest",
            "topics": [RELEASE_DELAYED.to_0x_hex()],
        }
    )
    ids = {bytes(entry["topics"][1]) for entry in logs}
    return {s.transfer_id for s in sent} & ids


def relayer_status_json(bridge: Stack, sent: Sent) -> dict[str, object]:
    """`relayer status --json` against every validator's API, as an operator runs it."""
    command = [sys.executable, "-m", "relayer", "status", "0x" + sent.transfer_id.hex(), "--json"]
    for v in bridge.validators:
        command += ["--api", v.http_url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_large_lock_is_delayed_visibly_and_executed_when_due(bridge: Stack) -> None:
    assert bridge.w3e and bridge.gateway and bridge.validators
    user = bridge.users[0]
    threshold = DEVNET_GOVERNORS["AxHKD"][2] * 10**6
    with gateway_delay(bridge, 3600):  # nothing can execute it before the clock is moved
        sent = lock(bridge, user, "AxHKD", threshold + 1_000_000, user.address)
        gateway = bridge.gateway
        views = [wait_status(bridge, v, sent, "delayed") for v in range(len(bridge.validators))]
        _, recipient, amount, executable_at = gateway.functions.delayedOf(sent.transfer_id).call()
        assert (recipient, amount) == (user.address, sent.amount)
        assert {view["executable_at"] for view in views} == {executable_at}
        cli = relayer_status_json(bridge, sent)
        assert (cli["stage"], cli["executable_at"]) == ("delayed", executable_at)
        assert gateway.functions.statusOf(sent.transfer_id).call() == STATUS_DELAYED
        assert executions(bridge, sent) == []
        # Move the destination's clock to executableAt: the primary relayer executes it.
        latest = int(bridge.w3e.eth.get_block("latest")["timestamp"])
        bridge.anvil_rpc("evm_increaseTime", [max(0, executable_at - latest)])
        bridge.anvil_rpc("evm_mine", [])
        assert_exactly_once(bridge, sent)
    for v in range(len(bridge.validators)):
        released = wait_status(bridge, v, sent, "released")
        assert released["executable_at"] == executable_at
    released_topic = Web3.keccak(text="Released(bytes32,address,address,uint256)")
    (log,) = bridge.w3e.eth.get_logs(
        {
            "address": gateway.address,
            "fromBlock": max(0, bridge.w3e.eth.block_number - 900),
            "toBlock": "latest",
            "topics": [released_topic.to_0x_hex(), "0x" + sent.transfer_id.hex()],
        }
    )
    tx = bridge.w3e.eth.get_transaction(log["transactionHash"])
    assert bytes(tx["input"])[:4] == EXECUTE_DELAYED
    assert tx["from"] in {v.address for v in bridge.validators}
    block = bridge.w3e.eth.get_block(log["blockNumber"])
    assert int(block["timestamp"]) >= executable_at


def test_burst_beyond_the_bucket_executes_part_now_and_the_rest_later_once(bridge: Stack) -> None:
    users = bridge.users
    unit = 10**18
    # A bucket of 10 CFXT that never refills: of four 4-CFXT transfers, two fit at once.
    with mirror_governor(bridge, "CFXT", 10 * unit, 0):
        sent = [
            lock(bridge, users[i % 3], "CFXT", 4 * unit, users[i % 3].address) for i in range(4)
        ]
        for s in sent:
            assert_exactly_once(bridge, s)
        delayed = delayed_ids(bridge, sent)
    assert len(delayed) == 2, f"{len(delayed)} of 4 delayed"
    for s in sent:
        for v in range(len(bridge.validators)):
            view = wait_status(bridge, v, s, "released")
            assert (view["executable_at"] is not None) == (s.transfer_id in delayed)


def test_a_delayed_transfer_the_guardian_cancels_is_never_sent_again_and_is_refunded(
    bridge: Stack,
) -> None:
    assert bridge.w3e and bridge.gateway and bridge.deployer_e
    user = bridge.users[1]
    threshold = DEVNET_GOVERNORS["AxHKD"][2] * 10**6
    gateway = bridge.gateway
    with gateway_delay(bridge, 3600):
        sent = lock(bridge, user, "AxHKD", threshold, user.address)  # at the threshold
        for v in range(len(bridge.validators)):
            wait_status(bridge, v, sent, "delayed")
        executable_at = int(gateway.functions.delayedOf(sent.transfer_id).call()[3])
        # the guardian (the pauser) vetoes it during its delay
        transactions.send(
            bridge.w3e, bridge.deployer_e, gateway.functions.guardianCancel(sent.transfer_id)
        )
        # cancelled on Ethereum, so a quorum refunds it on Conflux, to its sender, exactly
        assert_refunded_once(bridge, sent, user.address)
        for v in range(len(bridge.validators)):
            assert wait_status(bridge, v, sent, "refunded")["executable_at"] == executable_at
        # past its time (and every grace period), the relayers still send nothing for it:
        latest = int(bridge.w3e.eth.get_block("latest")["timestamp"])
        bridge.anvil_rpc("evm_increaseTime", [max(0, executable_at - latest) + 60])
        bridge.anvil_rpc("evm_mine", [])
    later = lock(bridge, user, "AxHKD", 2_000_000, user.address)  # the relayers carry on
    assert_exactly_once(bridge, later)
    for v in range(len(bridge.validators)):
        wait_status(bridge, v, later, "released")
        assert wait_status(bridge, v, sent, "refunded")["release_tx"] is None
    assert gateway.functions.statusOf(sent.transfer_id).call() == 3
    assert executions(bridge, sent) == []


def test_a_large_burn_is_delayed_by_the_vault_and_unlocked_once_when_due(bridge: Stack) -> None:
    """The way back: the vault's governor delays a large unlock on Conflux (5 s), and a
    relayer executes it there once the Conflux clock reaches executableAt."""
    assert bridge.w3c and bridge.vault
    user = bridge.users[2]
    amount = DEVNET_GOVERNORS["AxHKD"][2] * 10**6  # at the threshold: always delayed
    assert_exactly_once(bridge, lock(bridge, user, "AxHKD", amount, user.address), timeout=240)
    back = burn(bridge, user, "AxHKD", amount, user.address)
    # The delay is short (5 s): the test does not try to catch each relayer in `delayed`
    # (a lagging one may see the delay and the execution in one poll); what stays is the
    # contract's executableAt, from its ReleaseDelayed log, in every relayer's record.
    (log,) = wait_executed(bridge, back, timeout=240)
    assert log["amount"] == amount
    (delayed,) = bridge.w3c.eth.get_logs(
        {
            "address": bridge.vault.address,
            "fromBlock": max(0, bridge.w3c.eth.block_number - 900),
            "toBlock": "latest",
            "topics": [RELEASE_DELAYED.to_0x_hex(), "0x" + back.transfer_id.hex()],
        }
    )
    executable_at = int.from_bytes(bytes(delayed["data"])[:32], "big")
    for v in range(len(bridge.validators)):
        assert wait_status(bridge, v, back, "released")["executable_at"] == executable_at
    (entry,) = bridge.w3c.eth.get_logs(
        {
            "address": bridge.vault.address,
            "fromBlock": max(0, bridge.w3c.eth.block_number - 900),
            "toBlock": "latest",
            "topics": [
                Web3.keccak(text="Unlocked(bytes32,address,address,uint256)").to_0x_hex(),
                "0x" + back.transfer_id.hex(),
            ],
        }
    )
    tx = bridge.w3c.eth.get_transaction(entry["transactionHash"])
    assert bytes(tx["input"])[:4] == EXECUTE_DELAYED
    block = bridge.w3c.eth.get_block(entry["blockNumber"])
    assert int(block["timestamp"]) >= executable_at
