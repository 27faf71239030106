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

from relayer.chain import deploy as d
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
    d.send(bridge.w3e, bridge.deployer_e, gateway.functions.pause())
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
        d.send(bridge.w3e, bridge.deployer_e, gateway.functions.unpause())
    assert_exactly_once(bridge, held)
    for v in range(n):
        wait_status(bridge, v, held, "released")
    # the primary saw the unpause when it sent the release
    assert any(metric(bridge, v, "relayer_destination_paused", eth) == 0 for v in range(n))
