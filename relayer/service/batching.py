"""How the submitter packs due releases into batch transactions (pure: sizes only).

A round's due releases for one destination are cut into batches of at most
``max_releases`` (``chunks``). A batch whose gas estimate is above the budget is cut again
in proportion (``split_for_budget``); one that reverts as a whole is halved
(``halves``), down to single releases, so one bad item can hold up only itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

BUDGET_HEADROOM = 0.9  # a proportional cut aims this far under the budget


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """``[pipeline]`` batch settings (see relayer.settings.PipelineSettings)."""

    max_releases: int = 64
    gas_budget: int = 10_000_000
    linger_s: float = 0.2
    max_in_flight: int = 4  # transactions in flight at once per destination (own nonces)

    def __post_init__(self) -> None:
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {self.max_in_flight}")
        if self.max_releases < 1:
            raise ValueError(f"max_releases must be at least 1, got {self.max_releases}")
        if self.gas_budget <= 0:
            raise ValueError(f"gas_budget must be positive, got {self.gas_budget}")
        if self.linger_s < 0:
            raise ValueError(f"linger_s must not be negative, got {self.linger_s}")


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in order, cut into runs of at most ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def split_for_budget(items: Sequence[T], gas: int, budget: int) -> list[list[T]]:
    """A batch of ``items`` estimated at ``gas`` (> ``budget``), cut into runs that each
    should fit: the size is scaled by budget / gas with headroom, and always shrinks."""
    if gas <= 0 or budget <= 0:
        raise ValueError(f"gas and budget must be positive, got {gas} and {budget}")
    n = len(items)
    size = int(n * budget * BUDGET_HEADROOM / gas)
    return chunks(items, max(1, min(size, n - 1)) if n > 1 else 1)


def halves(items: Sequence[T]) -> list[list[T]]:
    """``items`` cut in two (the first half the larger); one item stays one."""
    if len(items) <= 1:
        return [list(items)]
    middle = (len(items) + 1) // 2
    return [list(items[:middle]), list(items[middle:])]
