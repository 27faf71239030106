"""relayer.domain.limits: a pack's rules for one transfer, over exact rolling 24 h windows.

Time is an input everywhere. ``evaluate_pack`` is compared with a reference written here
as one plain loop, and transfers are replayed through it (approve, record the spend, go
on) to show no sender and no validator ever moves more than the pack allows in any 24 h.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from domain_strategies import RECIPIENT, SENDER, TOKEN, source_event
from eth_utils.crypto import keccak
from hypothesis import given, note
from hypothesis import strategies as st

from relayer.domain.limits import (
    WINDOW_S,
    NeedsReview,
    PackVerdict,
    Spend,
    evaluate_pack,
    may_need_review,
    spend_of,
    spent,
    uses_history,
    window_start,
)
from relayer.domain.packs import PolicyPack, Sanctions, TokenKey, TokenRules
from relayer.domain.policy import Approved, RefusalReason, Refused
from relayer.domain.types import Address, Hash32, SourceEvent, checksum

DAY = 86_400
NOW = 1_800_000_000
OTHER_TOKEN = Address(b"\xab" * 20)
KEY: TokenKey = (1030, TOKEN)
TOKEN_KEYS: tuple[TokenKey, ...] = (KEY, (1030, OTHER_TOKEN), (71, TOKEN))
PEOPLE: tuple[Address, ...] = (SENDER, RECIPIENT, Address(b"\x01" * 20), Address(b"\x02" * 20))
TRANSFER_IDS: tuple[Hash32, ...] = tuple(Hash32(keccak(text=f"transfer-{i}")) for i in range(6))
SANCTIONED = Address(b"\xdd" * 20)


def make_pack(
    tokens: dict[TokenKey, TokenRules], sanctioned: frozenset[Address] = frozenset()
) -> PolicyPack:
    return PolicyPack(
        jurisdiction="HK",
        version=7,
        issued_at="",
        tokens=tokens,
        sanctions=Sanctions("test list", "2026-12", sanctioned),
        content_hash=Hash32(b"\x00" * 32),
    )


def _event(
    amount: int,
    *,
    sender: Address = SENDER,
    recipient: Address = RECIPIENT,
    key: TokenKey = KEY,
    transfer_id: Hash32 = TRANSFER_IDS[0],
) -> SourceEvent:
    return source_event(
        transfer_id=transfer_id,
        amount=amount,
        sender=sender,
        recipient=recipient,
        token=key[1],
        src_chain_id=key[0],
    )


def _spend(amount: int, at: int, *, sender: Address = SENDER, key: TokenKey = KEY) -> Spend:
    tid = Hash32(keccak(text=f"spend-{amount}-{at}-{sender.hex()}-{key}"))
    return Spend(tid, key, sender, amount, at)


def _outcome(verdict: PackVerdict) -> tuple[str, RefusalReason | None]:
    if isinstance(verdict, Refused):
        assert verdict.detail
        return ("refused", verdict.reason)
    if isinstance(verdict, NeedsReview):
        assert verdict.detail
        return ("review", None)
    assert verdict == Approved()
    return ("approved", None)


# ------------------------------------------------------------------------ spent


def test_window_start_is_one_day_back() -> None:
    assert WINDOW_S == DAY
    assert window_start(NOW) == NOW - DAY


@pytest.mark.parametrize(
    ("age", "counts"),
    [
        (DAY + 1, False),
        (DAY, False),  # exactly 24 h old: out
        (DAY - 1, True),  # one second younger: in
        (3600, True),
        (0, True),  # approved this second
        (-1, True),  # dated after now (the clock stepped back): counts, refusing errs safe
        (-10 * DAY, True),
    ],
)
def test_a_spend_counts_while_younger_than_a_day(age: int, counts: bool) -> None:
    spends = [_spend(5, NOW - age)]
    assert spent(spends, KEY, NOW) == (5 if counts else 0)
    assert spent(spends, KEY, NOW, SENDER) == (5 if counts else 0)


times = st.one_of(st.integers(0, 2**40), st.just(NOW))
offsets = st.one_of(
    st.sampled_from([-DAY - 1, -DAY, -DAY + 1, -1, 0, 1]),
    st.integers(-2 * DAY, DAY // 4),
)


@st.composite
def histories(draw: Any, now: int, *, min_size: int = 0, max_size: int = 12) -> list[Spend]:
    return draw(
        st.lists(
            st.builds(
                Spend,
                transfer_id=st.sampled_from(TRANSFER_IDS),
                token=st.sampled_from([KEY, KEY, *TOKEN_KEYS]),
                sender=st.sampled_from(PEOPLE),
                amount=st.integers(0, 80),
                at=offsets.map(lambda offset: now + offset),
            ),
            min_size=min_size,
            max_size=max_size,
        )
    )


@given(times, st.data())
def test_spent_is_the_sum_inside_the_window(now: int, data: Any) -> None:
    spends = data.draw(histories(now))
    for key in TOKEN_KEYS:
        total = spent(spends, key, now)
        assert total == sum(s.amount for s in spends if s.token == key and now - s.at < DAY)
        assert total == sum(spent(spends, key, now, person) for person in PEOPLE)


@given(times, st.data())
def test_a_spend_never_lowers_spent(now: int, data: Any) -> None:
    spends = data.draw(histories(now))
    extra = data.draw(histories(now, min_size=1, max_size=1))[0]
    for key in TOKEN_KEYS:
        for sender in (None, *PEOPLE):
            before = spent(spends, key, now, sender)
            after = spent([*spends, extra], key, now, sender)
            assert after >= before
            counts = extra.token == key and sender in (None, extra.sender) and extra.at > now - DAY
            assert after - before == (extra.amount if counts else 0)


@given(times, st.data(), st.integers(0, 3 * DAY))
def test_the_window_forgets_a_day_after_the_last_spend(now: int, data: Any, later: int) -> None:
    spends = data.draw(histories(now, min_size=1))
    quiet_from = max(s.at for s in spends) + DAY
    for key in TOKEN_KEYS:
        assert spent(spends, key, quiet_from + later) == 0


def test_spent_reads_only_its_token() -> None:
    spends = [
        _spend(5, NOW),
        _spend(7, NOW, key=(1030, OTHER_TOKEN)),
        _spend(11, NOW, key=(71, TOKEN)),
    ]
    assert [spent(spends, k, NOW) for k in TOKEN_KEYS] == [5, 7, 11]


def test_spend_of_records_the_transfer_at_now() -> None:
    event = _event(42)
    assert spend_of(event, NOW) == Spend(event.transfer_id, KEY, SENDER, 42, NOW)


# ------------------------------------------------------------------------ the reference


def reference(
    pack: PolicyPack, event: SourceEvent, now: int, spends: list[Spend], reviewed: bool
) -> tuple[str, RefusalReason | None]:
    """The rules as docs/supervision.md states them, one check after another."""
    listed = pack.sanctions.addresses
    if event.sender in listed:
        return ("refused", RefusalReason.SENDER_SANCTIONED)
    if event.recipient in listed:
        return ("refused", RefusalReason.RECIPIENT_SANCTIONED)
    rules = None
    for (chain_id, token), token_rules in pack.tokens.items():
        if chain_id == event.src_chain_id and token == event.src_token:
            rules = token_rules
    if rules is None:
        return ("refused", RefusalReason.TOKEN_NOT_ALLOWED)
    if event.amount > rules.max_per_transfer:
        return ("refused", RefusalReason.AMOUNT_ABOVE_LIMIT)
    by_sender = 0
    by_everyone = 0
    for s in spends:
        age = now - s.at  # negative for a spend dated after now: it counts
        if s.transfer_id == event.transfer_id or age >= DAY:
            continue
        if (s.token[0], s.token[1]) != (event.src_chain_id, event.src_token):
            continue
        by_everyone += s.amount
        if s.sender == event.sender:
            by_sender += s.amount
    sender_cap = rules.max_per_sender_24h
    if sender_cap is not None and by_sender + event.amount > sender_cap:
        return ("refused", RefusalReason.SENDER_DAILY_LIMIT)
    total_cap = rules.max_total_24h
    if total_cap is not None and by_everyone + event.amount > total_cap:
        return ("refused", RefusalReason.DAILY_LIMIT)
    if not reviewed and rules.review_above is not None and event.amount > rules.review_above:
        return ("review", None)
    return ("approved", None)


limits = st.one_of(st.none(), st.integers(0, 250))
token_rules = st.builds(
    TokenRules,
    max_per_transfer=st.integers(0, 150),
    max_per_sender_24h=limits,
    max_total_24h=limits,
    review_above=st.one_of(st.none(), st.integers(0, 100)),
)
# mostly the one token, so that the rolling limits and the review are reached often
mostly_key = st.sampled_from([KEY, KEY, KEY, *TOKEN_KEYS])
packs = st.builds(
    make_pack,
    st.dictionaries(mostly_key, token_rules, min_size=1, max_size=3),
    st.frozensets(st.sampled_from([SANCTIONED, PEOPLE[3]]), max_size=2),
)
events = st.builds(
    _event,
    st.integers(0, 100),
    sender=st.sampled_from(PEOPLE),
    recipient=st.sampled_from(PEOPLE),
    key=mostly_key,
    transfer_id=st.sampled_from(TRANSFER_IDS),
)


@given(packs, events, times, st.booleans(), st.data())
def test_evaluate_pack_agrees_with_the_reference(
    pack: PolicyPack, event: SourceEvent, now: int, reviewed: bool, data: Any
) -> None:
    spends = data.draw(histories(now))
    verdict = evaluate_pack(pack, event, now, spends, reviewed=reviewed)
    assert _outcome(verdict) == reference(pack, event, now, spends, reviewed)


@given(packs, events, times, st.data())
def test_reviewed_skips_only_the_review(
    pack: PolicyPack, event: SourceEvent, now: int, data: Any
) -> None:
    spends = data.draw(histories(now))
    unreviewed = evaluate_pack(pack, event, now, spends)
    reviewed = evaluate_pack(pack, event, now, spends, reviewed=True)
    if isinstance(unreviewed, NeedsReview):
        assert reviewed == Approved()
    else:
        assert reviewed == unreviewed


@given(packs, events, times, st.data())
def test_the_transfers_own_spend_is_not_counted(
    pack: PolicyPack, event: SourceEvent, now: int, data: Any
) -> None:
    """Deciding again (after a crash, after a review) sees what the first decision saw."""
    spends = data.draw(histories(now))
    own = [spend_of(event, now + data.draw(offsets)) for _ in range(data.draw(st.integers(1, 3)))]
    for reviewed in (False, True):
        first = evaluate_pack(pack, event, now, spends, reviewed=reviewed)
        again = evaluate_pack(pack, event, now, [*own, *spends], reviewed=reviewed)
        assert again == first


@given(packs, events, times, st.data())
def test_spends_may_be_a_one_shot_iterator(
    pack: PolicyPack, event: SourceEvent, now: int, data: Any
) -> None:
    spends = data.draw(histories(now))
    assert evaluate_pack(pack, event, now, iter(spends)) == evaluate_pack(pack, event, now, spends)


# ------------------------------------------------------------------------ order of checks

FULL = TokenRules(max_per_transfer=100, max_per_sender_24h=150, max_total_24h=200, review_above=50)
USED_UP = [_spend(150, NOW - 10), _spend(50, NOW - 10, sender=PEOPLE[2])]  # sender 150, total 200


@pytest.mark.parametrize(
    ("event", "spends", "outcome"),
    [
        # everything wrong at once: the sender's sanction is named
        (
            _event(10**9, sender=SANCTIONED, recipient=SANCTIONED, key=(9, TOKEN)),
            USED_UP,
            ("refused", RefusalReason.SENDER_SANCTIONED),
        ),
        (
            _event(10**9, recipient=SANCTIONED, key=(9, TOKEN)),
            USED_UP,
            ("refused", RefusalReason.RECIPIENT_SANCTIONED),
        ),
        # an unknown token, above every amount, with the limits used up
        (_event(10**9, key=(9, TOKEN)), USED_UP, ("refused", RefusalReason.TOKEN_NOT_ALLOWED)),
        (_event(10**9, key=(1030, OTHER_TOKEN)), [], ("refused", RefusalReason.TOKEN_NOT_ALLOWED)),
        # known token: the single amount before the rolling limits
        (_event(101), USED_UP, ("refused", RefusalReason.AMOUNT_ABOVE_LIMIT)),
        # the sender's limit before the total
        (_event(1), USED_UP, ("refused", RefusalReason.SENDER_DAILY_LIMIT)),
        # another sender: only the total is used up
        (_event(1, sender=PEOPLE[3]), USED_UP, ("refused", RefusalReason.DAILY_LIMIT)),
        # above the review threshold and over a limit: refused, never sent for review
        (_event(60, sender=PEOPLE[3]), USED_UP, ("refused", RefusalReason.DAILY_LIMIT)),
        (_event(60), [_spend(100, NOW)], ("refused", RefusalReason.SENDER_DAILY_LIMIT)),
        # within every limit but above the threshold: a human decides
        (_event(51), [], ("review", None)),
        (_event(50), [], ("approved", None)),
        (_event(90), [_spend(60, NOW)], ("review", None)),  # 60 + 90 = 150: on the limit
        (_event(100), [_spend(50, NOW), _spend(50, NOW, sender=PEOPLE[3])], ("review", None)),
        # the same limits a day later: the window has moved past USED_UP
        (_event(50), [replace(s, at=NOW - DAY) for s in USED_UP], ("approved", None)),
        (
            _event(50),
            [replace(s, at=NOW - DAY + 1) for s in USED_UP],
            ("refused", RefusalReason.SENDER_DAILY_LIMIT),
        ),
    ],
)
def test_the_checks_come_in_order(
    event: SourceEvent, spends: list[Spend], outcome: tuple[str, RefusalReason | None]
) -> None:
    pack = make_pack({KEY: FULL}, frozenset({SANCTIONED}))
    assert _outcome(evaluate_pack(pack, event, NOW, spends)) == outcome
    assert reference(pack, event, NOW, spends, False) == outcome


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_event(60, sender=SANCTIONED), RefusalReason.SENDER_SANCTIONED),
        (_event(60, recipient=SANCTIONED), RefusalReason.RECIPIENT_SANCTIONED),
        (_event(60, key=(9, TOKEN)), RefusalReason.TOKEN_NOT_ALLOWED),
        (_event(101), RefusalReason.AMOUNT_ABOVE_LIMIT),
        (_event(60), RefusalReason.SENDER_DAILY_LIMIT),
        (_event(60, sender=PEOPLE[3]), RefusalReason.DAILY_LIMIT),
    ],
)
def test_a_review_does_not_lift_a_rule(event: SourceEvent, reason: RefusalReason) -> None:
    pack = make_pack({KEY: FULL}, frozenset({SANCTIONED}))
    verdict = evaluate_pack(pack, event, NOW, USED_UP, reviewed=True)
    assert isinstance(verdict, Refused)
    assert verdict.reason is reason


def test_a_reviewed_transfer_above_the_threshold_is_approved() -> None:
    pack = make_pack({KEY: FULL})
    assert isinstance(evaluate_pack(pack, _event(100), NOW, []), NeedsReview)
    assert evaluate_pack(pack, _event(100), NOW, [], reviewed=True) == Approved()


def test_refusals_name_who_and_how_much() -> None:
    pack = make_pack({KEY: FULL}, frozenset({SANCTIONED}))
    sanctioned = evaluate_pack(pack, _event(1, sender=SANCTIONED), NOW, [])
    assert isinstance(sanctioned, Refused)
    assert checksum(SANCTIONED) in sanctioned.detail
    assert "test list 2026-12" in sanctioned.detail
    unknown = evaluate_pack(pack, _event(1, key=(9, TOKEN)), NOW, [])
    assert isinstance(unknown, Refused)
    assert "HK policy pack v7" in unknown.detail
    over = evaluate_pack(pack, _event(10), NOW, USED_UP)
    assert isinstance(over, Refused)
    assert "moved 150" in over.detail


def test_no_limit_means_no_limit() -> None:
    pack = make_pack({KEY: TokenRules(max_per_transfer=10**30)})
    history = [_spend(10**30, NOW - i) for i in range(5)]
    assert evaluate_pack(pack, _event(10**30), NOW, history) == Approved()


def test_a_zero_limit_allows_only_zero() -> None:
    pack = make_pack({KEY: TokenRules(max_per_transfer=0, max_per_sender_24h=0, max_total_24h=0)})
    assert evaluate_pack(pack, _event(0), NOW, [_spend(0, NOW)]) == Approved()
    verdict = evaluate_pack(pack, _event(1), NOW, [])
    assert isinstance(verdict, Refused)
    assert verdict.reason is RefusalReason.AMOUNT_ABOVE_LIMIT


# ------------------------------------------------------------------------ replay: the safety


@dataclass(frozen=True)
class Step:
    """One transfer arriving ``dt`` seconds after the previous decision."""

    dt: int
    sender: Address
    amount: int
    reviewed: bool
    retry: bool  # the same transfer as the previous step, decided again


steps_forward = st.builds(
    Step,
    dt=st.one_of(st.sampled_from([0, 1, DAY - 1, DAY, DAY + 1]), st.integers(0, 12_000)),
    sender=st.sampled_from(PEOPLE[:3]),
    amount=st.integers(0, 60),
    reviewed=st.booleans(),
    retry=st.sampled_from([False, False, False, True]),
)
steps_any_clock = st.builds(
    Step,
    dt=st.one_of(st.sampled_from([-DAY, -1, 0, 1, DAY]), st.integers(-12_000, 12_000)),
    sender=st.sampled_from(PEOPLE[:3]),
    amount=st.integers(0, 60),
    reviewed=st.booleans(),
    retry=st.sampled_from([False, False, False, True]),
)
replay_rules = st.builds(
    TokenRules,
    max_per_transfer=st.integers(20, 100),
    max_per_sender_24h=st.one_of(st.none(), st.integers(0, 300)),
    max_total_24h=st.one_of(st.none(), st.integers(0, 500)),
    review_above=st.one_of(st.none(), st.integers(0, 100)),
)


def _replay(rules: TokenRules, steps: list[Step]) -> list[Spend]:
    """Decide each step at its time; an approval records its spend (once per transfer)."""
    pack = make_pack({KEY: rules})
    now = NOW
    recorded: dict[Hash32, Spend] = {}
    event = _event(0)
    for i, step in enumerate(steps):
        now += step.dt
        if not (step.retry and i):
            event = _event(
                step.amount, sender=step.sender, transfer_id=Hash32(keccak(text=f"replay-{i}"))
            )
        verdict = evaluate_pack(pack, event, now, recorded.values(), reviewed=step.reviewed)
        if isinstance(verdict, Approved) and event.transfer_id not in recorded:
            recorded[event.transfer_id] = spend_of(event, now)
    return list(recorded.values())


def _assert_within_limits(rules: TokenRules, recorded: list[Spend]) -> None:
    """Every window (t - 24 h, t] that ends at a spend holds at most the limits; a window
    ending anywhere else holds no more than the one ending at its latest spend."""
    for spend in recorded:
        assert spend.amount <= rules.max_per_transfer
        end = spend.at
        inside = [s for s in recorded if end - DAY < s.at <= end]
        if rules.max_total_24h is not None:
            assert sum(s.amount for s in inside) <= rules.max_total_24h
        if rules.max_per_sender_24h is not None:
            for sender in PEOPLE:
                moved = sum(s.amount for s in inside if s.sender == sender)
                assert moved <= rules.max_per_sender_24h


@given(replay_rules, st.lists(steps_forward, min_size=5, max_size=60))
def test_replayed_transfers_never_exceed_a_limit_in_any_day(
    rules: TokenRules, steps: list[Step]
) -> None:
    recorded = _replay(rules, steps)
    note(f"recorded: {[(s.at - NOW, s.sender.hex()[:4], s.amount) for s in recorded]}")
    _assert_within_limits(rules, recorded)


@given(replay_rules, st.lists(steps_any_clock, min_size=5, max_size=60))
def test_a_clock_that_steps_back_does_not_open_the_limits(
    rules: TokenRules, steps: list[Step]
) -> None:
    """Spends dated after ``now`` count, so any window of the recorded times stays within."""
    recorded = _replay(rules, steps)
    _assert_within_limits(rules, recorded)


def test_replay_uses_the_whole_limit_and_no_more() -> None:
    rules = TokenRules(max_per_transfer=100, max_per_sender_24h=250, max_total_24h=400)
    steps = [Step(600, SENDER, 100, False, False) for _ in range(4)]  # 100 at a time
    steps += [Step(600, PEOPLE[2], 100, False, False) for _ in range(3)]
    steps += [Step(DAY - 6 * 600, SENDER, 100, False, False)]  # the first spend just left
    recorded = _replay(rules, steps)
    moved = [(s.sender, s.amount) for s in recorded]
    assert moved == [(SENDER, 100)] * 2 + [(PEOPLE[2], 100)] * 2 + [(SENDER, 100)]


@given(packs, events, times, st.booleans(), st.data())
def test_the_shell_may_skip_what_the_verdict_does_not_read(
    pack: PolicyPack, event: SourceEvent, now: int, reviewed: bool, data: Any
) -> None:
    """Without a rolling limit on the token the spends do not matter, and at or below the
    review threshold a review does not: the processor skips those reads (uses_history,
    may_need_review), and the verdict is the same as with them."""
    history = data.draw(histories(now))
    full = evaluate_pack(pack, event, now, history, reviewed=reviewed)
    spends = history if uses_history(pack, event) else []
    review = reviewed if may_need_review(pack, event) else False
    assert evaluate_pack(pack, event, now, spends, reviewed=review) == full
