"""The per-client token bucket (relayer/portal/ratelimit.py), driven by a clock of numbers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relayer.portal.ratelimit import Allowed, Limited, RateLimiter


def test_a_client_may_spend_its_burst_then_waits_for_the_refill() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.take("a", 0.0) for _ in range(3)] == [Allowed(2), Allowed(1), Allowed(0)]
    assert limiter.take("a", 0.0) == Limited(1)
    assert limiter.take("a", 0.4) == Limited(1)  # 0.8 of a token: still under one
    assert limiter.take("a", 0.5) == Allowed(0)  # one token after 0.5 s at 2/s


def test_retry_after_is_whole_seconds_until_a_token() -> None:
    limiter = RateLimiter(rate=0.25, burst=1)
    assert limiter.take("a", 0.0) == Allowed(0)
    assert limiter.take("a", 0.0) == Limited(4)
    assert limiter.take("a", 3.0) == Limited(1)
    assert limiter.take("a", 4.0) == Allowed(0)


def test_clients_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1)
    assert isinstance(limiter.take("a", 0.0), Allowed)
    assert isinstance(limiter.take("a", 0.0), Limited)
    assert isinstance(limiter.take("b", 0.0), Allowed)


def test_the_least_recently_seen_clients_are_dropped_beyond_max_clients() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_clients=2)
    for client in ("a", "b", "c"):
        limiter.take(client, 0.0)
    assert len(limiter) == 2
    assert isinstance(limiter.take("a", 0.0), Allowed)  # forgotten: a full bucket again
    assert isinstance(limiter.take("c", 0.0), Limited)


def test_a_clock_going_backwards_adds_nothing() -> None:
    limiter = RateLimiter(rate=1.0, burst=1)
    limiter.take("a", 10.0)
    assert isinstance(limiter.take("a", 5.0), Limited)


@given(
    st.floats(0.1, 50.0),
    st.integers(1, 20),
    st.lists(st.floats(0.0, 0.5), min_size=1, max_size=200),
)
def test_never_more_than_burst_plus_rate_times_elapsed(
    rate: float, burst: int, gaps: list[float]
) -> None:
    limiter = RateLimiter(rate=rate, burst=burst)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        if isinstance(limiter.take("a", now), Allowed):
            allowed += 1
    assert allowed <= burst + rate * now + 1e-9
