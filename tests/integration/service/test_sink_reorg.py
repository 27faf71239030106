"""A reorg below the scan cursor, on a real (SQLite) store: every transfer above the fork
goes through the lifecycle rule (``Orphaned`` via ``domain.step``), nothing is flipped in
SQL behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lone_validator import CFX, TOKEN, VAULT, lone_event, lone_processor

from relayer.api.metrics import Metrics
from relayer.chain.scan import Checkpoint, Cursor, Reorg
from relayer.domain.types import Address, Direction, Hash32
from relayer.service.processor import Processor
from relayer.service.sink import StoreSink
from relayer.store import AlertKind, Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")
UNALLOWED = Address(b"\x0f" * 20)  # the policy refuses it


@pytest_asyncio.fixture(loop_scope="session")
async def processor(tmp_path: Path) -> AsyncIterator[Processor]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True)
    try:
        yield lone_processor(store, Metrics())  # alone: our signature is the quorum
    finally:
        await store.close()


async def _status(processor: Processor, transfer_id: Hash32) -> TransferStatus:
    async with processor.store.reader() as tx:
        rec = await tx.get_transfer(transfer_id)
    assert rec is not None
    return rec.status


async def test_a_reorg_orphans_unsigned_keeps_refusals_and_halts_for_signed(
    processor: Processor,
) -> None:
    kept = lone_event(6 * 10**6 + 1, TOKEN, 10)
    signed = lone_event(6 * 10**6 + 2, TOKEN, 12)
    refused = lone_event(6 * 10**6 + 3, UNALLOWED, 12)
    observed = lone_event(6 * 10**6 + 4, TOKEN, 13)
    sink = StoreSink(
        chain_id=CFX,
        contract=VAULT,
        direction=Direction.TO_ETHEREUM,
        store=processor.store,
        processor=processor,
        routes=processor.routes,
        metrics=processor.metrics,
    )
    async with processor.writer.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [kept, signed, refused], 13)
    await processor.sweep()  # signed (quorum: we are the set) or refused
    async with processor.writer.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [observed], 14)
    assert await _status(processor, signed.transfer_id) is TransferStatus.QUORUM
    assert await _status(processor, refused.transfer_id) is TransferStatus.REFUSED

    stale = Checkpoint(13, Hash32(b"\x13" * 32))
    fork = Checkpoint(11, Hash32(b"\x11" * 32))
    await sink.on_reorg(Reorg(fork, (12, 13), 2, stale, None, Cursor(12, fork)))

    assert await _status(processor, kept.transfer_id) is TransferStatus.QUORUM  # below it
    assert await _status(processor, observed.transfer_id) is TransferStatus.ORPHANED
    assert await _status(processor, refused.transfer_id) is TransferStatus.REFUSED
    assert await _status(processor, signed.transfer_id) is TransferStatus.QUORUM
    async with processor.store.reader() as tx:
        alerts = await tx.open_alerts()
        assert await tx.chain_halted(CFX)
    halts = [a for a in alerts if a.kind is AlertKind.HALT and a.chain_id == CFX]
    summary, *per_transfer = halts
    assert summary.detail["signed_transfers"] == ["0x" + signed.transfer_id.hex()]
    assert [a.detail["transfer_id"] for a in per_transfer] == ["0x" + signed.transfer_id.hex()]
