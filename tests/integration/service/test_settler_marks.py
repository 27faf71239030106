"""The settler applying what the destination did, on a real (SQLite) store: the outcomes of
one window of logs in one writing transaction, unknown or settled transfers left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lone_validator import CFX, VAULT, CountingStore, lone_event, lone_processor

from relayer.api.metrics import Metrics
from relayer.domain.transfer import (
    CancelledOnDestination,
    DelayedOnDestination,
    ReleaseConfirmed,
)
from relayer.domain.types import Direction, Hash32
from relayer.service.processor import Processor
from relayer.service.settle import Settler
from relayer.store import TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def settled(tmp_path: Path) -> AsyncIterator[tuple[CountingStore, Processor, Settler]]:
    store = await CountingStore.open(
        f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True
    )
    metrics = Metrics()
    processor = lone_processor(store, metrics)  # alone: our signature is the quorum
    settler = Settler(
        processor, {}, metrics, poll_interval_s=0.1, sweep_interval_s=60, max_window={}, heads={}
    )
    try:
        yield store, processor, settler
    finally:
        await store.close()


async def test_one_window_of_outcomes_is_one_transaction(
    settled: tuple[CountingStore, Processor, Settler],
) -> None:
    store, processor, settler = settled
    events = [lone_event(8 * 10**6 + n) for n in range(1, 6)]
    async with store.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, events, 1000)
    await processor.sweep()
    tids = [e.transfer_id for e in events]
    executed = Hash32(b"\xee" * 32)
    outcomes = [
        ReleaseConfirmed(tids[0], executed),
        ReleaseConfirmed(tids[1], executed),
        DelayedOnDestination(tids[2], 2_000_000_000),
        CancelledOnDestination(tids[3]),
        ReleaseConfirmed(Hash32(b"\x01" * 32), executed),  # not ours: left alone
        ReleaseConfirmed(tids[0], executed),  # seen twice: settled already
    ]
    dst = events[0].dst_chain_id
    # a cancel logged on another chain (signed there, under its domain) is not this
    # transfer's: it stays where it is, and nothing is refunded
    assert await settler.mark_all([CancelledOnDestination(tids[4])], dst + 1) == 0
    writes = store.writes
    assert await settler.mark_all(outcomes, dst) == 4
    assert store.writes == writes + 1
    async with store.reader() as tx:
        statuses = [(await tx.get_transfer(t)) for t in tids]
    assert [r.status if r else None for r in statuses] == [
        TransferStatus.RELEASED,
        TransferStatus.RELEASED,
        TransferStatus.DELAYED,
        TransferStatus.CANCELLED,
        TransferStatus.QUORUM,
    ]
    assert statuses[0] is not None and statuses[0].release_tx_hash == executed
    assert await settler.mark_all([DelayedOnDestination(tids[2], 2_000_000_000)], dst) == 0
    assert await settler.mark_all([], dst) == 0
    assert store.writes == writes + 2  # the repeated delay: read, nothing changed
