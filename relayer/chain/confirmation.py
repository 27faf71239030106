"""The confirmed head of a chain, by a configured rule, and its anomalies.

A rule is a string setting: ``finalized`` (real networks), ``safe`` (Conflux's PoW
confirmation; anvil: latest-32) or ``depth:N`` (latest minus N blocks; the devnets).
``ConfirmedHeadTracker`` polls it and never silently accepts a confirmed head that
went backwards: it returns a typed ``HeadRegressed`` outcome instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from relayer.chain.rpc import RpcClient
from relayer.chain.rpc_types import BlockRef
from relayer.errors import ConfigError, RpcResponseError

RuleKind = Literal["finalized", "safe", "depth"]
_DEPTH = re.compile(r"depth:(\d{1,7})")


@dataclass(frozen=True, slots=True)
class ConfirmationRule:
    """How a chain's confirmed head is found."""

    kind: RuleKind
    depth: int = 0

    @classmethod
    def parse(cls, text: str) -> ConfirmationRule:
        """``"finalized"``, ``"safe"`` or ``"depth:N"`` (N >= 0); ``ConfigError`` otherwise."""
        value = text.strip().lower() if isinstance(text, str) else ""
        if value in ("finalized", "safe"):
            return cls(value)  # type: ignore[arg-type]
        match = _DEPTH.fullmatch(value)
        if match is None:
            raise ConfigError(
                f"confirmation rule must be 'finalized', 'safe' or 'depth:N', got {text!r}"
            )
        return cls("depth", int(match.group(1)))

    def __str__(self) -> str:
        return f"depth:{self.depth}" if self.kind == "depth" else self.kind


async def confirmed_head(rpc: RpcClient, rule: ConfirmationRule) -> BlockRef | None:
    """The newest block the rule confirms, or ``None`` if none is confirmed yet."""
    if rule.kind != "depth":
        block = await rpc.get_block(rule.kind)
        if block is None:
            raise RpcResponseError(f"node has no {rule.kind!r} block")
        return block
    number = await rpc.block_number() - rule.depth
    if number < 0:
        return None
    block = await rpc.get_block(number)
    if block is None:
        raise RpcResponseError(f"node reported head >= {number} but has no block {number}")
    return block


@dataclass(frozen=True, slots=True)
class HeadAdvanced:
    """The confirmed head moved forward (or is the first one seen)."""

    head: BlockRef


@dataclass(frozen=True, slots=True)
class HeadUnchanged:
    """Same confirmed head as last time (or still none)."""

    head: BlockRef | None


@dataclass(frozen=True, slots=True)
class HeadRegressed:
    """Anomaly: the confirmed head is lower than before, or another block at its height."""

    previous: BlockRef
    current: BlockRef | None


HeadUpdate = HeadAdvanced | HeadUnchanged | HeadRegressed


class ConfirmedHeadTracker:
    """Polls the confirmed head and classifies each observation."""

    def __init__(self, rpc: RpcClient, rule: ConfirmationRule) -> None:
        self.rpc = rpc
        self.rule = rule
        self.highest: BlockRef | None = None

    async def poll(self) -> HeadUpdate:
        """One observation; a regression is reported once, then the lower head is kept."""
        current = await confirmed_head(self.rpc, self.rule)
        previous = self.highest
        if previous is None:
            if current is None:
                return HeadUnchanged(None)
            self.highest = current
            return HeadAdvanced(current)
        if current is None or current.number < previous.number:
            self.highest = current
            return HeadRegressed(previous, current)
        if current.number == previous.number:
            if current.hash == previous.hash:
                return HeadUnchanged(current)
            self.highest = current  # same height, other block: a confirmed block changed
            return HeadRegressed(previous, current)
        self.highest = current
        return HeadAdvanced(current)
