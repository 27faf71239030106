"""End to end: while the destination is paused the relayers send nothing to it (every
send would revert) and say so in a metric; after the unpause the held transfer executes
exactly once."""

from __future__ import annotations

import pytest
from bridge_client import (
    assert_exactly_once,
    executions,
    lock,
    metric,
    wait_status,
    wait_until,
)

from relayer.chain import transactions
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

FAILED = 'outcome="failed"'


def test_nothing_is_sent_to_a_paused_destination_and_it_completes_once_unpaused(
    bridge: Stack,
) -> None:
    assert bridge.w3e and bridge.gateway and bridge.deployer_e and bridge.vault
    user = bridge.users[1]
    assert_exactly_once(bridge, lock(bridge, user, "AxHKD", 3_000_000, user.address))
    gateway, n = bridge.gateway, len(bridge.validators)
    eth = f'chain_id="{bridge.w3e.eth.chain_id}"'
    failed_before = [metric(bridge, v, "relayer_submissions_total", FAILED) for v in range(n)]
    transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.pause())
    try:
        held = lock(bridge, user, "AxHKD", 2_000_000, user.address)
        for v in range(n):
            wait_status(bridge, v, held, "quorum")  # signed by a quorum, never sent
        # Every relayer has had the held release due (the primary at once, the others
        # after their grace period) and found the gateway paused: nothing was sent.
        for v in range(n):
            wait_until(lambda v=v: metric(bridge, v, "relayer_destination_paused", eth) == 1)
        assert gateway.functions.statusOf(held.transfer_id).call() == 0
        assert executions(bridge, held) == []
        failed = [metric(bridge, v, "relayer_submissions_total", FAILED) for v in range(n)]
        assert failed == failed_before, "a relayer sent to the paused gateway"
    finally:
        transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.unpause())
    assert_exactly_once(bridge, held)
    for v in range(n):
        wait_status(bridge, v, held, "released")
    # the primary saw the unpause when it sent the release
    assert any(metric(bridge, v, "relayer_destination_paused", eth) == 0 for v in range(n))


HELD = 'outcome="held"'


def test_a_paused_mirror_holds_its_releases_and_they_complete_once_resumed(
    bridge: Stack,
) -> None:
    """The guardian pauses one token (the AxHKD mirror) on the gateway: its releases are
    held — tried, not sent, nothing failed — while the gateway itself runs; after the admin
    resumes the token each executes once."""
    assert bridge.w3e and bridge.gateway and bridge.deployer_e
    user = bridge.users[2]
    gateway, n = bridge.gateway, len(bridge.validators)
    mirror = next(t for t in bridge.tokens if t.symbol == "AxHKD").ethereum
    failed_before = [metric(bridge, v, "relayer_submissions_total", FAILED) for v in range(n)]
    transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.setTokenPaused(mirror, True))
    try:
        held = lock(bridge, user, "AxHKD", 1_500_000, user.address)
        for v in range(n):
            wait_status(bridge, v, held, "quorum")
        # the primary tried it and the gateway refused it for now (TokenPaused)
        wait_until(
            lambda: any(metric(bridge, v, "relayer_submissions_total", HELD) > 0 for v in range(n))
        )
        assert not gateway.functions.paused().call()
        assert gateway.functions.statusOf(held.transfer_id).call() == 0
        assert executions(bridge, held) == []
        failed = [metric(bridge, v, "relayer_submissions_total", FAILED) for v in range(n)]
        assert failed == failed_before, "a held release was counted as failed"
    finally:
        transactions.send(
            bridge.w3e, bridge.deployer_e, gateway.functions.setTokenPaused(mirror, False)
        )
    assert_exactly_once(bridge, held)
    for v in range(n):
        wait_status(bridge, v, held, "released")
