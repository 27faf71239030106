"""The confirmed head of a chain, by a configured rule, and its anomalies.

A rule is a string setting: ``finalized`` (real networks), ``safe`` (Conflux's PoW
confirmation; anvil: latest-32) or ``depth:N`` (latest minus N blocks; the devnets).
``SharedHead`` reads it for every reader of one chain (the watcher and the settler poll it
at the same pace): a read younger than ``max_age_s`` is shared, and readers that arrive
while a read is in flight wait for it and then share one read between them (never a head
read before they asked), instead of each asking the node. With a ``HeadFeed`` (pushed new
heads) the depth rule counts from the pushed head once the HTTP node holds it.
``ConfirmedHeadTracker`` polls it and never silently accepts a confirmed head that
went backwards: it returns a typed ``HeadRegressed`` outcome instead.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Literal

from relayer.chain.heads import HeadFeed
from relayer.chain.reader import ChainReader
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


async def confirmed_head(
    rpc: ChainReader, rule: ConfirmationRule, pushed: BlockRef | None = None
) -> BlockRef | None:
    """The newest block the rule confirms, or ``None`` if none is confirmed yet.

    ``pushed`` is the newest head a ``HeadFeed`` pushed: the depth rule counts from it,
    instead of asking ``eth_blockNumber``, once the HTTP node holds that very block (so the
    depth is never less than the HTTP node's own); otherwise it asks the HTTP node."""
    if rule.kind != "depth":
        block = await rpc.get_block(rule.kind)
        if block is None:
            raise RpcResponseError(f"node has no {rule.kind!r} block")
        return block
    if pushed is not None and pushed.number - rule.depth >= 0:
        tip = await rpc.get_block(pushed.number)
        if tip is not None and tip.hash == pushed.hash:
            block = tip if rule.depth == 0 else await rpc.get_block(pushed.number - rule.depth)
            if block is not None:
                return block
    number = await rpc.block_number() - rule.depth
    if number < 0:
        return None
    block = await rpc.get_block(number)
    if block is None:
        raise RpcResponseError(f"node reported head >= {number} but has no block {number}")
    return block


class SharedHead:
    """One chain's confirmed head, read once for all its readers; see the module docstring.

    With ``max_age_s`` 0 a reader always gets a head read after it asked; the readers that
    queued behind one read share the next."""

    def __init__(
        self,
        rpc: ChainReader,
        rule: ConfirmationRule,
        max_age_s: float = 0.0,
        feed: HeadFeed | None = None,
    ) -> None:
        if max_age_s < 0:
            raise ValueError("max_age_s must not be negative")
        self.rpc = rpc
        self.rule = rule
        self.max_age_s = max_age_s
        self.feed = feed  # pushed heads: the newest number, and when to look again
        self.reads = 0  # reads that went to the node
        self._head: BlockRef | None = None
        self._read_at: float | None = None  # when the read that produced _head started
        self._pushed_at_read = 0  # the feed's head count when that read started
        self._lock = asyncio.Lock()

    async def read(self) -> BlockRef | None:
        """The confirmed head, as read by the node at most ``max_age_s`` ago with no newer
        head pushed since (or by a read that started after this call arrived)."""
        arrived = time.monotonic()
        if self._fresh(arrived, arrived):
            return self._head
        async with self._lock:
            if self._fresh(arrived, time.monotonic()):
                return self._head
            started = time.monotonic()
            pushed = self._pushed()
            latest = None if self.feed is None else self.feed.latest_head()
            head = await confirmed_head(self.rpc, self.rule, latest)
            self._pushed_at_read = pushed
            self.reads += 1
            self._head, self._read_at = head, started
            return head

    def _fresh(self, arrived: float, now: float) -> bool:
        at = self._read_at
        if at is None:
            return False
        if at >= arrived:
            return True
        return now - at < self.max_age_s and self._pushed() == self._pushed_at_read

    def _pushed(self) -> int:
        """Heads the feed has pushed so far: a read older than the newest is not shared."""
        return 0 if self.feed is None else self.feed.heads


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
    """Polls the confirmed head (through ``head``) and classifies each observation."""

    def __init__(self, head: SharedHead) -> None:
        self.head = head
        self.highest: BlockRef | None = None

    async def poll(self) -> HeadUpdate:
        """One observation; a regression is reported once, then the lower head is kept."""
        current = await self.head.read()
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
