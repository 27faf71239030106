"""The supervisor API's query parameters, parsed strictly (pure).

Every endpoint names the parameters it takes; an unknown one, a malformed value or a
value out of range is refused with a ``QueryError`` naming the parameter (answered 400).

* ``jurisdiction``: one or more ISO 3166-1 alpha-2 codes, comma-separated (``HK,SG``);
* ``state``: one or more transfer states, comma-separated (see ``STATES``);
* ``from`` / ``to``: a day (``2026-12-07``, UTC; ``to`` includes the whole day) or a time
  with its offset (``2026-12-07T10:00:00+00:00``); ``from`` must not be after ``to``;
* ``limit``: 1 to ``MAX_LIMIT`` (default ``DEFAULT_LIMIT``);
* ``days``: for volumes, 1 to ``MAX_DAYS`` (default 7).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# Every state a transfer's life can be in; ``vetoed`` and ``refunded`` included, whether or
# not this relayer's lifecycle writes them yet (a filter on them then finds nothing).
STATES = (
    "observed",
    "confirmed",
    "review",
    "refused",
    "attested",
    "quorum",
    "submitted",
    "delayed",
    "released",
    "vetoed",
    "cancelled",
    "refunded",
    "orphaned",
)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_DAYS = 31
_CODE = re.compile(r"^[A-Z]{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class QueryError(ValueError):
    """A query parameter that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Window:
    """``since <= t < until``; either bound may be open."""

    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a list endpoint was asked for."""

    jurisdictions: tuple[str, ...] | None
    states: tuple[str, ...] | None
    window: Window
    limit: int


def _only(query: Mapping[str, str], allowed: set[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise QueryError(
            f"unknown parameter {unknown[0]!r} (this endpoint takes {', '.join(sorted(allowed))})"
        )


def _list(value: str, name: str) -> tuple[str, ...]:
    items = tuple(v.strip() for v in value.split(","))
    if not value.strip() or any(not v for v in items):
        raise QueryError(f"{name}: empty value in {value!r}")
    if len(items) > 20:
        raise QueryError(f"{name}: at most 20 values")
    return items


def parse_jurisdictions(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    codes = _list(value, "jurisdiction")
    for code in codes:
        if not _CODE.match(code):
            raise QueryError(f"jurisdiction: {code!r} is not two upper-case letters (e.g. HK)")
    return codes


def parse_states(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    states = _list(value, "state")
    for state in states:
        if state not in STATES:
            raise QueryError(f"state: unknown state {state!r} (one of {', '.join(STATES)})")
    return states


def parse_time(value: str, name: str, *, end_of_day: bool = False) -> datetime:
    """A day (UTC; with ``end_of_day`` the start of the next day) or an aware time."""
    try:
        if _DAY.match(value):
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise QueryError(
            f"{name}: {value!r} is not a date (YYYY-MM-DD) or a time with offset"
        ) from err
    if moment.tzinfo is None:
        raise QueryError(f"{name}: {value!r} has no UTC offset (add +00:00 or Z)")
    return moment.astimezone(UTC)


def parse_window(query: Mapping[str, str]) -> Window:
    since = None if "from" not in query else parse_time(query["from"], "from")
    until = None if "to" not in query else parse_time(query["to"], "to", end_of_day=True)
    if since is not None and until is not None and since >= until:
        raise QueryError(f"from {query['from']} is after to {query['to']}")
    return Window(since, until)


def parse_int(value: str | None, name: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", value.strip()):
        raise QueryError(f"{name}: {value!r} is not a whole number")
    number = int(value)
    if not low <= number <= high:
        raise QueryError(f"{name}: {number} is out of range {low}..{high}")
    return number


def parse_list_query(query: Mapping[str, str], *, states: bool = True) -> ListQuery:
    """The parameters of a list endpoint (``states=False``: it takes no ``state``)."""
    allowed = {"jurisdiction", "from", "to", "limit"} | ({"state"} if states else set())
    _only(query, allowed)
    return ListQuery(
        jurisdictions=parse_jurisdictions(query.get("jurisdiction")),
        states=parse_states(query.get("state")) if states else None,
        window=parse_window(query),
        limit=parse_int(query.get("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT),
    )


def parse_days(query: Mapping[str, str]) -> int:
    """``days`` of the volumes endpoint (its only parameter)."""
    _only(query, {"days"})
    return parse_int(query.get("days"), "days", 1, MAX_DAYS, 7)


def parse_limit(query: Mapping[str, str]) -> int:
    """``limit`` of an endpoint that takes nothing else."""
    _only(query, {"limit"})
    return parse_int(query.get("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)


def parse_no_params(query: Mapping[str, str]) -> None:
    """An endpoint that takes no parameter."""
    if query:
        raise QueryError(f"unknown parameter {sorted(query)[0]!r} (this endpoint takes none)")


def parse_transfer_id(value: str) -> bytes:
    """A 0x-prefixed 32-byte transfer id."""
    key = value.lower()
    if not re.fullmatch(r"0x[0-9a-f]{64}", key):
        raise QueryError(f"transfer id {value!r} is not 0x and 64 hex digits")
    return bytes.fromhex(key[2:])
