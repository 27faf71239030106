"""The audit chain verifies, and detects edits, deletions and reordering."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select, update
from store_factories import CONFLUX, VAULT, make_event, rand_hash

from relayer.domain.types import Direction
from relayer.store import Store, TransferStatus
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
