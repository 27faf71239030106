"""EIP-1559 fee choice under a hard cap, and replacement bumps. Pure except ``current_fees``
(and its helper ``_tip``), the only I/O here.

``maxFeePerGas = min(cap, 2 * baseFee + tip)``. If even ``baseFee + tip`` exceeds the
cap, the answer is ``FeeAboveCap``: the relayer waits rather than overpays. A
replacement raises both fees by at least 12.5% (nodes demand 10% to 12.5%), still
never above the cap.

Where the tip comes from is decided by ``tip_source`` alone, and it never sends
``eth_maxPriorityFeePerGas`` or ``eth_feeHistory`` (``NEVER_ON_CONFLUX``) to a Conflux
chain: conflux-rust's dev node (3.0.2) stops answering every RPC, in both spaces, after a
few dozen of those calls. On Conflux an unconfigured tip is ``eth_gasPrice`` minus the
latest block's base fee instead (``tip_from_gas_price``).
"""

from __future__ import annotations

from dataclasses import dataclass

from relayer.chain.kind import ChainKind
from relayer.chain.rpc import RpcClient
from relayer.domain.types import Hash32

BUMP_NUMERATOR = 1125  # +12.5%
BUMP_DENOMINATOR = 1000


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """Fee settings for one chain, in wei per gas."""

    max_fee_cap: int
    tip: int | None = None  # None: asked of the node (see ``tip_source``), capped at tip_cap
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


NEVER_ON_CONFLUX = frozenset({"eth_maxPriorityFeePerGas", "eth_feeHistory"})
"""Fee RPCs that hang conflux-rust: never sent to a Conflux chain."""


@dataclass(frozen=True, slots=True)
class ConfiguredTip:
    """The tip set in the settings, used as is: no RPC."""

    tip: int


@dataclass(frozen=True, slots=True)
class TipFromGasPrice:
    """``eth_gasPrice`` minus the latest block's base fee, floored at 0, capped at ``cap``."""

    cap: int


@dataclass(frozen=True, slots=True)
class TipFromNode:
    """The node's ``eth_maxPriorityFeePerGas``, capped at ``cap``. Never on Conflux."""

    cap: int


TipSource = ConfiguredTip | TipFromGasPrice | TipFromNode


def tip_source(kind: ChainKind, policy: FeePolicy) -> TipSource:
    """Where the tip of a transaction on a ``kind`` chain comes from under ``policy``.

    The one place that decides which fee RPCs a chain is asked: a configured tip needs
    none; otherwise Conflux gets ``eth_gasPrice`` (``TipFromGasPrice``) and only an
    Ethereum chain gets ``eth_maxPriorityFeePerGas`` (``TipFromNode``).
    """
    if policy.tip is not None:
        return ConfiguredTip(policy.tip)
    if kind is ChainKind.CONFLUX:
        return TipFromGasPrice(policy.tip_cap)
    return TipFromNode(policy.tip_cap)


def tip_from_gas_price(gas_price: int, base_fee: int, cap: int) -> int:
    """The tip a legacy gas price implies over ``base_fee``: ``0 <= tip <= cap``."""
    return min(max(gas_price - base_fee, 0), cap)


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


async def current_fees(rpc: RpcClient, policy: FeePolicy, kind: ChainKind) -> Fees | FeeAboveCap:
    """Fees for a transaction sent now on a ``kind`` chain, from the latest block's base
    fee and the tip ``tip_source`` names."""
    base_fee = await rpc.base_fee()
    tip = await _tip(rpc, tip_source(kind, policy), base_fee)
    return choose_fees(base_fee, tip, policy.max_fee_cap)


async def _tip(rpc: RpcClient, source: TipSource, base_fee: int) -> int:
    match source:
        case ConfiguredTip(tip=tip):
            return tip
        case TipFromGasPrice(cap=cap):
            return tip_from_gas_price(await rpc.gas_price(), base_fee, cap)
        case TipFromNode(cap=cap):
            return min(await rpc.max_priority_fee(), cap)
