"""Vetoes and Cancel/Refund signatures in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import os

import pytest
from store_factories import CONFLUX, VAULT, make_event, rand_address, rand_hash

from relayer.domain.types import Direction, Hash32
from relayer.store import Store, TransferStatus, VetoSignature, utc_now
from relayer.store.outcomes import (
    TransferNotFound,
    VetoAlreadyRecorded,
    VetoNotAllowed,
    VetoRecorded,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _stored(store: Store, nonce: int, status: TransferStatus | None) -> Hash32:
    event = make_event(nonce)
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, Direction.TO_ETHEREUM, [event], 101)
        if status is not None:
            await tx.set_status(event.transfer_id, status, None)
    return event.transfer_id


async def test_a_veto_is_recorded_once_audited_and_applied_by_status(store: Store) -> None:
    refused = await _stored(store, 1, TransferStatus.REFUSED)
    attested = await _stored(store, 2, TransferStatus.ATTESTED)
    released = await _stored(store, 3, TransferStatus.RELEASED)
    observed = await _stored(store, 4, None)
    async with store.transaction() as tx:
        first = await tx.record_veto(refused, "carol", "court order", automatic=False)
        again = await tx.record_veto(refused, "dave", "again", automatic=False)
        auto = await tx.record_veto(attested, "auto", "refused by 2 of 5", automatic=True)
        late = await tx.record_veto(released, "carol", "too late", automatic=False)
        early = await tx.record_veto(observed, "carol", "too early", automatic=False)
        unknown = await tx.record_veto(rand_hash(), "carol", "who?", automatic=False)
    assert isinstance(first, VetoRecorded) and first.veto.vetoed_by == "carol"
    assert isinstance(again, VetoAlreadyRecorded) and again.veto.reason == "court order"
    assert isinstance(auto, VetoRecorded) and auto.veto.automatic
    assert isinstance(late, VetoNotAllowed) and late.status is TransferStatus.RELEASED
    assert isinstance(early, VetoNotAllowed) and early.status is TransferStatus.OBSERVED
    assert isinstance(unknown, TransferNotFound)
    async with store.reader() as tx:
        to_apply = {v.transfer_id for v in await tx.vetoes_to_apply()}
        audited = [e for e in await tx.audit_entries() if e.event == "vetoed"]
        view = await tx.transfer_view(refused)
    assert to_apply == {refused, attested}
    assert [e.detail["by"] for e in audited] == ["carol", "auto"]
    assert view is not None and view.veto is not None and view.veto.reason == "court order"
    async with store.transaction() as tx:  # once vetoed, nothing is left to apply
        await tx.set_status(refused, TransferStatus.VETOED, "vetoed by carol: court order")
        await tx.set_status(attested, TransferStatus.VETOED, "vetoed by auto")
    async with store.reader() as tx:
        assert await tx.vetoes_to_apply() == ()


async def test_refused_without_veto_lists_only_refusals_not_yet_vetoed(store: Store) -> None:
    vetoed = await _stored(store, 11, TransferStatus.REFUSED)
    waiting = await _stored(store, 12, TransferStatus.REFUSED)
    await _stored(store, 13, TransferStatus.ATTESTED)
    async with store.transaction() as tx:
        await tx.record_veto(vetoed, "auto", "refused by 2 of 5", automatic=True)
    async with store.reader() as tx:
        assert [r.transfer_id for r in await tx.refused_without_veto()] == [waiting]


async def test_one_signature_per_transfer_kind_and_signer(store: Store) -> None:
    tid = await _stored(store, 21, TransferStatus.VETOED)
    signer = rand_address()

    def signed(kind: str, chain_id: int = 31337) -> VetoSignature:
        sig = os.urandom(64) + b"\x1b"
        return VetoSignature(tid, kind, signer, chain_id, rand_hash(), sig, utc_now())

    cancel = signed("cancel")
    async with store.transaction() as tx:
        assert await tx.record_veto_signature(cancel)
        assert not await tx.record_veto_signature(signed("cancel"))  # the first stands
        assert await tx.record_veto_signature(signed("refund", 2030))
        with pytest.raises(ValueError, match="kind must be one of"):
            await tx.record_veto_signature(signed("veto"))
    async with store.reader() as tx:
        cancels = await tx.veto_signatures_for(tid, "cancel")
        refunds = await tx.veto_signatures_for(tid, "refund")
        mine = await tx.veto_signature_by(tid, "cancel", signer)
        view = await tx.transfer_view(tid)
        audited = [e.event for e in await tx.audit_entries(tid)]
    assert [(s.digest, s.signature) for s in cancels] == [(cancel.digest, cancel.signature)]
    assert [s.chain_id for s in refunds] == [2030]
    assert mine is not None and mine.digest == cancel.digest
    assert view is not None and {s.kind for s in view.veto_signatures} == {"cancel", "refund"}
    assert audited.count("cancel_signed") == 1 and audited.count("refund_signed") == 1
