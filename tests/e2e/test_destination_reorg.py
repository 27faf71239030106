"""Reorgs on Ethereum above the confirmation rule, in both roles of the chain.

1. As the destination: a release that a reorg removes is sent again, and executes once.
2. As the source (the way back): a burn reorged out before it is confirmed is never
   stored nor signed; the burn that later reuses its nonce executes once.

For the destination case:

Ethereum's interval mining is paused so the release waits in anvil's mempool; one block
is mined by hand (the release executes, above the ``depth:2`` confirmed head), then
rolled back and its transaction dropped, as a reorg on a real chain can do. Until the
execution is confirmed no relayer may count it (``released``); after the rollback the
transfer must be released again and executed exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from bridge_client import (
    Sent,
    assert_exactly_once,
    burn,
    ethereum_mining_paused,
    lock,
    status,
    token,
    wait_status,
    wait_until,
)
from eth_abi import encode
from eth_utils.crypto import keccak

from relayer.chain import transactions
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]


def _pending_to(bridge: Stack, address: str) -> list[str]:
    """Hashes of transactions to ``address`` waiting in anvil's mempool."""
    content = bridge.anvil_rpc("txpool_content", [])["result"]["pending"]
    return [
        tx["hash"]
        for by_nonce in content.values()
        for tx in by_nonce.values()
        if (tx.get("to") or "").lower() == address.lower()
    ]


@pytest.fixture
def paused_ethereum(bridge: Stack) -> Iterator[None]:
    with ethereum_mining_paused(bridge):
        yield


def test_a_release_reorged_out_of_the_destination_is_sent_again_and_executes_once(
    bridge: Stack, paused_ethereum: None
) -> None:
    assert bridge.gateway is not None and bridge.w3e is not None
    user = bridge.users[0]
    gateway = bridge.gateway.address
    sent = lock(bridge, user, "AxHKD", 777_777, user.address)
    unreleased = ("attested", "quorum", "submitted")
    for v in range(len(bridge.validators)):  # every relayer has signed
        wait_until(lambda v=v: (x := status(bridge, v, sent)) and x["status"] in unreleased)
    # the primary's release (and a backup's, should the primary be slower than the grace)
    wait_until(lambda: _pending_to(bridge, gateway), timeout=120)

    bridge.anvil_rpc("evm_mine", [])
    assert bridge.gateway.functions.isProcessed(sent.transfer_id).call()
    time.sleep(5)  # several submit rounds and settlement polls see it executed, unconfirmed
    for v in range(len(bridge.validators)):
        view = status(bridge, v, sent)
        assert view is not None and view["status"] in unreleased, view
    assert _pending_to(bridge, gateway) == []  # and nobody sent another release

    bridge.anvil_rpc("anvil_rollback", [1])
    bridge.anvil_rpc("anvil_dropAllTransactions", [])
    assert not bridge.gateway.functions.isProcessed(sent.transfer_id).call()
    bridge.anvil_rpc("evm_mine", [])

    # sent again (the same bytes if the fees came out the same): the primary, and backups
    # past their grace
    again = wait_until(lambda: _pending_to(bridge, gateway), timeout=120)
    bridge.anvil_rpc("evm_setIntervalMining", [1])
    assert_exactly_once(bridge, sent)
    (executed,) = bridge.w3e.eth.get_logs(
        {
            "address": gateway,
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [None, "0x" + sent.transfer_id.hex()],
        }
    )
    release_tx = executed["transactionHash"].to_0x_hex()
    assert release_tx in again
    for v in range(len(bridge.validators)):
        view = wait_status(bridge, v, sent, "released", timeout=120)
        assert view["amount"] == str(sent.amount)
        assert view["release_tx"] == release_tx


def test_a_burn_reorged_out_before_confirmation_is_never_signed(
    bridge: Stack, paused_ethereum: None
) -> None:
    assert bridge.gateway is not None and bridge.w3e is not None and bridge.vault is not None
    assert bridge.anvil is not None and bridge.conflux is not None
    w3, gateway = bridge.w3e, bridge.gateway
    user = bridge.users[2]
    bridge.anvil_rpc("evm_setIntervalMining", [1])
    assert_exactly_once(bridge, lock(bridge, user, "AxHKD", 50_000, user.address))  # mirror
    bridge.anvil_rpc("evm_setIntervalMining", [0])

    nonce = gateway.functions.nextNonce().call()
    doomed_id = keccak(
        encode(["uint256", "address", "uint64"], [bridge.anvil.chain_id, gateway.address, nonce])
    )
    mirror = token(bridge, "AxHKD").ethereum
    call = gateway.functions.burn(mirror, 40_000, user.address, bridge.conflux.chain_id)
    params = {
        "from": user.address,
        "nonce": w3.eth.get_transaction_count(user.address, "pending"),
        "chainId": w3.eth.chain_id,
        **transactions.explicit_fees(w3),
    }
    signed = user.sign_transaction(call.build_transaction(params))  # type: ignore[arg-type]
    w3.eth.send_raw_transaction(signed.raw_transaction)
    bridge.anvil_rpc("evm_mine", [])  # the burn is in the head block, above depth:2
    assert w3.eth.get_transaction_receipt(signed.hash)["status"] == 1
    doomed = Sent(doomed_id, 40_000, token(bridge, "AxHKD"), user.address, "to_conflux")
    time.sleep(5)  # many watcher polls see it at the head, none may take it
    assert all(status(bridge, v, doomed) is None for v in range(len(bridge.validators)))

    bridge.anvil_rpc("anvil_reorg", [1, []])  # the head block replaced by an empty one
    bridge.anvil_rpc("anvil_dropAllTransactions", [])
    assert gateway.functions.nextNonce().call() == nonce
    bridge.anvil_rpc("evm_setIntervalMining", [1])
    # The next burn takes the orphaned burn's nonce, hence its transfer id, with another
    # amount: had any relayer stored the orphan, this would be a conflict (a halt).
    reused = burn(bridge, user, "AxHKD", 30_000, user.address)
    assert reused.transfer_id == doomed_id
    assert_exactly_once(bridge, reused)
    for v in range(len(bridge.validators)):
        view = wait_status(bridge, v, reused, "released", timeout=120)
        assert view["amount"] == "30000"
