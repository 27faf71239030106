"""Policy packs in force, the spends counted against their limits, reviews and refusals."""

from __future__ import annotations

import os

import pytest
from store_factories import CONFLUX, ETHEREUM, VAULT, make_event, rand_address, rand_hash

from relayer.domain.limits import Spend
from relayer.domain.types import Address, Direction, Hash32
from relayer.store import Store, StoreIntegrityError, TransferStatus
from relayer.store.outcomes import (
    AuditChainIntact,
    RefusalStored,
    ReviewAlreadyDecided,
    ReviewNotHeld,
    ReviewRecorded,
    TransferNotFound,
)
from relayer.store.records import AuditEntry, StoredPack

pytestmark = pytest.mark.asyncio(loop_scope="session")
ME = Address(bytes.fromhex("aa" * 20))
TOKEN = Address(bytes.fromhex("77" * 20))
OTHER_TOKEN = Address(bytes.fromhex("88" * 20))
PACK_HASH = Hash32(bytes.fromhex("cd" * 32))
UINT256_MAX = 2**256 - 1
HELD = "amount 5000 above the review threshold 1000 of pack v3"


async def _observed(store: Store, nonces: list[int]) -> list[Hash32]:
    events = [make_event(n) for n in nonces]
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, Direction.TO_ETHEREUM, events, 101)
    return [e.transfer_id for e in events]


async def _held(store: Store, nonce: int) -> Hash32:
    [tid] = await _observed(store, [nonce])
    async with store.transaction() as tx:
        await tx.set_status(tid, TransferStatus.REVIEW, HELD)
    return tid


PackFields = tuple[Hash32, str, int, bytes, bytes]  # content hash, jurisdiction, version, raw, sig


async def _record_pack(store: Store, jurisdiction: str, version: int) -> tuple[bool, PackFields]:
    raw = f"schema = 1\njurisdiction = {jurisdiction!r}\nversion = {version}\n".encode()
    sent = (rand_hash(), jurisdiction, version, raw, os.urandom(64) + b"\x1b")
    async with store.transaction() as tx:
        inserted = await tx.record_pack(*sent)
    return inserted, sent


def _same_pack(stored: StoredPack | None, sent: PackFields) -> bool:
    """Stored as sent, plus the time it was put in force."""
    assert stored is not None
    assert stored.accepted_at.utcoffset() is not None
    fields = (stored.content_hash, stored.jurisdiction, stored.version, stored.raw)
    return (*fields, stored.signature) == sent


def _spend(
    tid: Hash32,
    at: int,
    *,
    amount: int = 10,
    chain: int = CONFLUX,
    token: Address = TOKEN,
) -> Spend:
    return Spend(tid, (chain, token), rand_address(), amount, at)


async def _events(store: Store, event: str) -> list[AuditEntry]:
    async with store.reader() as tx:
        return [e for e in await tx.audit_entries() if e.event == event]


# -- packs ----------------------------------------------------------------------------


async def test_record_pack_new_then_duplicate_audited_once(store: Store) -> None:
    raw, content_hash, signature = b"schema = 1\n", rand_hash(), b"\x01" * 65
    async with store.transaction() as tx:
        first = await tx.record_pack(content_hash, "HK", 3, raw, signature)
    async with store.transaction() as tx:
        again = await tx.record_pack(content_hash, "HK", 3, raw, signature)
        same_tx = await tx.record_pack(content_hash, "HK", 3, raw, signature)
    assert (first, again, same_tx) == (True, False, False)
    audited = await _events(store, "policy_pack")
    assert len(audited) == 1
    assert audited[0].transfer_id is None
    assert audited[0].detail == {
        "jurisdiction": "HK",
        "version": 3,
        "hash": "0x" + content_hash.hex(),
    }
    async with store.reader() as tx:
        assert isinstance(await tx.verify_audit_chain(), AuditChainIntact)


async def test_pack_in_force_is_the_highest_version_of_the_jurisdiction(store: Store) -> None:
    async with store.reader() as tx:
        assert await tx.pack_in_force("HK") is None
    sent: dict[int, PackFields] = {}
    for version in (2, 10, 9):  # 10 above 9: numerically, not as text
        inserted, sent[version] = await _record_pack(store, "HK", version)
        assert inserted
    _, elsewhere = await _record_pack(store, "SG", 11)
    async with store.reader() as tx:
        hk = await tx.pack_in_force("HK")
        sg = await tx.pack_in_force("SG")
        us = await tx.pack_in_force("US")
    assert _same_pack(hk, sent[10])
    assert _same_pack(sg, elsewhere)
    assert us is None


async def test_pack_in_force_reads_a_uint64_version_back_exactly(store: Store) -> None:
    _, big = await _record_pack(store, "HK", 2**64 - 1)
    await _record_pack(store, "HK", 2**64 - 2)
    async with store.reader() as tx:
        stored = await tx.pack_in_force("HK")
    assert _same_pack(stored, big)
    assert stored is not None and stored.version == 2**64 - 1


# -- spends ---------------------------------------------------------------------------


async def test_record_spend_once_per_transfer(store: Store, nonce: int) -> None:
    [tid] = await _observed(store, [nonce])
    spend = _spend(tid, 1_000, amount=500)
    async with store.transaction() as tx:
        first = await tx.record_spend(spend, PACK_HASH)
    async with store.transaction() as tx:
        again = await tx.record_spend(spend, PACK_HASH)
        other = await tx.record_spend(_spend(tid, 2_000, amount=9), rand_hash())
    assert (first, again, other) == (True, False, False)
    async with store.reader() as tx:
        assert await tx.spends_since(CONFLUX, TOKEN, 0) == (spend,)  # the first one stands


async def test_record_spend_for_an_unknown_transfer_is_an_integrity_error(store: Store) -> None:
    with pytest.raises(StoreIntegrityError):
        async with store.transaction() as tx:
            await tx.record_spend(_spend(rand_hash(), 1_000), PACK_HASH)
    async with store.reader() as tx:
        assert await tx.spends_since(CONFLUX, TOKEN, 0) == ()


async def test_spends_since_counts_strictly_after_since(store: Store, nonce: int) -> None:
    tids = await _observed(store, [nonce, nonce + 10_000, nonce + 20_000])
    since = 1_700_000_000
    before, at, after = (
        _spend(tid, t) for tid, t in zip(tids, (since - 1, since, since + 1), strict=True)
    )
    async with store.transaction() as tx:
        for spend in (after, at, before):
            assert await tx.record_spend(spend, PACK_HASH)
    async with store.reader() as tx:
        assert await tx.spends_since(CONFLUX, TOKEN, since) == (after,)
        assert await tx.spends_since(CONFLUX, TOKEN, since - 1) == (at, after)
        assert await tx.spends_since(CONFLUX, TOKEN, since - 2) == (before, at, after)
        assert await tx.spends_since(CONFLUX, TOKEN, since + 1) == ()


async def test_spends_since_one_chain_and_token_oldest_first(store: Store, nonce: int) -> None:
    tids = await _observed(store, [nonce + 30_000 + i for i in range(6)])
    mine = [_spend(tids[0], 300), _spend(tids[1], 100), _spend(tids[2], 200)]
    noise = [
        _spend(tids[3], 150, token=OTHER_TOKEN),
        _spend(tids[4], 150, chain=ETHEREUM),
        _spend(tids[5], 150, chain=ETHEREUM, token=OTHER_TOKEN),
    ]
    async with store.transaction() as tx:
        for spend in [*mine, *noise]:
            await tx.record_spend(spend, PACK_HASH)
    async with store.reader() as tx:
        got = await tx.spends_since(CONFLUX, TOKEN, 0)
        other_token = await tx.spends_since(CONFLUX, OTHER_TOKEN, 0)
        other_chain = await tx.spends_since(ETHEREUM, TOKEN, 0)
        unknown = await tx.spends_since(CONFLUX, rand_address(), 0)
    assert [s.at for s in got] == [100, 200, 300]
    assert got == tuple(sorted(mine, key=lambda s: s.at))
    assert other_token == (noise[0],)
    assert other_chain == (noise[1],)
    assert unknown == ()


@pytest.mark.parametrize("amount", [0, 1, 10**18, 2**64, 2**255 + 1, UINT256_MAX])
async def test_spend_amounts_round_trip_exactly(store: Store, nonce: int, amount: int) -> None:
    [tid] = await _observed(store, [nonce])
    spend = _spend(tid, 42, amount=amount)
    async with store.transaction() as tx:
        await tx.record_spend(spend, PACK_HASH)
    async with store.reader() as tx:
        [got] = await tx.spends_since(CONFLUX, TOKEN, 0)
    assert got == spend
    assert type(got.amount) is int and got.amount == amount


# -- reviews --------------------------------------------------------------------------


async def test_record_review_of_an_unknown_transfer(store: Store) -> None:
    tid = rand_hash()
    async with store.transaction() as tx:
        outcome = await tx.record_review(tid, True, "alice", "ok")
        assert await tx.review_of(tid) is None
    assert outcome == TransferNotFound(tid)
    assert await _events(store, "reviewed") == []


@pytest.mark.parametrize(
    "status", [TransferStatus.OBSERVED, TransferStatus.CONFIRMED, TransferStatus.REFUSED]
)
async def test_record_review_of_a_transfer_not_held(
    store: Store, nonce: int, status: TransferStatus
) -> None:
    [tid] = await _observed(store, [nonce])
    async with store.transaction() as tx:
        await tx.set_status(tid, status)
    async with store.transaction() as tx:
        outcome = await tx.record_review(tid, True, "alice", "ok")
        assert await tx.review_of(tid) is None
    assert outcome == ReviewNotHeld(tid, status)
    assert await _events(store, "reviewed") == []


@pytest.mark.parametrize("approved", [True, False])
async def test_record_review_first_decision_stands(
    store: Store, nonce: int, approved: bool
) -> None:
    tid = await _held(store, nonce)
    async with store.transaction() as tx:
        first = await tx.record_review(tid, approved, "alice", "KYC checked")
    async with store.transaction() as tx:
        second = await tx.record_review(tid, not approved, "bob", "changed my mind")
        same = await tx.record_review(tid, approved, "alice", "KYC checked")
        review = await tx.review_of(tid)
        transfer = await tx.get_transfer(tid)
    assert isinstance(first, ReviewRecorded)
    assert (first.review.transfer_id, first.review.approved) == (tid, approved)
    assert (first.review.reviewer, first.review.reason) == ("alice", "KYC checked")
    assert first.review.decided_at.utcoffset() is not None
    assert second == ReviewAlreadyDecided(first.review)
    assert same == ReviewAlreadyDecided(first.review)
    assert review == first.review
    assert transfer is not None
    assert transfer.status is TransferStatus.REVIEW  # the sweep applies it, not the store
    audited = await _events(store, "reviewed")
    assert len(audited) == 1
    assert audited[0].transfer_id == tid
    assert audited[0].detail == {"approved": approved, "reviewer": "alice", "reason": "KYC checked"}


async def test_a_decided_review_stays_decided_after_the_transfer_moves_on(
    store: Store, nonce: int
) -> None:
    tid = await _held(store, nonce)
    async with store.transaction() as tx:
        first = await tx.record_review(tid, False, "alice", "sanctions hit")
        await tx.set_status(tid, TransferStatus.REFUSED)
    async with store.transaction() as tx:
        again = await tx.record_review(tid, True, "bob", "ok")
    assert isinstance(first, ReviewRecorded)
    assert again == ReviewAlreadyDecided(first.review)


async def test_reviews_are_per_transfer(store: Store, nonce: int) -> None:
    one, two = await _held(store, nonce), await _held(store, nonce + 40_000)
    async with store.transaction() as tx:
        assert isinstance(await tx.record_review(one, True, "alice", "ok"), ReviewRecorded)
        assert await tx.review_of(two) is None
        assert isinstance(await tx.record_review(two, False, "bob", "no"), ReviewRecorded)
    async with store.reader() as tx:
        got = [await tx.review_of(t) for t in (one, two)]
    assert [(r.approved, r.reviewer) for r in got if r is not None] == [
        (True, "alice"),
        (False, "bob"),
    ]


async def test_record_review_keeps_a_128_character_reviewer(store: Store, nonce: int) -> None:
    """The reviewer column's width on both backends (the CLI refuses longer names)."""
    tid = await _held(store, nonce)
    async with store.transaction() as tx:
        outcome = await tx.record_review(tid, True, "r" * 128, "é" * 5000)
    async with store.reader() as tx:
        review = await tx.review_of(tid)
    assert isinstance(outcome, ReviewRecorded)
    assert review is not None and review == outcome.review
    assert (review.reviewer, review.reason) == ("r" * 128, "é" * 5000)


# -- refusals -------------------------------------------------------------------------


async def test_record_refusal_keeps_the_policy_version(store: Store, nonce: int) -> None:
    [tid, plain] = await _observed(store, [nonce, nonce + 50_000])
    async with store.transaction() as tx:
        stored = await tx.record_refusal(tid, ME, "sanctioned", "0xdead", policy_version="ab" * 32)
        await tx.record_refusal(plain, ME, "amount_too_large")
    async with store.reader() as tx:
        refusal = await tx.refusal_by(tid, ME)
        without = await tx.refusal_by(plain, ME)
        nobody = await tx.refusal_by(tid, rand_address())
    assert isinstance(stored, RefusalStored)
    assert refusal == stored.refusal
    assert refusal is not None and refusal.policy_version == "ab" * 32
    assert (refusal.reason_code, refusal.detail) == ("sanctioned", "0xdead")
    assert without is not None and without.policy_version is None
    assert nobody is None
    audited = await _events(store, "refused")
    assert [(e.transfer_id, e.detail["policy"]) for e in audited] == [
        (tid, "ab" * 32),
        (plain, None),
    ]
