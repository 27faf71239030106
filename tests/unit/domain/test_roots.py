"""relayer.domain.roots: aligned nonce windows and the root a validator signs over one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from domain_strategies import addresses, uint256s
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.digest import release_struct_hash
from relayer.domain.merkle import MerkleError, build_tree, process_multiproof, root_of
from relayer.domain.roots import (
    Entry,
    Incomplete,
    NothingSigned,
    RootProposal,
    Window,
    propose_root,
    window_of,
)
from relayer.domain.types import UINT64_MAX, Address, Hash32, Release

SRC = 1030
DST = 1
OTHER_DST = 71

chain_ids = st.integers(0, UINT64_MAX)
sizes = st.integers(1, 64)
nonces = st.integers(1, 2**48)


# ------------------------------------------------------------------------ windows


@given(chain_ids, nonces, sizes)
def test_window_of_holds_the_nonce_and_is_aligned(src: int, nonce: int, size: int) -> None:
    window = window_of(src, nonce, size)
    assert window.src_chain_id == src
    assert window.holds(nonce)
    assert window.first_nonce <= nonce <= window.last_nonce
    assert (window.first_nonce - 1) % size == 0
    assert window.size == size == window.last_nonce - window.first_nonce + 1
    assert window == Window(src, (nonce - 1) // size * size + 1, (nonce - 1) // size * size + size)


@given(nonces, sizes)
def test_consecutive_windows_tile(nonce: int, size: int) -> None:
    window = window_of(SRC, nonce, size)
    after = window_of(SRC, window.last_nonce + 1, size)
    assert after.first_nonce == window.last_nonce + 1
    assert not window.holds(after.first_nonce)
    assert not after.holds(window.last_nonce)
    if window.first_nonce > 1:
        before = window_of(SRC, window.first_nonce - 1, size)
        assert before.last_nonce == window.first_nonce - 1
    else:
        assert window.first_nonce == 1


@given(st.integers(1, 500), sizes)
def test_every_nonce_of_a_window_maps_to_that_window(nonce: int, size: int) -> None:
    window = window_of(SRC, nonce, size)
    for n in range(window.first_nonce, window.last_nonce + 1):
        assert window_of(SRC, n, size) == window
    assert not window.holds(window.first_nonce - 1)
    assert not window.holds(window.last_nonce + 1)


@pytest.mark.parametrize(
    ("nonce", "size", "expected"),
    [(1, 1, (1, 1)), (1, 10, (1, 10)), (10, 10, (1, 10)), (11, 10, (11, 20)), (25, 8, (25, 32))],
)
def test_window_of_examples(nonce: int, size: int, expected: tuple[int, int]) -> None:
    window = window_of(SRC, nonce, size)
    assert (window.first_nonce, window.last_nonce) == expected


@pytest.mark.parametrize("size", [0, -1, -10])
def test_window_of_refuses_an_empty_window(size: int) -> None:
    with pytest.raises(ValueError, match=f"at least one nonce, not {size}"):
        window_of(SRC, 5, size)


@pytest.mark.parametrize("nonce", [0, -1, -100])
def test_window_of_refuses_a_nonce_below_one(nonce: int) -> None:
    with pytest.raises(ValueError, match=f"start at 1, not {nonce}"):
        window_of(SRC, nonce, 10)


@pytest.mark.parametrize(("first", "last"), [(0, 5), (5, 4), (1, UINT64_MAX + 1), (-1, 1)])
def test_window_refuses_what_is_not_a_nonce_window(first: int, last: int) -> None:
    with pytest.raises(ValueError, match="not a nonce window"):
        Window(SRC, first, last)


def test_window_orders_by_chain_then_nonces() -> None:
    windows = [Window(2, 1, 10), Window(1, 11, 20), Window(1, 1, 10)]
    assert sorted(windows) == [Window(1, 1, 10), Window(1, 11, 20), Window(2, 1, 10)]
    assert Window(1, UINT64_MAX, UINT64_MAX).size == 1


# ------------------------------------------------------------------- propose_root


def _release(nonce: int, *, src: int = SRC, salt: int = 0) -> Release:
    return Release(
        transfer_id=Hash32(keccak(f"transfer-{src}-{nonce}-{salt}".encode())),
        src_chain_id=src,
        nonce=nonce,
        token=Address(b"\xaa" * 20),
        recipient=Address(bytes([nonce % 256]) * 20),
        amount=nonce * 10**18,
    )


def _root_over(releases: list[Release]) -> Hash32:
    return root_of(build_tree([release_struct_hash(r) for r in releases]))


# What one nonce of a decided window is: signed here, settled here (refused/ended
# without our signature), or bound elsewhere (signed or not, settled or not: no matter).
SIGNED, SETTLED, ELSEWHERE_OPEN, ELSEWHERE_SIGNED, ELSEWHERE_SETTLED = range(5)
_DECIDED_KINDS = st.sampled_from(
    [SIGNED, SETTLED, ELSEWHERE_OPEN, ELSEWHERE_SIGNED, ELSEWHERE_SETTLED]
)


def _entry(nonce: int, kind: int, release: Release) -> Entry:
    if kind == SIGNED:
        return Entry(nonce, DST, final=True, signed=release)
    if kind == SETTLED:
        return Entry(nonce, DST, final=True, settled=True)
    if kind == ELSEWHERE_OPEN:
        return Entry(nonce, OTHER_DST, final=True)
    if kind == ELSEWHERE_SIGNED:
        return Entry(nonce, OTHER_DST, final=True, signed=release)
    return Entry(nonce, OTHER_DST, final=True, settled=True)


@dataclass(frozen=True)
class Scenario:
    window: Window
    entries: tuple[Entry, ...]  # one per nonce of the window, every one decided

    @property
    def signed_here(self) -> list[Release]:
        return [e.signed for e in self.entries if e.dst_chain_id == DST and e.signed is not None]


@st.composite
def scenarios(draw: Any, kinds: st.SearchStrategy[int] = _DECIDED_KINDS) -> Scenario:
    size = draw(st.integers(1, 24))
    index = draw(st.integers(0, 10**6))
    window = window_of(SRC, index * size + 1, size)
    releases = [
        replace(
            _release(n),
            token=draw(addresses),
            recipient=draw(addresses),
            amount=draw(uint256s),
        )
        for n in range(window.first_nonce, window.last_nonce + 1)
    ]
    entries = tuple(_entry(r.nonce, draw(kinds), r) for r in releases)
    return Scenario(window, entries)


def _with_a_signature(scenario: Scenario) -> bool:
    return bool(scenario.signed_here)


@given(scenarios().filter(_with_a_signature))
def test_a_decided_window_gives_the_root_of_its_signed_releases(scenario: Scenario) -> None:
    outcome = propose_root(scenario.window, DST, scenario.entries)
    expected = scenario.signed_here
    assert isinstance(outcome, RootProposal)
    assert outcome.window == scenario.window
    assert outcome.dst_chain_id == DST
    assert outcome.releases == tuple(expected)
    assert [r.nonce for r in outcome.releases] == sorted(r.nonce for r in expected)
    assert outcome.tree == build_tree([release_struct_hash(r) for r in expected])
    assert outcome.root == _root_over(expected)


@given(scenarios(), st.randoms(use_true_random=False))
def test_entry_order_and_entries_outside_the_window_do_not_matter(
    scenario: Scenario, rnd: Any
) -> None:
    before = scenario.window.first_nonce - 1
    after = scenario.window.last_nonce + 1
    outside = [Entry(after, DST, final=False), Entry(after + 5, DST, final=True)]
    if before >= 1:
        outside.append(Entry(before, DST, final=True, signed=_release(before)))
    shuffled = [*scenario.entries, *outside]
    rnd.shuffle(shuffled)
    assert propose_root(scenario.window, DST, shuffled) == propose_root(
        scenario.window, DST, scenario.entries
    )


@given(scenarios(), st.data())
def test_missing_or_undecided_nonces_make_the_window_incomplete(
    scenario: Scenario, data: Any
) -> None:
    window = scenario.window
    broken = data.draw(
        st.sets(st.integers(window.first_nonce, window.last_nonce), min_size=1),
        label="broken",
    )
    entries = []
    for entry in scenario.entries:
        if entry.nonce not in broken:
            entries.append(entry)
            continue
        how = data.draw(st.sampled_from(["missing", "not final", "undecided"]))
        if how == "not final":
            # not final on the source: open whatever else is known of it
            entries.append(replace(entry, final=False, settled=data.draw(st.booleans())))
        elif how == "undecided":
            entries.append(Entry(entry.nonce, DST, final=True))
    outcome = propose_root(window, DST, entries)
    assert outcome == Incomplete(tuple(sorted(broken)))


def test_incomplete_lists_exactly_the_open_nonces() -> None:
    window = Window(SRC, 11, 16)
    entries = [
        Entry(11, DST, final=True, signed=_release(11)),
        Entry(12, DST, final=False, signed=_release(12)),  # signed, yet reorgable
        Entry(13, OTHER_DST, final=True),  # elsewhere and final: decided
        Entry(14, OTHER_DST, final=False, settled=True),  # elsewhere but not final
        Entry(16, DST, final=True),  # here, neither signed nor settled
    ]  # 15 is missing
    assert propose_root(window, DST, entries) == Incomplete((12, 14, 15, 16))
    assert propose_root(window, DST, []) == Incomplete((11, 12, 13, 14, 15, 16))


@given(scenarios(st.sampled_from([SETTLED, ELSEWHERE_OPEN, ELSEWHERE_SIGNED, ELSEWHERE_SETTLED])))
def test_a_decided_window_without_our_signature_is_nothing_signed(scenario: Scenario) -> None:
    assert propose_root(scenario.window, DST, scenario.entries) == NothingSigned()


def test_entries_for_another_destination_only_need_to_be_final() -> None:
    window = Window(SRC, 1, 4)
    entries = [
        Entry(1, OTHER_DST, final=True),
        Entry(2, DST, final=True, signed=_release(2)),
        Entry(3, OTHER_DST, final=True, signed=_release(3)),
        Entry(4, OTHER_DST, final=True, settled=True),
    ]
    outcome = propose_root(window, DST, entries)
    assert isinstance(outcome, RootProposal)
    assert outcome.releases == (_release(2),)
    assert outcome.root == release_struct_hash(_release(2))  # one leaf: the root is the leaf
    # for OTHER_DST, nonce 1 is undecided (neither signed nor settled) and 2 is elsewhere
    assert propose_root(window, OTHER_DST, entries) == Incomplete((1,))
    entries[0] = Entry(1, OTHER_DST, final=True, settled=True)
    flipped = propose_root(window, OTHER_DST, entries)
    assert isinstance(flipped, RootProposal)
    assert flipped.releases == (_release(3),)


@pytest.mark.parametrize(
    "signed",
    [
        _release(6),  # another nonce of the window
        _release(99),  # a nonce outside the window
        _release(5, src=SRC + 1),  # the same nonce of another source chain
    ],
)
def test_a_release_signed_for_another_nonce_is_an_error(signed: Release) -> None:
    window = Window(SRC, 5, 6)
    entries = [Entry(5, DST, final=True, signed=signed), Entry(6, DST, final=True, settled=True)]
    with pytest.raises(ValueError, match="the release signed for nonce 5 is not that nonce's"):
        propose_root(window, DST, entries)


# --------------------------------------------------------------------- multiproof


@given(scenarios().filter(_with_a_signature), st.data())
def test_multiproof_verifies_to_the_root_in_leaf_order(scenario: Scenario, data: Any) -> None:
    proposal = propose_root(scenario.window, DST, scenario.entries)
    assert isinstance(proposal, RootProposal)
    leaves = list(proposal.releases)
    for i, release in enumerate(leaves):
        assert proposal.leaf_index(release.transfer_id) == i
    chosen = data.draw(st.lists(st.sampled_from(leaves), min_size=1, unique=True), label="chosen")
    ids = data.draw(st.permutations([r.transfer_id for r in chosen]), label="ids")
    releases, proof = proposal.multiproof(ids)
    assert process_multiproof(proof) == proposal.root
    assert proof.leaves == tuple(release_struct_hash(r) for r in releases)
    assert releases == tuple(sorted(chosen, key=leaves.index))  # ascending leaf index


@given(scenarios().filter(_with_a_signature))
def test_a_transfer_that_is_no_leaf_has_no_proof(scenario: Scenario) -> None:
    proposal = propose_root(scenario.window, DST, scenario.entries)
    assert isinstance(proposal, RootProposal)
    leaf_ids = {r.transfer_id for r in proposal.releases}
    outsiders = [
        e.signed.transfer_id
        for e in scenario.entries
        if e.signed is not None and e.signed.transfer_id not in leaf_ids
    ]
    stranger = Hash32(keccak(b"not a leaf"))
    for tid in [*outsiders, stranger]:
        assert proposal.leaf_index(tid) is None
        with pytest.raises(ValueError, match=f"0x{tid.hex()} is not a leaf of this root"):
            proposal.multiproof([proposal.releases[0].transfer_id, tid])


def test_multiproof_refuses_a_repeated_or_empty_selection() -> None:
    window = Window(SRC, 1, 3)
    entries = [Entry(n, DST, final=True, signed=_release(n)) for n in (1, 2, 3)]
    proposal = propose_root(window, DST, entries)
    assert isinstance(proposal, RootProposal)
    tid = proposal.releases[1].transfer_id
    with pytest.raises(MerkleError, match="same leaf twice"):
        proposal.multiproof([tid, tid])
    with pytest.raises(MerkleError, match="at least one leaf"):
        proposal.multiproof([])
    releases, proof = proposal.multiproof([proposal.releases[2].transfer_id, tid])
    assert releases == (proposal.releases[1], proposal.releases[2])
    assert process_multiproof(proof) == proposal.root
