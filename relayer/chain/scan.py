"""What the watcher hands to its sink, the sink protocol, and an in-memory sink.

The node implements ``ScanSink`` on its store: ``on_batch`` stores the batch's events
and its new cursor in ONE database transaction; ``on_reorg`` marks events in the
orphaned range and stores ``reorg.resume`` as the cursor (also one transaction), and
raises ``SafetyHaltError`` if an orphaned event was already signed.
``recent_checkpoints`` returns the (block number, hash) of recently scanned blocks,
newest first: every batch's ``cursor.last`` is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from relayer.chain.confirmation import HeadRegressed
from relayer.domain.types import Hash32, SourceEvent


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A scanned block: its number and the hash it had when scanned."""

    number: int
    hash: Hash32


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where scanning resumes: ``next_block``, and the last scanned block (if any)."""

    next_block: int
    last: Checkpoint | None


@dataclass(frozen=True, slots=True)
class ScanBatch:
    """The confirmed events of blocks ``[from_block, to_block]`` and the cursor after them."""

    from_block: int
    to_block: int
    events: tuple[SourceEvent, ...]
    cursor: Cursor
    rejected_logs: int = 0


@dataclass(frozen=True, slots=True)
class Reorg:
    """Scanned blocks were replaced: rescan from ``resume.next_block``.

    ``fork_point`` is the newest stored checkpoint still on the chain (a lower bound:
    the real fork may be above it; ``None`` if no stored checkpoint survived, then the
    scan restarts at the start block), ``orphaned`` the inclusive range of scanned
    blocks whose events may be gone, ``depth`` its length.
    """

    fork_point: Checkpoint | None
    orphaned: tuple[int, int]
    depth: int
    stale: Checkpoint  # the last scanned block as stored
    replaced_by: Hash32 | None  # its hash on the chain now (None: the chain got shorter)
    resume: Cursor


class ScanSink(Protocol):
    """Durable storage for the watcher; see the module docstring."""

    async def load_cursor(self) -> Cursor | None:
        """The stored cursor, or ``None`` before the first batch."""
        ...

    async def recent_checkpoints(self, limit: int) -> Sequence[Checkpoint]:
        """Up to ``limit`` stored checkpoints, newest first."""
        ...

    async def on_batch(self, batch: ScanBatch) -> None:
        """Store the events and ``batch.cursor`` in one transaction."""
        ...

    async def on_reorg(self, reorg: Reorg) -> None:
        """Orphan events in ``reorg.orphaned``, store ``reorg.resume``; may halt."""
        ...

    async def on_anomaly(self, anomaly: HeadRegressed) -> None:
        """Record that the confirmed head went backwards (alert the operator)."""
        ...


@dataclass
class InMemorySink:
    """A ``ScanSink`` for tests and tools: keeps everything in lists."""

    cursor: Cursor | None = None
    checkpoints: list[Checkpoint] = field(default_factory=list)
    events: list[SourceEvent] = field(default_factory=list)
    batches: list[ScanBatch] = field(default_factory=list)
    reorgs: list[Reorg] = field(default_factory=list)
    anomalies: list[HeadRegressed] = field(default_factory=list)
    orphaned: list[SourceEvent] = field(default_factory=list)

    async def load_cursor(self) -> Cursor | None:
        """The stored cursor."""
        return self.cursor

    async def recent_checkpoints(self, limit: int) -> Sequence[Checkpoint]:
        """Newest first."""
        return list(reversed(self.checkpoints))[:limit]

    async def on_batch(self, batch: ScanBatch) -> None:
        """Append events, move the cursor."""
        self.batches.append(batch)
        self.events.extend(batch.events)
        self.cursor = batch.cursor
        if batch.cursor.last is not None:
            self.checkpoints.append(batch.cursor.last)

    async def on_reorg(self, reorg: Reorg) -> None:
        """Drop events and checkpoints above the fork point; rewind the cursor."""
        self.reorgs.append(reorg)
        low = reorg.orphaned[0]
        self.orphaned.extend(e for e in self.events if e.block_number >= low)
        self.events = [e for e in self.events if e.block_number < low]
        self.checkpoints = [c for c in self.checkpoints if c.number < low]
        self.cursor = reorg.resume

    async def on_anomaly(self, anomaly: HeadRegressed) -> None:
        """Remember it."""
        self.anomalies.append(anomaly)
