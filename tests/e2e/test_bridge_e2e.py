"""End to end on real parts: users lock and burn; every transfer is executed exactly once
with the exact amount the source contract received; policy refusals are honoured."""

from __future__ import annotations

import pytest
from bridge_client import (
    DENIED_BY_ONE,
    DENIED_BY_TWO,
    Sent,
    assert_refunded_once,
    burn,
    executions,
    lock,
    retained_signers,
    status,
    token,
    wait_executed,
    wait_status,
    wait_until,
)

from relayer.chain import transactions
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def mirror_balance(bridge: Stack, symbol: str, holder: str) -> int:
    assert bridge.w3e is not None
    mirror = transactions.contract_at(bridge.w3e, "MirroredToken", token(bridge, symbol).ethereum)
    return int(mirror.functions.balanceOf(holder).call())


def assert_executed_once(bridge: Stack, sent: Sent) -> None:
    logs = wait_executed(bridge, sent)
    assert len(logs) == 1, f"executed {len(logs)} times"
    assert logs[0]["amount"] == sent.amount
    assert logs[0]["recipient"] == sent.recipient


def test_locks_of_several_users_are_released_once_with_the_amount_received(bridge: Stack) -> None:
    u0, u1, u2 = bridge.users
    before = {
        (s, u.address): mirror_balance(bridge, s, u.address)
        for s in ("AxHKD", "CFXT", "FOT", "CFX")
        for u in (u0, u1, u2)
    }
    sent = [
        lock(bridge, u0, "AxHKD", 12_500_000, u0.address),  # 12.5 HKD, 6 decimals
        lock(bridge, u1, "CFXT", 3 * 10**18 + 7, u1.address),
        lock(bridge, u2, "FOT", 10**18, u2.address),  # 1% transfer fee: 0.99 credited
        lock(bridge, u0, "CFX", 2 * 10**17, u1.address),  # native CFX
        lock(bridge, u1, "AxHKD", 1, u2.address),
    ]
    fee_lock = sent[2]
    assert fee_lock.amount == 10**18 * 99 // 100
    for s in sent:
        assert_executed_once(bridge, s)
    expected: dict[tuple[str, str], int] = {}
    for s in sent:
        key = (s.token.symbol, s.recipient)
        expected[key] = expected.get(key, 0) + s.amount
    for (symbol, holder), amount in expected.items():
        assert mirror_balance(bridge, symbol, holder) - before[(symbol, holder)] == amount
    for s in sent:  # every relayer learns the outcome
        for v in range(5):
            view = wait_status(bridge, v, s, "released")
            assert view["amount"] == str(s.amount)
    release = wait_status(bridge, 0, sent[0], "released")
    assert release["attestations"]["count"] >= 4
    assert len(release["attestations"]["jurisdictions"]) >= 2


def test_burn_returns_the_exact_amount_on_conflux(bridge: Stack) -> None:
    user = bridge.users[2]
    assert bridge.w3c is not None
    first = lock(bridge, user, "CFXT", 5 * 10**18, user.address)
    assert_executed_once(bridge, first)
    hkd = transactions.contract_at(bridge.w3c, "TestToken", token(bridge, "CFXT").conflux)
    before = int(hkd.functions.balanceOf(user.address).call())
    back = burn(bridge, user, "CFXT", 2 * 10**18 + 1, user.address)
    assert_executed_once(bridge, back)
    assert int(hkd.functions.balanceOf(user.address).call()) - before == 2 * 10**18 + 1
    assert mirror_balance(bridge, "CFXT", user.address) >= 3 * 10**18 - 1
    assert executions(bridge, back)[0]["token"] == token(bridge, "CFXT").conflux


def test_one_refusal_is_recorded_and_the_others_still_complete(bridge: Stack) -> None:
    user = bridge.users[0]
    sent = lock(bridge, user, "AxHKD", 4_000_000, DENIED_BY_ONE)
    assert_executed_once(bridge, sent)
    refused = wait_status(bridge, 4, sent, "released")
    assert [r["reason"] for r in refused["refusals"]] == ["recipient_denied"]
    signed = wait_status(bridge, 0, sent, "released")
    signers = {s["address"] for s in signed["attestations"]["signers"]}
    assert bridge.validators[4].address not in signers


def test_enough_refusals_hold_the_transfer_and_say_by_whom(bridge: Stack) -> None:
    user = bridge.users[1]
    sent = lock(bridge, user, "AxHKD", 7_000_000, DENIED_BY_TWO)
    for v in (3, 4):
        view = wait_status(bridge, v, sent, "refused")
        assert view["reason"].startswith("recipient_denied")
        assert view["refusals"][0]["jurisdiction"] == bridge.validators[v].jurisdiction
    wait_status(bridge, 0, sent, "attested")
    # a validator that signed can say who refused and why, from the refusers' signed messages
    seen = wait_until(
        lambda: (v := status(bridge, 0, sent)) and len(v["refusals"]) == 2 and v, timeout=60
    )
    refusers = {bridge.validators[v].address for v in (3, 4)}
    assert {r["validator"] for r in seen["refusals"]} == refusers
    assert {r["reason"] for r in seen["refusals"]} == {"recipient_denied"}
    packs = {bridge.packs[bridge.validators[v].jurisdiction].hash for v in (3, 4)}
    assert {r["policy"] for r in seen["refusals"]} == packs  # each under its jurisdiction's pack
    approvals = [d for d in seen["decisions"] if d["verdict"] == "approved"]
    assert len(approvals) == 3  # ours and the two other signers', each with its pack hash
    assert all(d["policy"] == bridge.packs[d["jurisdiction"]].hash for d in approvals)
    held = wait_until(
        lambda: (v := status(bridge, 0, sent)) and v["attestations"]["count"] == 3 and v
    )
    assert held["attestations"]["threshold"] == 4
    assert held["status"] == "attested"
    # The broker keeps the held transfer's attestations (for late peers) while it is held.
    assert len(retained_signers(bridge, sent)) == 3
    # Another transfer completes meanwhile, and its signers withdraw their retained
    # attestations once it is final; the held one is never executed.
    later = lock(bridge, user, "AxHKD", 1_000_000, user.address)
    assert_executed_once(bridge, later)
    for v in range(len(bridge.validators)):
        wait_status(bridge, v, later, "released")
    wait_until(lambda: not retained_signers(bridge, later, listen_s=1.0), timeout=30)
    # It can never reach a quorum: after the hold time its two refusers veto it (a blocking
    # minority), a relayer cancels it on Ethereum, and a quorum refunds it on Conflux.
    assert_refunded_once(bridge, sent, user.address)
    for v in range(len(bridge.validators)):
        veto = status(bridge, v, sent)["veto"]  # type: ignore[index]
        if v in (3, 4):  # the refusers vetoed it, on their own
            assert veto["by"] == "auto" and veto["automatic"], veto
            assert veto["reason"].startswith("refused by 2 of 5 validators"), veto
        else:
            assert veto is None
    view = status(bridge, 0, sent)
    assert view is not None
    assert {s["address"] for s in view["cancel_signers"]} == refusers
    assert len(view["refund_signers"]) >= 4
    assert executions(bridge, sent) == []
    # once final, each signer withdraws its retained attestation
    wait_until(lambda: not retained_signers(bridge, sent, listen_s=1.0), timeout=30)


def test_a_recipient_the_issuer_blacklisted_is_refused_by_every_validator(bridge: Stack) -> None:
    """AxHKD's issuer blacklists an address on Conflux: a lock to it (the lock itself goes to
    the vault, so the token lets it through) is refused by every validator before signing,
    each naming the issuer's answer, under its jurisdiction's pack; nothing is released. The
    same for an address the mirror's issuer froze on Ethereum."""
    assert bridge.w3c is not None and bridge.deployer_c is not None
    frozen = "0x000000000000000000000000000000000000f0F0"
    stablecoin = transactions.contract_at(
        bridge.w3c, "BlacklistToken", token(bridge, "AxHKD").conflux
    )
    transactions.send(bridge.w3c, bridge.deployer_c, stablecoin.functions.blacklist(frozen))
    sent = lock(bridge, bridge.users[2], "AxHKD", 3_000_000, frozen)
    for v, validator in enumerate(bridge.validators):
        view = wait_status(bridge, v, sent, "refused")
        assert view["reason"].startswith("issuer_blacklisted: recipient "), view["reason"]
        assert "isBlacklisted(address)" in view["reason"] and "answered true" in view["reason"]
        (refusal,) = [r for r in view["refusals"] if r["validator"] == validator.address]
        assert refusal["reason"] == "issuer_blacklisted"
    assert executions(bridge, sent) == []
    # every validator sees every other's signed refusal
    everyone = {v.address for v in bridge.validators}
    wait_until(
        lambda: (
            (v := status(bridge, 0, sent)) and {r["validator"] for r in v["refusals"]} == everyone
        ),
        timeout=60,
    )
    # the mirror's issuer freezes an address on Ethereum: a lock to it is refused too
    # (the destination token's check), and nothing is minted to it
    assert bridge.w3e is not None and bridge.deployer_e is not None
    iced = "0x000000000000000000000000000000000000cafE"
    mirror = transactions.contract_at(bridge.w3e, "MirroredToken", token(bridge, "AxHKD").ethereum)
    transactions.send(bridge.w3e, bridge.deployer_e, mirror.functions.freeze(iced))
    to_frozen = lock(bridge, bridge.users[2], "AxHKD", 2_000_000, iced)
    for v in range(len(bridge.validators)):
        view = wait_status(bridge, v, to_frozen, "refused")
        assert view["reason"].startswith("issuer_blacklisted: recipient "), view["reason"]
        assert "isFrozen(address)" in view["reason"], view["reason"]
    assert executions(bridge, to_frozen) == []
    # the next transfer of the same token to a clear recipient is not held up
    later = lock(bridge, bridge.users[2], "AxHKD", 1_000_000, bridge.users[2].address)
    assert_executed_once(bridge, later)
    # refused by all five, neither can ever be released: after the hold time every validator
    # vetoes it, it is cancelled on Ethereum and refunded to its sender on Conflux
    for held in (sent, to_frozen):
        assert_refunded_once(bridge, held, bridge.users[2].address)
