"""A release that a reorg removes from the destination is sent again, and executes once.

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
from bridge_client import assert_exactly_once, lock, status, wait_status, wait_until

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
    assert bridge.anvil is not None
    bridge.anvil_rpc("evm_setIntervalMining", [0])
    try:
        yield
    finally:
        interval = max(1, round(2 * bridge.options.block_time_ms / 1000))
        bridge.anvil_rpc("evm_setIntervalMining", [interval])


def test_a_release_reorged_out_of_the_destination_is_sent_again_and_executes_once(
    bridge: Stack, paused_ethereum: None
) -> None:
    assert bridge.gateway is not None and bridge.w3e is not None
    user = bridge.users[0]
    gateway = bridge.gateway.address
    sent = lock(bridge, user, "AxHKD", 777_777, user.address)
    (first,) = wait_until(lambda: _pending_to(bridge, gateway), timeout=120)

    bridge.anvil_rpc("evm_mine", [])
    assert bridge.gateway.functions.isProcessed(sent.transfer_id).call()
    time.sleep(5)  # several submit rounds and settlement polls see it executed, unconfirmed
    for v in range(len(bridge.validators)):
        view = status(bridge, v, sent)
        assert view is not None and view["status"] in ("attested", "quorum", "submitted"), view
    assert _pending_to(bridge, gateway) == []  # and nobody sent a second release

    bridge.anvil_rpc("anvil_rollback", [1])
    bridge.anvil_rpc("anvil_dropAllTransactions", [])
    assert not bridge.gateway.functions.isProcessed(sent.transfer_id).call()
    bridge.anvil_rpc("evm_mine", [])

    again = wait_until(lambda: _pending_to(bridge, gateway), timeout=120)
    assert first not in again  # a new release: the primary, and backups past their grace
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
