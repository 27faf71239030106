"""End to end: releases that are due together go out in batch transactions
(``releaseBatch``), each still executed exactly once; one the batch had to skip (its token
is paused at the destination) is held on its own, never failed, and completes once resumed.

The gateway is paused while the transfers gather a quorum, so that on the unpause every
relayer has all of them due at once: the fullest batches this stack can make.
"""

from __future__ import annotations

import contextlib
from collections import Counter

import pytest
from bridge_client import (
    assert_exactly_once,
    execution_logs,
    executions,
    lock,
    metric,
    wait_executed,
    wait_status,
    wait_until,
)

from relayer.chain import transactions
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

FAILED = 'outcome="failed"'
HELD = 'outcome="held"'
SKIPPED = 'outcome="skipped"'


def test_due_releases_go_out_in_batches_and_a_skipped_one_is_held_until_resumed(
    bridge: Stack,
) -> None:
    assert bridge.w3e and bridge.gateway and bridge.deployer_e
    user = bridge.users[0]
    gateway, n = bridge.gateway, len(bridge.validators)
    eth = f'chain_id="{bridge.w3e.eth.chain_id}"'
    mirror = next(t for t in bridge.tokens if t.symbol == "AxHKD").ethereum
    counts_before = {
        label: [metric(bridge, v, "relayer_submissions_total", label) for v in range(n)]
        for label in (FAILED, HELD, SKIPPED)
    }
    batches_before = _batches(bridge, eth)
    transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.pause())
    transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.setTokenPaused(mirror, True))
    try:
        free = [lock(bridge, user, "CFXT", (i + 1) * 10**17, user.address) for i in range(4)]
        paused = [lock(bridge, user, "AxHKD", 1_000_000 + i, user.address) for i in range(2)]
        for sent in [*free, *paused]:
            for v in range(n):
                wait_status(bridge, v, sent, "quorum")
        for v in range(n):  # every relayer had them due and found the gateway paused
            wait_until(lambda v=v: metric(bridge, v, "relayer_destination_paused", eth) == 1)
        transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.unpause())
        for sent in free:
            assert_exactly_once(bridge, sent)
        # some transaction carried several of them: they were batched
        per_tx = Counter(
            entry["transactionHash"] for s in free for entry in execution_logs(bridge, s)
        )
        assert max(per_tx.values()) >= 2, f"no batch: {per_tx}"

        # the sender observes a batch once its receipt has its confirmations: a little
        # after its executions are visible here
        def batches_shown() -> bool:
            batches, batched = _batches(bridge, eth)
            return batches > batches_before[0] and batched >= batches_before[1] + 2 * (
                batches - batches_before[0]
            )

        wait_until(batches_shown, 60)
        # the paused token's releases were left out of the batches, then held on their own
        wait_until(lambda: _grew(bridge, SKIPPED, counts_before[SKIPPED]))
        wait_until(lambda: _grew(bridge, HELD, counts_before[HELD]))
        for sent in paused:
            assert gateway.functions.statusOf(sent.transfer_id).call() == 0
            assert executions(bridge, sent) == []
    finally:
        if gateway.functions.paused().call():
            transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.unpause())
        transactions.send(
            bridge.w3e, bridge.deployer_e, gateway.functions.setTokenPaused(mirror, False)
        )
        # whatever failed above, these must not complete inside the next test (which
        # counts balances): wait for them here, the checks below say if they went wrong
        for sent in paused:
            with contextlib.suppress(AssertionError):
                wait_executed(bridge, sent, timeout=60)
    for sent in paused:
        assert_exactly_once(bridge, sent)
    for sent in [*free, *paused]:
        for v in range(n):
            wait_status(bridge, v, sent, "released")
    failed = [metric(bridge, v, "relayer_submissions_total", FAILED) for v in range(n)]
    assert failed == counts_before[FAILED], "a batched or skipped release was counted as failed"


def _batches(stack: Stack, labels: str) -> tuple[float, float]:
    """Batch transactions mined by all relayers, and the releases they carried."""
    n = range(len(stack.validators))
    count = sum(metric(stack, v, "relayer_batch_releases_count", labels) for v in n)
    carried = sum(metric(stack, v, "relayer_batch_releases_sum", labels) for v in n)
    return count, carried


def _grew(stack: Stack, label: str, before: list[float]) -> bool:
    now = [metric(stack, v, "relayer_submissions_total", label) for v in range(len(before))]
    return sum(now) > sum(before)
