"""SIGKILL one relayer at each named step of a transfer's life, then restart it.

The relayer is started with ``testing.crash_after`` set to the step, so it kills itself
(SIGKILL: no cleanup, no flush) exactly after that step is durable, on the first
transfer that reaches it. The steps that only the submitter goes through (quorum, sent)
crash the transfer's primary submitter; the others crash another validator. Each case
ends with the usual two facts: the transfer executed exactly once with the exact amount,
and the restarted relayer reports it ``released``; where the primary was crashed, it also
sent at most one transaction for the transfer (``sent``: exactly that one, followed after
the restart instead of a second; ``recorded``: signed and recorded but never broadcast).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Mapping

import pytest
from bridge_client import assert_exactly_once, lock, lock_burst, wait_status, wait_until
from eth_abi import encode
from eth_utils.crypto import keccak

from relayer.chain import transactions
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

STEPS = ["observed", "signed", "published", "quorum", "recorded", "sent"]
SUBMITTER_STEPS = ("quorum", "recorded", "sent")  # the primary submitter is crashed


def next_lock_id(bridge: Stack) -> bytes:
    """The transfer id the vault will give its next lock."""
    assert bridge.vault is not None and bridge.conflux is not None
    nonce = bridge.vault.functions.nextNonce().call()
    return keccak(
        encode(
            ["uint256", "address", "uint64"], [bridge.conflux.chain_id, bridge.vault.address, nonce]
        )
    )


def primary_index(bridge: Stack, transfer_id: bytes) -> int:
    """Index of the validator that submits ``transfer_id`` first (members[id mod n])."""
    assert bridge.gateway is not None
    (_, addresses, *_rest) = bridge.gateway.functions.validatorSet().call()
    members = sorted(bytes.fromhex(m[2:]) for m in addresses)
    primary = members[int.from_bytes(transfer_id, "big") % len(members)]
    return next(v.index for v in bridge.validators if bytes.fromhex(v.address[2:]) == primary)


@pytest.mark.parametrize("step", STEPS)
def test_sigkill_at_a_named_step_then_restart(bridge: Stack, step: str) -> None:
    user = bridge.users[2]
    transfer_id = next_lock_id(bridge)
    primary = primary_index(bridge, transfer_id)
    victim = primary if step in SUBMITTER_STEPS else (primary + 1) % len(bridge.validators)
    assert bridge.w3e is not None
    first_block = bridge.w3e.eth.block_number
    bridge.stop_relayer(victim)
    armed = bridge.start_relayer(victim, env={"RELAYER_TESTING__CRASH_AFTER": step})
    bridge.wait_ready(indexes=[victim])

    sent = lock(bridge, user, "AxHKD", 20_000 + STEPS.index(step), user.address)
    assert sent.transfer_id == transfer_id
    wait_until(lambda: armed.exit_code() is not None, 120)
    assert armed.exit_code() == -signal.SIGKILL, armed.log_tail()
    tail = armed.log_tail(20_000)
    assert "crash point reached" in tail and f'"point": "{step}"' in tail, tail[-3000:]

    bridge.start_relayer(victim)
    bridge.wait_ready(indexes=[victim])
    assert_exactly_once(bridge, sent)
    view = wait_status(bridge, victim, sent, "released", timeout=120)
    assert view["amount"] == str(sent.amount)
    if step in SUBMITTER_STEPS:
        ours = sent_for(bridge, bridge.validators[victim].address, transfer_id, first_block)
        assert ours <= 1, f"the primary sent {ours} transactions for one transfer"
        if step == "sent":
            assert ours == 1


def sent_for(bridge: Stack, sender: str, transfer_id: bytes, first_block: int) -> int:
    """How many transactions from ``sender`` carrying ``transfer_id`` Ethereum mined or
    holds since ``first_block``."""
    assert bridge.w3e is not None
    w3e, count = bridge.w3e, 0
    for number in range(first_block, w3e.eth.block_number + 1):
        block = w3e.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            assert isinstance(tx, Mapping)
            if tx["from"].lower() == sender.lower() and transfer_id in bytes(tx["input"]):
                count += 1
    pending = w3e.eth.get_block("pending", full_transactions=True)
    for tx in pending["transactions"]:
        assert isinstance(tx, Mapping)
        if tx["from"].lower() == sender.lower() and transfer_id in bytes(tx["input"]):
            count += 1
    return count


BATCH = 50


def test_sigkill_with_a_batch_of_releases_in_flight_then_restart(bridge: Stack) -> None:
    """The gateway is paused while 50 transfers gather their quorum; the other relayers are
    frozen (SIGSTOP), so that on the unpause the armed one sends them all in one batch and
    is SIGKILLed right after the send, before its receipt. The others run again, the victim
    restarts: each of the 50 executes once, and the victim reports every one released."""
    assert bridge.w3e and bridge.gateway and bridge.deployer_e
    user, gateway, n = bridge.users[0], bridge.gateway, len(bridge.validators)
    victim = 2
    others = [v for v in range(n) if v != victim]
    bridge.stop_relayer(victim)
    log_path = bridge.validators[victim].log_path  # appended to by every run of the victim
    offset = log_path.stat().st_size
    armed = bridge.start_relayer(victim, env={"RELAYER_TESTING__CRASH_AFTER": "sent"})
    try:
        bridge.wait_ready(indexes=[victim])
        transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.pause())
        burst = lock_burst(bridge, user, "CFXT", [2 * 10**16 + i for i in range(BATCH)])
        for sent in burst:
            wait_status(bridge, victim, sent, "quorum")
        # The k-th backup's release falls due k * grace_period_s after its quorum was
        # stored (the victim is up to the (n-1)-th): a rule on the clock, so the wait is the
        # condition itself.
        time.sleep((n - 1) * bridge.options.grace_period_s + 0.5)
        for v in others:
            bridge.relayers[v].send_signal(signal.SIGSTOP)
        transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.unpause())
        wait_until(lambda: armed.exit_code() is not None, 120)
    finally:  # whatever failed, the next test finds the stack as it was
        for v in others:
            bridge.relayers[v].send_signal(signal.SIGCONT)
        if gateway.functions.paused().call():
            transactions.send(bridge.w3e, bridge.deployer_e, gateway.functions.unpause())
        if armed.exit_code() is None:
            bridge.stop_relayer(victim)
        else:
            bridge.relayers.pop(victim)
        bridge.start_relayer(victim)
        bridge.wait_ready(indexes=[victim])
    assert armed.exit_code() == -signal.SIGKILL, armed.log_tail()
    with log_path.open("rb") as log:  # what the armed run wrote, not the earlier runs
        log.seek(offset)
        armed_log = log.read().decode(errors="replace")
    assert '"point": "sent"' in armed_log, armed_log[-3000:]
    sending = armed_log[: armed_log.index("crash point reached")].splitlines()
    batch = [json.loads(line) for line in sending if '"sending a batch"' in line][-1:]
    assert batch and batch[0]["releases"] >= BATCH, f"not one batch of all of them: {batch}"
    for sent in burst:
        assert_exactly_once(bridge, sent)
    for sent in burst:
        wait_status(bridge, victim, sent, "released", timeout=120)
