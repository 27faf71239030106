"""Received audit chain heads on SQLite and PostgreSQL: kept once, conflicts found."""

from __future__ import annotations

import pytest

from relayer.domain.audit_heads import (
    GENESIS_HASH,
    AuditHead,
    ConflictKind,
    SignedHead,
    WitnessedHead,
)
from relayer.domain.types import Address, Hash32
from relayer.store import Store
from relayer.store.heads import HeadConflicting, HeadKnown, HeadRecorded

pytestmark = pytest.mark.asyncio(loop_scope="session")

V = Address(b"\x11" * 20)
W = Address(b"\x22" * 20)
ME = Address(b"\x33" * 20)
SIG = b"\x44" * 64 + b"\x1b"


def _witnessed(
    seq: int, at: int, *, validator: Address = V, fill: int = 0xA0, witness: Address = W
) -> WitnessedHead:
    digest = GENESIS_HASH if seq == 0 else Hash32(bytes([fill]) + seq.to_bytes(31, "big"))
    return WitnessedHead(SignedHead(AuditHead(validator, seq, digest, at), SIG), witness)


async def _record(store: Store, witnessed: WitnessedHead, *, each_witness: bool = False) -> object:
    async with store.transaction() as tx:
        return await tx.record_audit_head(witnessed, each_witness=each_witness)


async def test_audit_tip_of_an_empty_then_a_growing_chain(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.audit_tip() == (0, GENESIS_HASH)
        await tx.append_audit("note", None, {"n": 1})
        await tx.append_audit("note", None, {"n": 2})
    async with store.reader() as tx:
        seq, digest = await tx.audit_tip()
        entries = await tx.audit_entries()
    assert (seq, digest) == (entries[-1].seq, entries[-1].hash)


async def test_heads_of_a_growing_chain_are_recorded_once(store: Store) -> None:
    assert isinstance(await _record(store, _witnessed(3, 100)), HeadRecorded)
    assert isinstance(await _record(store, _witnessed(3, 100)), HeadKnown)
    assert isinstance(await _record(store, _witnessed(3, 160)), HeadKnown)  # re-signed later
    assert isinstance(await _record(store, _witnessed(9, 220)), HeadRecorded)
    assert isinstance(await _record(store, _witnessed(5, 130)), HeadRecorded)  # relayed late
    async with store.reader() as tx:
        heads = await tx.audit_heads_of(V)
        assert await tx.audit_heads_of(ME) == ()
    assert [(h.head.seq, h.head.at, h.witness) for h in heads] == [
        (3, 100, W),
        (5, 130, W),
        (9, 220, W),
    ]
    assert heads[0].signed.signature == SIG


async def test_our_own_heads_are_kept_once_per_witness(store: Store) -> None:
    first = _witnessed(3, 100, validator=ME)
    assert isinstance(await _record(store, first), HeadRecorded)
    again = _witnessed(3, 100, validator=ME, witness=V)
    assert isinstance(await _record(store, again), HeadKnown)  # not asked: one row
    assert isinstance(await _record(store, again, each_witness=True), HeadRecorded)
    assert isinstance(await _record(store, again, each_witness=True), HeadKnown)
    rewritten = _witnessed(3, 200, validator=ME, witness=V, fill=0xB0)
    outcome = await _record(store, rewritten, each_witness=True)
    assert isinstance(outcome, HeadConflicting)
    other_witness = _witnessed(3, 200, validator=ME, fill=0xB0)
    assert isinstance(await _record(store, other_witness, each_witness=True), HeadRecorded)
    async with store.reader() as tx:
        heads = await tx.audit_heads_of(ME)
    assert [(h.head.hash[0], h.witness) for h in heads] == [
        (0xA0, V),
        (0xA0, W),
        (0xB0, V),
        (0xB0, W),
    ]


async def test_one_seq_two_hashes_is_a_rewrite_kept_as_evidence(store: Store) -> None:
    await _record(store, _witnessed(4, 100))
    outcome = await _record(store, _witnessed(4, 200, fill=0xB0))
    assert isinstance(outcome, HeadConflicting)
    assert outcome.conflict.kind is ConflictKind.REWRITTEN
    assert outcome.conflict.stored.at == 100
    assert isinstance(await _record(store, _witnessed(4, 200, fill=0xB0)), HeadKnown)
    async with store.reader() as tx:
        assert len(await tx.audit_heads_of(V)) == 2


@pytest.mark.parametrize(("seq", "at"), [(6, 150), (20, 50)])
async def test_a_chain_going_backwards_is_a_regression(store: Store, seq: int, at: int) -> None:
    await _record(store, _witnessed(10, 100))
    outcome = await _record(store, _witnessed(seq, at))
    assert isinstance(outcome, HeadConflicting)
    assert outcome.conflict.kind is ConflictKind.REGRESSED
    assert outcome.conflict.stored.seq == 10


async def test_heads_of_other_validators_never_conflict(store: Store) -> None:
    await _record(store, _witnessed(10, 100))
    assert isinstance(await _record(store, _witnessed(2, 300, validator=ME)), HeadRecorded)
    assert isinstance(await _record(store, _witnessed(10, 300, validator=ME, fill=7)), HeadRecorded)


async def test_latest_heads_per_validator(store: Store) -> None:
    for witnessed in (
        _witnessed(3, 100),
        _witnessed(7, 200),
        _witnessed(1, 50, validator=W),
        _witnessed(2, 60, validator=ME),
    ):
        await _record(store, witnessed)
    async with store.reader() as tx:
        latest = await tx.latest_audit_heads(exclude=ME)
    assert [(h.head.validator, h.head.seq) for h in latest] == [(V, 7), (W, 1)]
