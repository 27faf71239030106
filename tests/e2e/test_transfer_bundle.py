"""End to end: a release no relayer sent is executed by anyone from what ``relayer transfer
bundle`` prints, exactly once, and the relayers then report it released."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from bridge_client import assert_exactly_once, execution_logs, lock, wait_status
from eth_account import Account
from web3 import Web3

from relayer.chain import transactions
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_a_release_no_relayer_sent_is_executed_once_from_the_printed_bundle(
    bridge: Stack,
) -> None:
    """The gateway is paused while a lock gathers its quorum (nothing is sent); every
    relayer is then frozen (SIGSTOP) and the gateway unpaused: no relayer can send it.
    ``relayer transfer bundle`` on validator 0's database prints the calldata; a fresh
    account with no part in the bridge sends it. The transfer executes once with its exact
    amount, by that account; resumed, every relayer reports it released."""
    assert bridge.w3e and bridge.gateway and bridge.deployer_e
    w3e, gateway, n = bridge.w3e, bridge.gateway, len(bridge.validators)
    user = bridge.users[0]
    outsider = Account.create()
    transactions_fund = {
        "to": outsider.address,
        "value": Web3.to_wei(1, "ether"),
        "from": bridge.deployer_e.address,
        "nonce": w3e.eth.get_transaction_count(bridge.deployer_e.address, "pending"),
        "chainId": w3e.eth.chain_id,
        "gas": 21_000,
        **transactions.explicit_fees(w3e),
    }
    signed = bridge.deployer_e.sign_transaction(transactions_fund)
    w3e.eth.wait_for_transaction_receipt(w3e.eth.send_raw_transaction(signed.raw_transaction))
    transactions.send(w3e, bridge.deployer_e, gateway.functions.pause())
    frozen: list[int] = []
    try:
        held = lock(bridge, user, "AxHKD", 2_500_000, user.address)
        for v in range(n):
            wait_status(bridge, v, held, "quorum")
        for v in range(n):
            bridge.relayers[v].send_signal(signal.SIGSTOP)
            frozen.append(v)
        transactions.send(w3e, bridge.deployer_e, gateway.functions.unpause())
        tid = "0x" + held.transfer_id.hex()
        config = str(bridge.validators[0].config_path)
        argv = [sys.executable, "-m", "relayer", "transfer", "bundle", tid, "--config", config]
        done = subprocess.run([*argv, "--json"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        printed = json.loads(done.stdout)
        assert printed["destination"]["contract"] == gateway.address
        assert printed["release"]["amount"] == str(held.amount)
        assert printed["cast"].startswith(f"cast send {gateway.address} 'release(")
        tx = {
            "to": gateway.address,
            "data": printed["calldata"],
            "from": outsider.address,
            "nonce": 0,
            "chainId": w3e.eth.chain_id,
            "gas": 500_000,
            **transactions.explicit_fees(w3e),
        }
        raw = outsider.sign_transaction(tx).raw_transaction
        receipt = w3e.eth.wait_for_transaction_receipt(w3e.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1
    finally:  # whatever failed, the next test finds the stack as it was
        for v in frozen:
            bridge.relayers[v].send_signal(signal.SIGCONT)
        if gateway.functions.paused().call():
            transactions.send(w3e, bridge.deployer_e, gateway.functions.unpause())
    assert_exactly_once(bridge, held)
    (log,) = execution_logs(bridge, held)
    assert log["transactionHash"] == receipt["transactionHash"]  # the outsider's
    for v in range(n):
        wait_status(bridge, v, held, "released")
