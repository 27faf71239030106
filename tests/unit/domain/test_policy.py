"""The jurisdiction policy and the deny-list parser."""

from __future__ import annotations

import pytest
from domain_strategies import RECIPIENT, SENDER, TOKEN, source_event
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.errors import DenyListError
from relayer.domain.policy import (
    Approved,
    Policy,
    RefusalReason,
    Refused,
    evaluate,
    parse_deny_list,
)
from relayer.domain.types import Address, checksum

POLICY = Policy(
    allowed_tokens=frozenset({(1030, TOKEN)}),
    max_amounts={(1030, TOKEN): 1000},
    denied_addresses=frozenset({Address(b"\xdd" * 20)}),
)
DENIED = Address(b"\xdd" * 20)


def _reason(decision: Approved | Refused) -> RefusalReason | None:
    return decision.reason if isinstance(decision, Refused) else None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"amount": 1000}, None),
        ({"amount": 1001}, RefusalReason.AMOUNT_ABOVE_LIMIT),
        ({"token": Address(b"\xab" * 20)}, RefusalReason.TOKEN_NOT_ALLOWED),
        ({"src_chain_id": 71}, RefusalReason.TOKEN_NOT_ALLOWED),
        ({"sender": DENIED}, RefusalReason.SENDER_DENIED),
        ({"recipient": DENIED}, RefusalReason.RECIPIENT_DENIED),
        ({"sender": DENIED, "amount": 10**30}, RefusalReason.SENDER_DENIED),
    ],
)
def test_evaluate(changes: dict[str, object], reason: RefusalReason | None) -> None:
    base: dict[str, object] = {"amount": 5, "sender": SENDER, "recipient": RECIPIENT}
    event = source_event(**{**base, **changes})  # type: ignore[arg-type]
    decision = evaluate(POLICY, event)
    assert _reason(decision) == reason
    if isinstance(decision, Refused):
        assert decision.detail


def test_allowed_token_without_a_limit_has_no_cap() -> None:
    policy = Policy(allowed_tokens=frozenset({(1030, TOKEN)}))
    assert evaluate(policy, source_event(amount=2**256 - 1)) == Approved()


def test_policy_is_frozen_and_copies_limits() -> None:
    limits = {(1030, TOKEN): 5}
    policy = Policy(allowed_tokens=frozenset(), max_amounts=limits)
    limits[(1030, TOKEN)] = 10**30
    assert policy.max_amounts[(1030, TOKEN)] == 5
    with pytest.raises(TypeError):
        policy.max_amounts[(1, TOKEN)] = 1  # type: ignore[index]


def test_parse_deny_list() -> None:
    a, b = Address(b"\x11" * 20), Address(bytes(range(20)))
    text = f"# sanctioned\n\n  {checksum(a)}  \n{b.hex().join(['0x', ''])}  # inline note\n"
    assert parse_deny_list(text) == frozenset({a, b})
    assert parse_deny_list("") == frozenset()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("0x1234\n", 1),
        ("# ok\n\n0x" + "11" * 20 + "\nnot-an-address\n", 4),
        ("0x" + "aB" * 20 + "\n", 1),  # mixed case with a bad checksum
        ("0x" + "11" * 9 + "  " + "22" * 10 + "\n", 1),  # whitespace inside the hex
    ],
)
def test_parse_deny_list_names_the_line(text: str, line: int) -> None:
    with pytest.raises(DenyListError) as info:
        parse_deny_list(text)
    assert info.value.line == line
    assert f"line {line}" in str(info.value)


@given(st.text())
def test_parse_deny_list_raises_only_its_own_error(text: str) -> None:
    try:
        denied = parse_deny_list(text)
    except DenyListError:
        return
    assert all(len(a) == 20 for a in denied)


@given(st.lists(st.binary(min_size=20, max_size=20), max_size=10), st.booleans())
def test_parse_deny_list_round_trips(raw: list[bytes], use_checksum: bool) -> None:
    lines = [checksum(a) if use_checksum else "0x" + a.hex() for a in raw]
    assert parse_deny_list("\n".join(lines)) == frozenset(raw)
