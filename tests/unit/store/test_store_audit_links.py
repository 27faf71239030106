"""The audit hashing rule, without a database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from relayer.store.audit import GENESIS_HASH, canonical_json, link_hash, verify_links
from relayer.store.outcomes import AuditChainBroken, AuditChainIntact
from relayer.store.records import AuditEntry

T0 = datetime(2025, 1, 1, tzinfo=UTC)

details = st.dictionaries(
    st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.none()), max_size=4
)


def _chain(items: list[tuple[str, dict[str, object]]]) -> list[AuditEntry]:
    entries, prev = [], GENESIS_HASH
    for seq, (event, detail) in enumerate(items, start=1):
        at = T0 + timedelta(seconds=seq)
        digest = link_hash(prev, at, None, event, detail)
        entries.append(AuditEntry(seq, at, None, event, dict(detail), prev, digest))
        prev = digest
    return entries


def test_canonical_json_sorts_keys_and_is_compact() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()


@given(st.lists(st.tuples(st.text(min_size=1, max_size=8), details), min_size=1, max_size=8))
def test_verify_links_accepts_untouched_chains(items: list[tuple[str, dict[str, object]]]) -> None:
    verdict = verify_links(_chain(items))
    assert isinstance(verdict, AuditChainIntact)
    assert verdict.entries == len(items)


@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=8), details), min_size=2, max_size=8),
    st.data(),
)
def test_verify_links_detects_any_single_edit(
    items: list[tuple[str, dict[str, object]]], data: st.DataObject
) -> None:
    chain = _chain(items)
    victim = data.draw(st.integers(0, len(chain) - 1))
    edited = dataclasses.replace(chain[victim], event=chain[victim].event + "x")
    chain[victim] = edited
    assert verify_links(chain) == AuditChainBroken(
        edited.seq, "hash does not match the row's content"
    )


def test_verify_links_detects_swapped_rows() -> None:
    chain = _chain([("a", {}), ("b", {}), ("c", {})])
    chain[1], chain[2] = chain[2], chain[1]
    verdict = verify_links(chain)
    assert isinstance(verdict, AuditChainBroken)
    assert verdict.seq == chain[1].seq


def test_link_hash_same_instant_in_any_zone_is_equal() -> None:
    other_zone = T0.astimezone(ZoneInfo("Asia/Hong_Kong"))
    assert link_hash(GENESIS_HASH, T0, None, "e", {}) == link_hash(
        GENESIS_HASH, other_zone, None, "e", {}
    )
