"""End to end: committed roots. With ``[pipeline] root_wait_s`` set, the relayers sign a root
over each decided window of source nonces, gossip it, and the root's primary commits it on
the gateway (``commitRoot``) and executes its releases with one multiproof
(``releaseBatchWithProof``); every transfer still executes exactly once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bridge_client import assert_exactly_once, execution_logs, lock_burst, metric, wait_until
from web3 import Web3

from relayer.devnet.stack import Stack
from relayer.domain.roots import window_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

WINDOW = 4
ROOT_WAIT_S = 20.0
PROVEN = Web3.keccak(
    text="releaseBatchWithProof(bytes32,(bytes32,uint64,uint64,address,address,uint256)[],"
    "bytes32[],bool[])"
)[:4]


@pytest.fixture
def rooted_bridge(bridge: Stack) -> Iterator[Stack]:
    """The shared bridge with every relayer restarted with committed roots on; restarted
    as it was afterwards."""
    n = len(bridge.validators)
    env = {
        "RELAYER_PIPELINE__ROOT_WAIT_S": str(ROOT_WAIT_S),
        "RELAYER_PIPELINE__ROOT_WINDOW": str(WINDOW),
    }
    for v in range(n):
        bridge.stop_relayer(v)
    try:
        for v in range(n):
            bridge.start_relayer(v, env=env)
        bridge.wait_ready()
        yield bridge
    finally:
        for v in list(bridge.relayers):
            bridge.stop_relayer(v)
        for v in range(n):
            bridge.start_relayer(v)
        bridge.wait_ready()


def test_full_windows_are_committed_as_roots_and_executed_with_proofs(rooted_bridge: Stack) -> None:
    bridge = rooted_bridge
    assert bridge.vault and bridge.w3e and bridge.w3c and bridge.gateway
    n = len(bridge.validators)
    first = int(bridge.vault.functions.nextNonce().call())
    src = int(bridge.w3c.eth.chain_id)
    # up to the end of the window holding `first`, then two whole windows of our own locks
    count = (WINDOW - (first - 1) % WINDOW) % WINDOW + 2 * WINDOW
    committed_before = sum(metric(bridge, v, "relayer_roots_committed_total") for v in range(n))
    burst = lock_burst(bridge, bridge.users[1], "CFXT", [3 * 10**16 + i for i in range(count)])
    nonces = list(range(first, first + count))
    for sent in burst:
        assert_exactly_once(bridge, sent)
    whole = [
        (sent, nonce)
        for sent, nonce in zip(burst, nonces, strict=True)
        if window_of(src, nonce, WINDOW).first_nonce >= first
    ]
    assert len(whole) == 2 * WINDOW
    for sent, nonce in whole:
        (log,) = execution_logs(bridge, sent)
        tx = bridge.w3e.eth.get_transaction(log["transactionHash"])
        assert bytes(tx["input"])[:4] == PROVEN, f"nonce {nonce} executed without a root"
    # the gateway holds a root for each whole window: one RootCommitted per window
    roots = bridge.gateway.events.RootCommitted().get_logs(
        from_block=max(0, bridge.w3e.eth.block_number - 900)
    )
    windows = {(int(r["args"]["firstNonce"]), int(r["args"]["lastNonce"])) for r in roots}
    for _, nonce in whole:
        w = window_of(src, nonce, WINDOW)
        assert (w.first_nonce, w.last_nonce) in windows
    wait_until(
        lambda: (
            sum(metric(bridge, v, "relayer_roots_committed_total") for v in range(n))
            >= committed_before + 2
        )
    )
