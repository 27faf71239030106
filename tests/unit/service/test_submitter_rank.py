"""Who submits a release, and in which order the backups step in (``submitter_rank``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.types import Address, Hash32
from relayer.service.submit import submitter_rank

members_st = st.lists(st.binary(min_size=20, max_size=20), min_size=1, max_size=25, unique=True)
tid_st = st.binary(min_size=32, max_size=32)


@given(members_st, tid_st)
def test_the_ranks_of_the_members_are_a_line_starting_at_the_primary(
    raw: list[bytes], raw_tid: bytes
) -> None:
    members = tuple(Address(m) for m in raw)
    tid = Hash32(raw_tid)
    ranks = {m: submitter_rank(tid, members, m) for m in members}
    assert sorted(ranks.values()) == list(range(len(members)))
    (first,) = [m for m, r in ranks.items() if r == 0]
    # the primary is the member at the transfer id modulo the set's size, in ascending order
    ordered = sorted(members)
    assert first == ordered[int.from_bytes(tid, "big") % len(ordered)]
    # the line runs through the members in ascending order, wrapping round
    start = ordered.index(first)
    assert [ranks[ordered[(start + k) % len(ordered)]] for k in range(len(ordered))] == list(
        range(len(ordered))
    )


@given(members_st, tid_st, st.binary(min_size=20, max_size=20))
def test_a_relayer_outside_the_set_comes_last(
    raw: list[bytes], raw_tid: bytes, outsider: bytes
) -> None:
    members = tuple(Address(m) for m in raw)
    if outsider in raw:
        return
    assert submitter_rank(Hash32(raw_tid), members, Address(outsider)) == len(members)


def test_three_members_in_order() -> None:
    a, b, c = (Address(bytes([n]) * 20) for n in (1, 2, 3))
    tid = Hash32((4).to_bytes(32, "big"))  # 4 mod 3 = 1: b is the primary
    assert [submitter_rank(tid, (c, a, b), m) for m in (a, b, c)] == [2, 0, 1]
