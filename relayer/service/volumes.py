"""Volumes per token per UTC day against the limits in force (pure; time is an input).

The volumes are this validator's approvals counted against its pack's rolling limits
(``policy_spends``), so they are what its jurisdiction's limits bind. Each token shows
its limits (the pack's and the operator's local maximum per transfer), the sum approved
in the rolling 24 hours at ``now`` (as ``relayer.domain.limits`` counts it) and one row
per day of the last ``days`` UTC days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from relayer.domain.limits import window_start
from relayer.domain.packs import PolicyPack, TokenRules
from relayer.domain.types import checksum, hex32
from relayer.store.supervision_records import SpendRow

DAY_S = 86_400


def first_day(now: int, days: int) -> int:
    """Unix seconds of the start of the oldest UTC day shown."""
    return (now // DAY_S - (days - 1)) * DAY_S


def _share(amount: int, limit: int | None) -> float | None:
    return None if limit is None or limit == 0 else round(amount / limit, 6)


def _opt(value: int | None) -> str | None:
    return None if value is None else str(value)


def _limits(rules: TokenRules | None, local_max: int | None) -> dict[str, Any]:
    return {
        "max_per_transfer": None if rules is None else str(rules.max_per_transfer),
        "max_per_sender_24h": None if rules is None else _opt(rules.max_per_sender_24h),
        "max_total_24h": None if rules is None else _opt(rules.max_total_24h),
        "review_above": None if rules is None else _opt(rules.review_above),
        "local_max_per_transfer": _opt(local_max),
    }


def daily_volumes(
    spends: Iterable[SpendRow],
    pack: PolicyPack | None,
    local_limits: Mapping[tuple[int, bytes], int],
    now: int,
    days: int,
) -> list[dict[str, Any]]:
    """One entry per token (the pack's tokens and any with spends), sorted by chain, token."""
    start = first_day(now, days)
    rolling_from = window_start(now)
    by_token: dict[tuple[int, bytes], list[SpendRow]] = {}
    for spend in spends:
        by_token.setdefault((spend.src_chain_id, bytes(spend.token)), []).append(spend)
    rules_of: dict[tuple[int, bytes], TokenRules] = (
        {} if pack is None else {(c, bytes(t)): r for (c, t), r in pack.tokens.items()}
    )
    out = []
    for key in sorted(set(by_token) | set(rules_of)):
        chain_id, token = key
        rows = by_token.get(key, [])
        rules = rules_of.get(key)
        total_limit = None if rules is None else rules.max_total_24h
        rolling = sum(s.amount for s in rows if s.at > rolling_from)
        per_day: dict[int, list[SpendRow]] = {}
        for s in rows:
            if s.at >= start:
                per_day.setdefault(s.at // DAY_S, []).append(s)
        day_rows = []
        for index in range(start // DAY_S, now // DAY_S + 1):
            listed = per_day.get(index, [])
            amount = sum(s.amount for s in listed)
            day = datetime.fromtimestamp(index * DAY_S, UTC).date()
            day_rows.append(
                {
                    "day": day.isoformat(),
                    "approved": str(amount),
                    "transfers": len(listed),
                    "share_of_max_total_24h": _share(amount, total_limit),
                }
            )
        out.append(
            {
                "chain_id": chain_id,
                "token": checksum(token),
                "symbol": None if rules is None else rules.symbol,
                "in_pack": rules is not None,
                "limits": _limits(rules, local_limits.get(key)),
                "rolling_24h": str(rolling),
                "rolling_24h_share": _share(rolling, total_limit),
                "packs": sorted({hex32(s.pack_hash) for s in rows}),
                "days": day_rows,
            }
        )
    return out


def since_for(now: int, days: int) -> int:
    """The earliest spend either view needs: the first day shown or the rolling window."""
    return min(first_day(now, days), window_start(now) + 1)


def utc_iso(seconds: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).isoformat()
