"""EIP-1559 fee choice under a hard cap, and replacement bumps. Pure except ``current_fees``.

``maxFeePerGas = min(cap, 2 * baseFee + tip)``. If even ``baseFee + tip`` exceeds the
cap, the answer is ``FeeAboveCap``: the relayer waits rather than overpays. A
replacement raises both fees by at least 12.5% (nodes demand 10% to 12.5%), still
never above the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from relayer.chain.rpc import RpcClient
from relayer.domain.types import Hash32

BUMP_NUMERATOR = 1125  # +12.5%
BUMP_DENOMINATOR = 1000


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """Fee settings for one chain, in wei per gas."""

    max_fee_cap: int
    tip: int | None = None  # None: the node's eth_maxPriorityFeePerGas, capped at tip_cap
    tip_cap: int = 2 * 10**9

    def __post_init__(self) -> None:
        if self.max_fee_cap <= 0 or self.tip_cap < 0 or (self.tip is not None and self.tip < 0):
            raise ValueError("fee cap must be positive, tips non-negative")


@dataclass(frozen=True, slots=True)
class Fees:
    """The two EIP-1559 fee fields of a transaction."""

    max_fee: int
    max_priority_fee: int


@dataclass(frozen=True, slots=True)
class FeeAboveCap:
    """The fee needed now exceeds the cap: wait, do not overpay.

    ``pending_tx`` is a transaction already sent for this release, if any (it may
    still mine at its lower fee).
    """

    required: int
    cap: int
    pending_tx: Hash32 | None = None


def choose_fees(base_fee: int, tip: int, cap: int) -> Fees | FeeAboveCap:
    """Fees for a new transaction, or ``FeeAboveCap`` if ``base_fee + tip > cap``."""
    required = base_fee + tip
    if required > cap:
        return FeeAboveCap(required, cap)
    return Fees(max_fee=min(cap, 2 * base_fee + tip), max_priority_fee=tip)


def _bumped(value: int) -> int:
    return -(-value * BUMP_NUMERATOR // BUMP_DENOMINATOR)  # ceiling


def bump_fees(previous: Fees, fresh: Fees | FeeAboveCap, cap: int) -> Fees | FeeAboveCap:
    """Replacement fees: >= 12.5% above ``previous`` and >= today's ``fresh`` fees, <= cap."""
    tip = max(_bumped(previous.max_priority_fee), 1)
    max_fee = _bumped(previous.max_fee)
    if isinstance(fresh, Fees):
        tip = max(tip, fresh.max_priority_fee)
        max_fee = max(max_fee, fresh.max_fee)
    if isinstance(fresh, FeeAboveCap):
        return FeeAboveCap(fresh.required, cap)
    if max_fee > cap or tip > max_fee:
        return FeeAboveCap(max(max_fee, tip), cap)
    return Fees(max_fee=max_fee, max_priority_fee=tip)


async def current_fees(rpc: RpcClient, policy: FeePolicy) -> Fees | FeeAboveCap:
    """Fees for a transaction sent now, from the next block's base fee."""
    base_fee = await rpc.base_fee()
    tip = (
        policy.tip if policy.tip is not None else min(await rpc.max_priority_fee(), policy.tip_cap)
    )
    return choose_fees(base_fee, tip, policy.max_fee_cap)
