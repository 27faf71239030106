"""The exact integer and UTC timestamp column types, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from relayer.domain.types import UINT256_MAX
from relayer.store.coltypes import UINT64_DIGITS, Uint, UtcDateTime

SQLITE = sqlite.dialect()
PG = postgresql.dialect()


@given(st.integers(min_value=0, max_value=UINT256_MAX))
def test_uint_round_trips_exactly_on_both_dialects(value: int) -> None:
    column = Uint()
    for dialect in (SQLITE, PG):
        stored = column.process_bind_param(value, dialect)
        assert column.process_result_value(stored, dialect) == value


@given(st.integers(0, UINT256_MAX), st.integers(0, UINT256_MAX))
def test_uint_sqlite_text_order_is_numeric_order(a: int, b: int) -> None:
    column = Uint()
    text_a = column.process_bind_param(a, SQLITE)
    text_b = column.process_bind_param(b, SQLITE)
    assert (text_a < text_b) == (a < b)


def test_uint_max_value_is_78_digits() -> None:
    assert Uint().process_bind_param(UINT256_MAX, SQLITE) == str(2**256 - 1)


@pytest.mark.parametrize("bad", [-1, 10**78])
def test_uint_out_of_range_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        Uint().process_bind_param(bad, PG)


def test_uint64_refuses_wider_values() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        Uint(UINT64_DIGITS).process_bind_param(10**UINT64_DIGITS, SQLITE)


@pytest.mark.parametrize("bad", [1.0, "1", True])
def test_uint_refuses_non_int(bad: object) -> None:
    with pytest.raises(TypeError):
        Uint().process_bind_param(bad, SQLITE)  # type: ignore[arg-type]


def test_utc_datetime_refuses_naive_and_normalizes_zone() -> None:
    column = UtcDateTime()
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2025, 1, 1), SQLITE)
    plus_two = datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    bound = column.process_bind_param(plus_two, PG)
    assert bound == plus_two
    assert bound is not None
    assert bound.tzinfo == UTC


def test_utc_datetime_reads_naive_sqlite_values_as_utc() -> None:
    value = UtcDateTime().process_result_value(datetime(2025, 1, 1, 12), SQLITE)
    assert value == datetime(2025, 1, 1, 12, tzinfo=UTC)
