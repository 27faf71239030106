"""Committed roots in the store: root signatures and the reads behind what we sign."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from store_factories import CONFLUX, ETHEREUM, VAULT, make_attestation, make_event, rand_hash

from relayer.domain.types import Address, Direction, Hash32, SourceEvent
from relayer.store import Store, TransferStatus
from relayer.store.models import RootSignatureRow
from relayer.store.outcomes import RootConflict, RootDuplicate, RootStored
from relayer.store.records import RootSignature

pytestmark = pytest.mark.asyncio(loop_scope="session")
ME = Address(bytes.fromhex("aa" * 20))
PEERS = [Address(bytes([b]) * 20) for b in (0x30, 0x10, 0xF0, 0x20)]
OTHER_CHAIN = 1030
TO_ETH = Direction.TO_ETHEREUM
_chains = itertools.count(10_000)


def _sig(
    signer: Address = ME,
    *,
    first_nonce: int = 1,
    last_nonce: int | None = None,
    dst_chain_id: int = ETHEREUM,
    src_chain_id: int = CONFLUX,
    root: Hash32 | None = None,
) -> RootSignature:
    return RootSignature(
        dst_chain_id=dst_chain_id,
        src_chain_id=src_chain_id,
        first_nonce=first_nonce,
        last_nonce=first_nonce + 9 if last_nonce is None else last_nonce,
        root=root or rand_hash(),
        signer=signer,
        digest=rand_hash(),
        signature=bytes(range(64)) + b"\x1b",
        set_id=4,
    )


def _same(stored: RootSignature, sent: RootSignature) -> bool:
    """Stored as sent, plus the time it arrived."""
    assert stored.received_at is not None
    assert stored.received_at.utcoffset() is not None
    return replace(stored, received_at=None) == sent


async def _record(store: Store, sig: RootSignature) -> object:
    async with store.transaction() as tx:
        return await tx.record_root_signature(sig)


async def _observe(store: Store, nonces: list[int], chain_id: int = CONFLUX) -> list[SourceEvent]:
    events = [make_event(n, chain_id=chain_id) for n in nonces]
    async with store.transaction() as tx:
        await tx.record_scan(chain_id, VAULT, TO_ETH, events, 101)
    return events


async def test_record_root_signature_stored_then_duplicate(store: Store) -> None:
    sig = _sig(first_nonce=11, last_nonce=20)
    assert await _record(store, sig) == RootStored()
    assert await _record(store, sig) == RootDuplicate()
    # another signature over the same root is still the same root: a duplicate
    assert await _record(store, replace(sig, digest=rand_hash(), set_id=5)) == RootDuplicate()
    async with store.reader() as tx:
        stored = await tx.root_signatures(ETHEREUM, CONFLUX, 11)
    assert len(stored) == 1
    assert _same(stored[0], sig)


async def test_record_root_signature_conflict_keeps_the_first(store: Store) -> None:
    first = _sig(first_nonce=21, last_nonce=30)
    assert await _record(store, first) == RootStored()
    other = replace(first, root=rand_hash(), digest=rand_hash(), signature=b"\x01" * 64 + b"\x1c")
    assert await _record(store, other) == RootConflict(first.root)
    assert await _record(store, other) == RootConflict(first.root)
    async with store.reader() as tx:
        stored = await tx.root_signatures(ETHEREUM, CONFLUX, 21)
        count = (await tx._exec(select(func.count()).select_from(RootSignatureRow))).scalar_one()
    assert count == 1
    assert len(stored) == 1
    assert _same(stored[0], first)


async def test_same_signer_other_window_or_destination_is_no_conflict(store: Store) -> None:
    base = _sig(first_nonce=1)
    assert await _record(store, base) == RootStored()
    assert await _record(store, replace(base, first_nonce=11, last_nonce=20)) == RootStored()
    assert await _record(store, replace(base, dst_chain_id=CONFLUX)) == RootStored()
    assert await _record(store, replace(base, src_chain_id=OTHER_CHAIN)) == RootStored()
    assert await _record(store, replace(base, signer=PEERS[0])) == RootStored()


async def test_root_signatures_by_signer_for_one_window_and_destination(store: Store) -> None:
    sigs = [_sig(peer, first_nonce=101, last_nonce=110) for peer in [ME, *PEERS]]
    noise = [
        _sig(PEERS[0], first_nonce=111, last_nonce=120),  # the next window
        _sig(PEERS[1], first_nonce=101, last_nonce=110, dst_chain_id=CONFLUX),
        _sig(PEERS[2], first_nonce=101, last_nonce=110, src_chain_id=OTHER_CHAIN),
    ]
    for sig in [*noise, *sigs]:
        assert await _record(store, sig) == RootStored()
    async with store.reader() as tx:
        got = await tx.root_signatures(ETHEREUM, CONFLUX, 101)
        none = await tx.root_signatures(ETHEREUM, CONFLUX, 102)
    expected = sorted(sigs, key=lambda s: bytes(s.signer))
    assert [s.signer for s in got] == [s.signer for s in expected]
    assert [s.signer for s in got] == [PEERS[1], PEERS[3], PEERS[0], ME, PEERS[2]]
    assert all(_same(g, e) for g, e in zip(got, expected, strict=True))
    assert none == ()


async def test_own_root_signatures_filters_signer_chain_and_start(store: Store) -> None:
    mine = [
        _sig(first_nonce=1, dst_chain_id=ETHEREUM),
        _sig(first_nonce=11, dst_chain_id=ETHEREUM),
        _sig(first_nonce=11, dst_chain_id=CONFLUX),
        _sig(first_nonce=91, dst_chain_id=ETHEREUM),
        _sig(first_nonce=101, dst_chain_id=CONFLUX),
        _sig(first_nonce=1001, dst_chain_id=ETHEREUM),
    ]
    others = [
        _sig(PEERS[0], first_nonce=11),
        _sig(first_nonce=21, src_chain_id=OTHER_CHAIN),
    ]
    for sig in [*reversed(mine), *others]:
        assert await _record(store, sig) == RootStored()
    async with store.reader() as tx:
        from_11 = await tx.own_root_signatures(ME, CONFLUX, 11)
        from_12 = await tx.own_root_signatures(ME, CONFLUX, 12)
        all_mine = await tx.own_root_signatures(ME, CONFLUX, 1)
        other_chain = await tx.own_root_signatures(ME, OTHER_CHAIN, 1)
        nobody = await tx.own_root_signatures(PEERS[1], CONFLUX, 1)
    # by window (numerically: 91 before 101 before 1001), then destination
    key = [(s.first_nonce, s.dst_chain_id) for s in from_11]
    assert key == [(11, CONFLUX), (11, ETHEREUM), (91, ETHEREUM), (101, CONFLUX), (1001, ETHEREUM)]
    assert [s.first_nonce for s in from_12] == [91, 101, 1001]
    assert len(all_mine) == 6
    assert all(any(_same(g, m) for m in mine) for g in all_mine)
    assert [(s.first_nonce, s.signer) for s in other_chain] == [(21, ME)]
    assert nobody == ()


async def test_window_transfers_by_nonce_with_our_signature(store: Store) -> None:
    events = await _observe(store, [100, 8, 11, 9, 10, 12, 7])
    elsewhere = await _observe(store, [9, 10], chain_id=OTHER_CHAIN)
    by_nonce = {e.nonce: e for e in events}
    digests = {9: rand_hash(), 11: rand_hash()}
    async with store.transaction() as tx:
        for n, digest in digests.items():
            await tx.record_own_signature(
                make_attestation(by_nonce[n].transfer_id, ME, digest), 4, "p1"
            )
        await tx.record_own_signature(
            make_attestation(elsewhere[0].transfer_id, ME, rand_hash()), 4, "p1"
        )
    async with store.reader() as tx:
        window = await tx.window_transfers(CONFLUX, 8, 12)
        single = await tx.window_transfers(CONFLUX, 100, 100)
        empty = await tx.window_transfers(CONFLUX, 13, 99)
        other = await tx.window_transfers(OTHER_CHAIN, 1, 10)
    assert [t.nonce for t, _ in window] == [8, 9, 10, 11, 12]
    assert [t.transfer_id for t, _ in window] == [by_nonce[n].transfer_id for n in range(8, 13)]
    assert all(t.src_chain_id == CONFLUX for t, _ in window)
    signed = {t.nonce: own for t, own in window if own is not None}
    assert sorted(signed) == [9, 11]
    for n, own in signed.items():
        assert own.transfer_id == by_nonce[n].transfer_id
        assert own.digest == digests[n]
        assert (own.set_id, own.policy_version) == (4, "p1")
    assert [(t.nonce, own) for t, own in single] == [(100, None)]
    assert empty == ()
    assert [t.nonce for t, _ in other] == [9, 10]
    assert [own is not None for _, own in other] == [True, False]


@pytest.mark.parametrize(
    "ended",
    [
        TransferStatus.RELEASED,
        TransferStatus.CANCELLED,
        TransferStatus.REFUSED,
        TransferStatus.SUBMITTED,
        TransferStatus.DELAYED,
    ],
)
async def test_lowest_unsent_nonce_skips_sent_and_ended_transfers(
    store: Store, ended: TransferStatus
) -> None:
    events = await _observe(store, [100, 9, 10, 11])
    by_nonce = {e.nonce: e for e in events}
    async with store.reader() as tx:
        assert await tx.lowest_unsent_nonce(CONFLUX) == 9
        assert await tx.lowest_unsent_nonce(OTHER_CHAIN) is None
    async with store.transaction() as tx:
        await tx.set_status(by_nonce[9].transfer_id, ended)
        await tx.set_status(by_nonce[10].transfer_id, TransferStatus.ATTESTED)
    async with store.reader() as tx:
        assert await tx.lowest_unsent_nonce(CONFLUX) == 10  # attested is still open
    async with store.transaction() as tx:
        await tx.set_status(by_nonce[10].transfer_id, ended)
        await tx.set_status(by_nonce[11].transfer_id, ended)
    async with store.reader() as tx:
        assert await tx.lowest_unsent_nonce(CONFLUX) == 100  # numerically, not as text
    async with store.transaction() as tx:
        await tx.set_status(by_nonce[100].transfer_id, ended)
    async with store.reader() as tx:
        assert await tx.lowest_unsent_nonce(CONFLUX) is None


async def test_lowest_unsent_nonce_mixes_every_sent_or_ended_status(store: Store) -> None:
    events = await _observe(store, [1, 2, 3, 4, 5, 6, 7])
    statuses = [
        TransferStatus.RELEASED,
        TransferStatus.CANCELLED,
        TransferStatus.REFUSED,
        TransferStatus.SUBMITTED,
        TransferStatus.DELAYED,
        TransferStatus.CONFIRMED,
        TransferStatus.RELEASED,
    ]
    async with store.transaction() as tx:
        for event, status in zip(events, statuses, strict=True):
            await tx.set_status(event.transfer_id, status)
    async with store.reader() as tx:
        assert await tx.lowest_unsent_nonce(CONFLUX) == 6


async def test_highest_nonce_counts_every_transfer_of_the_chain(store: Store) -> None:
    async with store.reader() as tx:
        assert await tx.highest_nonce(CONFLUX) is None
    events = await _observe(store, [9, 100, 10])
    await _observe(store, [5000], chain_id=OTHER_CHAIN)
    async with store.transaction() as tx:
        await tx.set_status(events[1].transfer_id, TransferStatus.RELEASED)
    async with store.reader() as tx:
        assert await tx.highest_nonce(CONFLUX) == 100  # numerically, ended or not
        assert await tx.highest_nonce(OTHER_CHAIN) == 5000
        assert await tx.highest_nonce(ETHEREUM) is None


_SIGNERS = [ME, *PEERS[:2]]
_ROOTS = [Hash32(bytes([i]) * 32) for i in range(1, 4)]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(_SIGNERS), st.sampled_from([1, 11]), st.sampled_from(_ROOTS)),
        max_size=12,
    )
)
async def test_record_root_signature_random_sequences_keep_the_first_root(
    store: Store, steps: list[tuple[Address, int, Hash32]]
) -> None:
    src = next(_chains)  # fresh per example: the fixture is shared across examples
    first_root: dict[tuple[Address, int], Hash32] = {}
    async with store.transaction() as tx:
        for signer, first_nonce, root in steps:
            sig = _sig(signer, first_nonce=first_nonce, src_chain_id=src, root=root)
            outcome = await tx.record_root_signature(sig)
            known = first_root.get((signer, first_nonce))
            if known is None:
                assert outcome == RootStored()
                first_root[(signer, first_nonce)] = root
            elif known == root:
                assert outcome == RootDuplicate()
            else:
                assert outcome == RootConflict(known)
        for first_nonce in (1, 11):
            stored = await tx.root_signatures(ETHEREUM, src, first_nonce)
            expected = sorted((s, r) for (s, n), r in first_root.items() if n == first_nonce)
            assert [(s.signer, s.root) for s in stored] == expected
