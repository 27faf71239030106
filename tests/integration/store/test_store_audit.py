"""The audit chain verifies, and detects edits, deletions and reordering."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update
from store_factories import CONFLUX, VAULT, make_event, rand_hash

from relayer.domain.types import Direction
from relayer.keys import signer_from_hex
from relayer.store import Store, TransferStatus
from relayer.store.audit_export import ExportFormat, ExportVerified, sign_export, verify_export
from relayer.store.models import AuditRow
from relayer.store.outcomes import AuditChainBroken, AuditChainIntact

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _history(store: Store, nonce: int) -> None:
    events = [make_event(nonce), make_event(nonce + 200_000)]
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, Direction.TO_ETHEREUM, events, 101)
        await tx.set_status(events[0].transfer_id, TransferStatus.CONFIRMED, "depth 12")
        await tx.append_audit("published", events[0].transfer_id, {"topic": "a/b", "n": 1})


async def _seqs(store: Store) -> list[int]:
    async with store.engine.connect() as conn:
        result = await conn.execute(select(AuditRow.seq).order_by(AuditRow.seq))
        return [r[0] for r in result.all()]


async def _verify(store: Store) -> object:
    async with store.transaction() as tx:
        return await tx.verify_audit_chain()


async def test_verify_audit_chain_intact(store: Store, nonce: int) -> None:
    await _history(store, nonce)
    verdict = await _verify(store)
    assert isinstance(verdict, AuditChainIntact)
    assert verdict.entries == 4
    async with store.transaction() as tx:
        entries = await tx.audit_entries()
    assert [e.event for e in entries] == ["observed", "observed", "status", "published"]


async def test_verify_audit_chain_detects_edited_detail(store: Store, nonce: int) -> None:
    await _history(store, nonce)
    seqs = await _seqs(store)
    async with store.engine.begin() as conn:
        await conn.execute(
            update(AuditRow).where(AuditRow.seq == seqs[2]).values(detail={"to": "released"})
        )
    assert await _verify(store) == AuditChainBroken(
        seqs[2], "hash does not match the row's content"
    )


async def test_verify_audit_chain_detects_deleted_row(store: Store, nonce: int) -> None:
    await _history(store, nonce)
    seqs = await _seqs(store)
    async with store.engine.begin() as conn:
        await conn.execute(delete(AuditRow).where(AuditRow.seq == seqs[1]))
    verdict = await _verify(store)
    assert isinstance(verdict, AuditChainBroken)
    assert verdict.seq == seqs[2]


async def test_verify_audit_chain_detects_rehashed_row(store: Store, nonce: int) -> None:
    """Rewriting one row's hash to match its edit still breaks the next link."""
    await _history(store, nonce)
    seqs = await _seqs(store)
    async with store.engine.begin() as conn:
        await conn.execute(update(AuditRow).where(AuditRow.seq == seqs[0]).values(hash=rand_hash()))
    verdict = await _verify(store)
    assert isinstance(verdict, AuditChainBroken)
    assert verdict.seq == seqs[0]


async def test_verify_audit_chain_intact_after_concurrent_writers(store: Store, nonce: int) -> None:
    async def observe(i: int) -> None:
        async with store.transaction() as tx:
            event = make_event(nonce + 300_000 + i)
            await tx.record_scan(CONFLUX, VAULT, Direction.TO_ETHEREUM, [event], 101)
            await tx.set_status(event.transfer_id, TransferStatus.CONFIRMED)

    await asyncio.gather(*(observe(i) for i in range(20)))
    verdict = await _verify(store)
    assert isinstance(verdict, AuditChainIntact)
    assert verdict.entries == 40


T0 = datetime(2026, 12, 1, tzinfo=UTC)


async def _dated(store: Store, minutes: list[float]) -> list[int]:
    """Append one link per minute offset (the clock may step back); their seqs."""
    times = iter([T0 + timedelta(minutes=m) for m in minutes])
    dated = Store(store.engine, clock=lambda: next(times))
    for i, _ in enumerate(minutes):
        async with dated.transaction() as tx:
            await tx.append_audit("published", None, {"i": i})
    return await _seqs(store)


async def _slice(store: Store, start: float, end: float) -> list[int]:
    async with store.reader() as tx:
        entries = await tx.audit_slice(T0 + timedelta(minutes=start), T0 + timedelta(minutes=end))
    return [e.seq for e in entries]


async def test_audit_slice_is_the_links_dated_in_the_range(store: Store) -> None:
    seqs = await _dated(store, [0, 10, 20, 30])
    assert await _slice(store, 10, 20) == seqs[1:3]  # both ends included
    assert await _slice(store, 9.99, 10.01) == seqs[1:2]
    assert await _slice(store, -60, 60) == seqs
    assert await _slice(store, 40, 50) == []
    hk = ZoneInfo("Asia/Hong_Kong")  # the same instants in another zone
    async with store.reader() as tx:
        entries = await tx.audit_slice(
            T0.astimezone(hk), (T0 + timedelta(minutes=10)).astimezone(hk)
        )
    assert [e.seq for e in entries] == seqs[:2]


async def test_audit_slice_keeps_links_a_clock_step_back_dated_outside(store: Store) -> None:
    """The slice runs from the lowest to the highest seq dated in the range, so its links
    can be checked: a link dated earlier by a clock stepped back stays in it."""
    seqs = await _dated(store, [0, 10, 5, 20, 30])
    assert await _slice(store, 8, 25) == seqs[1:4]
    assert await _slice(store, 4, 6) == seqs[2:3]


async def test_an_export_of_a_slice_with_a_rolled_back_seq_verifies(store: Store) -> None:
    """PostgreSQL's sequence skips the seq of a rolled-back append; the export still
    verifies, because its links hold."""
    async with store.transaction() as tx:
        await tx.append_audit("published", None, {"n": 1})

    async def append_then_fail() -> None:
        async with store.transaction() as tx:
            await tx.append_audit("published", None, {"n": 2})
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await append_then_fail()
    async with store.transaction() as tx:
        await tx.append_audit("published", None, {"n": 3})
    async with store.reader() as tx:
        entries = await tx.audit_slice(T0 - timedelta(days=1), datetime.now(UTC))
    first, second = (e.seq for e in entries)
    assert second == (first + 2 if store.dialect == "postgresql" else first + 1)
    signer = signer_from_hex("0x" + "11" * 32)
    for fmt in ExportFormat:
        raw, signed = sign_export(entries, fmt, signer.address, signer.sign_digest)
        assert isinstance(verify_export(raw, signed, signer.address), ExportVerified)
