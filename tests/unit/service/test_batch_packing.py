"""How due releases are packed into batches (relayer.service.batching): every release is
sent in exactly one part, in order, and every split makes progress."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayer.service.batching import BatchPolicy, chunks, halves, split_for_budget

items = st.lists(st.integers(), max_size=300)


def _flat(parts: list[list[int]]) -> list[int]:
    return [x for part in parts for x in part]


@given(items, st.integers(min_value=1, max_value=500))
def test_chunks_keep_every_item_once_in_order_and_respect_the_size(
    values: list[int], size: int
) -> None:
    parts = chunks(values, size)
    assert _flat(parts) == values
    assert all(1 <= len(part) <= size for part in parts)
    assert len(parts) == -(-len(values) // size)


@given(
    st.lists(st.integers(), min_size=2, max_size=300),
    st.integers(min_value=300_000, max_value=30_000_000),
    st.integers(min_value=1, max_value=10),
)
def test_a_batch_over_budget_is_cut_into_smaller_parts_that_keep_every_item(
    values: list[int], budget: int, over: int
) -> None:
    gas = budget + over * budget // 10 + 1  # above the budget
    parts = split_for_budget(values, gas, budget)
    assert _flat(parts) == values
    assert len(parts) >= 2, "a split must make progress"
    per_item = gas / len(values)
    assert all(len(p) == 1 or len(p) * per_item <= budget for p in parts)


@given(st.lists(st.integers(), max_size=300))
def test_halves_keep_every_item_and_shrink_until_single(values: list[int]) -> None:
    parts = halves(values)
    assert _flat(parts) == values
    if len(values) > 1:
        assert len(parts) == 2 and all(0 < len(p) < len(values) for p in parts)
        assert len(parts[0]) - len(parts[1]) in (0, 1)
    else:
        assert parts == [values]


@given(st.lists(st.integers(), min_size=1, max_size=200))
def test_halving_again_and_again_ends_in_single_releases(values: list[int]) -> None:
    todo, singles, rounds = [values], [], 0
    while todo:
        rounds += 1
        part = todo.pop(0)
        if len(part) == 1:
            singles.append(part[0])
        else:
            todo.extend(halves(part))
    assert sorted(singles) == sorted(values)
    assert rounds <= 2 * len(values)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"max_releases": 0}, "max_releases"),
        ({"gas_budget": 0}, "gas_budget"),
        ({"linger_s": -1.0}, "linger_s"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(kwargs: dict[str, float], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        BatchPolicy(**kwargs)  # type: ignore[arg-type]


def test_bad_split_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        chunks([1, 2], 0)
    with pytest.raises(ValueError, match="positive"):
        split_for_budget([1, 2], 0, 100)
