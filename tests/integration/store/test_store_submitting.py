"""Submitter nonces, submissions, alerts and the outbox."""

from __future__ import annotations

import asyncio

import pytest
from store_factories import CONFLUX, ETHEREUM, VAULT, make_event, rand_address, rand_hash

from relayer.domain.types import Address, Direction, Hash32
from relayer.store import AlertKind, EffectKind, Store, SubmissionStatus
from relayer.store.outcomes import (
    AlertAcknowledged,
    AlertAlreadyAcknowledged,
    AlertNotFound,
    EffectAlreadyDone,
    EffectAlreadyPending,
    EffectDone,
    EffectEnqueued,
    EffectNotFound,
    SubmissionDuplicate,
    SubmissionNotFound,
    SubmissionRecorded,
    SubmissionUpdated,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _observed(store: Store, nonce: int) -> Hash32:
    event = make_event(nonce)
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, Direction.TO_ETHEREUM, [event], 101)
    return event.transfer_id


async def _allocate(store: Store, sender: Address) -> int:
    async with store.transaction() as tx:
        return await tx.next_submit_nonce(ETHEREUM, sender)


async def test_next_submit_nonce_concurrent_allocations_are_distinct(store: Store) -> None:
    sender = rand_address()
    nonces = await asyncio.gather(*(_allocate(store, sender) for _ in range(50)))
    assert sorted(nonces) == list(range(50))


async def test_next_submit_nonce_respects_chain_floor(store: Store) -> None:
    sender = rand_address()
    async with store.transaction() as tx:
        first = await tx.next_submit_nonce(ETHEREUM, sender, chain_floor=7)
        second = await tx.next_submit_nonce(ETHEREUM, sender, chain_floor=3)
        jumped = await tx.next_submit_nonce(ETHEREUM, sender, chain_floor=20)
        other_chain = await tx.next_submit_nonce(CONFLUX, sender)
    assert (first, second, jumped, other_chain) == (7, 8, 20, 0)


async def test_next_submit_nonce_rolled_back_allocation_is_reused(store: Store) -> None:
    sender = rand_address()

    class Abort(Exception):
        pass

    async def allocate_then_abort() -> None:
        async with store.transaction() as tx:
            await tx.next_submit_nonce(ETHEREUM, sender)
            raise Abort

    with pytest.raises(Abort):
        await allocate_then_abort()
    assert await _allocate(store, sender) == 0


async def test_committed_nonce_moves_only_up_unless_resynced(store: Store) -> None:
    sender = rand_address()
    async with store.transaction() as tx:
        assert await tx.committed_nonce(ETHEREUM, sender) is None
        assert await tx.set_committed_nonce(ETHEREUM, sender, 5, only_up=True) == 5
        assert await tx.set_committed_nonce(ETHEREUM, sender, 3, only_up=True) == 5
    async with store.transaction() as tx:
        assert await tx.committed_nonce(ETHEREUM, sender) == 5
        assert await tx.set_committed_nonce(ETHEREUM, sender, 2, only_up=False) == 2
        assert await tx.committed_nonce(CONFLUX, sender) is None


async def test_record_submission_lifecycle(store: Store, nonce: int) -> None:
    tid = await _observed(store, nonce)
    sender, tx_hash = rand_address(), rand_hash()
    big_fee = 2**200
    async with store.transaction() as tx:
        recorded = await tx.record_submission(tid, ETHEREUM, sender, 0, tx_hash, big_fee, 10**9)
        duplicate = await tx.record_submission(tid, ETHEREUM, sender, 0, tx_hash, big_fee, 10**9)
        pending = await tx.pending_submissions(ETHEREUM)
        updated = await tx.update_submission(tid, tx_hash, SubmissionStatus.MINED, mined_block=42)
        missing = await tx.update_submission(tid, rand_hash(), "failed")
        listed = await tx.submissions_for(tid)
    assert isinstance(recorded, SubmissionRecorded)
    assert recorded.submission.max_fee_per_gas == big_fee
    assert isinstance(duplicate, SubmissionDuplicate)
    assert [s.tx_hash for s in pending] == [tx_hash]
    assert isinstance(updated, SubmissionUpdated)
    assert updated.submission.status is SubmissionStatus.MINED
    assert updated.submission.mined_block == 42
    assert isinstance(missing, SubmissionNotFound)
    assert len(listed) == 1


async def test_a_batch_transaction_is_recorded_once_per_transfer_it_carries(
    store: Store, nonce: int
) -> None:
    first, second = await _observed(store, nonce), await _observed(store, nonce + 1)
    sender, batch = rand_address(), rand_hash()
    async with store.transaction() as tx:
        recorded = [
            await tx.record_submission(tid, ETHEREUM, sender, 3, batch, 10**9, 10**9)
            for tid in (first, second)
        ]
        again = await tx.record_submission(second, ETHEREUM, sender, 3, batch, 10**9, 10**9)
        updated = await tx.update_submission(first, batch, SubmissionStatus.MINED, mined_block=7)
        other = await tx.update_submission(second, batch, SubmissionStatus.FAILED)
        rows = [await tx.submissions_for(tid) for tid in (first, second)]
    assert all(isinstance(r, SubmissionRecorded) for r in recorded)
    assert isinstance(again, SubmissionDuplicate)
    assert isinstance(updated, SubmissionUpdated) and isinstance(other, SubmissionUpdated)
    assert [(s.tx_hash, s.status, s.mined_block) for s in rows[0]] == [
        (batch, SubmissionStatus.MINED, 7)
    ]
    assert [(s.tx_hash, s.status) for s in rows[1]] == [(batch, SubmissionStatus.FAILED)]


async def test_a_mined_transaction_marks_the_others_at_its_nonce_replaced(
    store: Store, nonce: int
) -> None:
    """A fee bump records a second transaction at the same nonce; the first stays
    ``pending`` (either may mine) until one of them is in a block, then the other is
    ``replaced``, audited, in the same transaction. Other nonces and senders stay."""
    first, second = await _observed(store, nonce), await _observed(store, nonce + 1)
    sender, other_sender = rand_address(), rand_address()
    stuck, bumped, again, later = rand_hash(), rand_hash(), rand_hash(), rand_hash()
    elsewhere = rand_hash()
    async with store.transaction() as tx:
        await tx.record_sent((first, second), ETHEREUM, sender, 4, stuck, 10**9, 10**9)
        await tx.record_sent((first, second), ETHEREUM, sender, 4, bumped, 2 * 10**9, 10**9)
        await tx.record_sent((first, second), ETHEREUM, sender, 4, again, 3 * 10**9, 10**9)
        await tx.record_sent((first,), ETHEREUM, sender, 5, later, 10**9, 10**9)
        await tx.record_sent((first,), ETHEREUM, other_sender, 4, elsewhere, 10**9, 10**9)
    async with store.reader() as tx:  # recorded, not mined: every copy is still watched
        watched = await tx.in_flight_submissions(ETHEREUM, sender, (second,))
    assert {s.tx_hash for s in watched} == {stuck, bumped, again}
    async with store.transaction() as tx:
        await tx.update_submission(first, bumped, SubmissionStatus.MINED, mined_block=9)
        await tx.update_submission(second, bumped, SubmissionStatus.MINED, mined_block=9)
        audited = [e for e in await tx.audit_entries(second) if e.event == "submission"]
    async with store.reader() as tx:
        rows = {(s.transfer_id, s.tx_hash): s.status for s in await tx.submissions_for(first)}
        rows |= {(s.transfer_id, s.tx_hash): s.status for s in await tx.submissions_for(second)}
        in_flight = await tx.in_flight_submissions(ETHEREUM, sender, (first, second))
        theirs = await tx.in_flight_submissions(ETHEREUM, other_sender, (first,))
    R, M, P = SubmissionStatus.REPLACED, SubmissionStatus.MINED, SubmissionStatus.PENDING
    assert rows == {
        (first, stuck): R,
        (second, stuck): R,
        (first, bumped): M,
        (second, bumped): M,
        (first, again): R,
        (second, again): R,
        (first, later): P,
        (first, elsewhere): P,
    }
    assert [s.tx_hash for s in in_flight] == [later]
    assert [s.tx_hash for s in theirs] == [elsewhere]
    replaced = [e.detail for e in audited if e.detail["to"] == "replaced"]
    assert sorted(d["tx_hash"] for d in replaced) == sorted("0x" + h.hex() for h in (stuck, again))
    assert all(d["by"] == "0x" + bumped.hex() for d in replaced)


async def test_a_send_is_recorded_before_it_leaves_and_found_again_while_in_flight(
    store: Store, nonce: int
) -> None:
    first, second, alone = [await _observed(store, nonce + i) for i in range(3)]
    sender, batch, single, other_sender = rand_address(), rand_hash(), rand_hash(), rand_address()
    async with store.transaction() as tx:
        new = await tx.record_sent((first, second), ETHEREUM, sender, 5, batch, 3 * 10**9, 10**9)
        again = await tx.record_sent((first, second), ETHEREUM, sender, 5, batch, 3 * 10**9, 10**9)
        await tx.record_sent((alone,), ETHEREUM, sender, 6, single, 2 * 10**9, 10**9)
        await tx.record_sent((alone,), ETHEREUM, other_sender, 0, rand_hash(), 10**9, 10**9)
        audited = [e for e in await tx.audit_entries(first) if e.event == "submitted"]
    assert (new, again) == (2, 0)
    assert len(audited) == 1
    async with store.reader() as tx:
        by_second = await tx.in_flight_submissions(ETHEREUM, sender, (second,))
        by_both = await tx.in_flight_submissions(ETHEREUM, sender, (second, alone))
        elsewhere = await tx.in_flight_submissions(CONFLUX, sender, (second,))
    # every transfer the transaction carries, with its real nonce and fees
    assert [(s.transfer_id, s.tx_nonce, s.max_fee_per_gas) for s in by_second] == [
        (first, 5, 3 * 10**9),
        (second, 5, 3 * 10**9),
    ]
    assert [s.tx_hash for s in by_both] == [batch, batch, single]
    assert elsewhere == ()
    # once its fate is known it is no longer in flight
    async with store.transaction() as tx:
        await tx.update_submission(first, batch, SubmissionStatus.MINED, mined_block=9)
        await tx.update_submission(second, batch, SubmissionStatus.MINED, mined_block=9)
        rest = await tx.in_flight_submissions(ETHEREUM, sender, (first, second, alone))
    assert [s.tx_hash for s in rest] == [single]


async def test_alerts_halt_until_acknowledged(store: Store) -> None:
    async with store.transaction() as tx:
        assert not await tx.chain_halted(CONFLUX)
        halt = await tx.raise_alert(AlertKind.HALT, CONFLUX, {"reason": "deep reorg", "depth": 9})
        await tx.raise_alert(AlertKind.WARNING, ETHEREUM, {"reason": "slow rpc"})
        assert await tx.chain_halted(CONFLUX)
        assert not await tx.chain_halted(ETHEREUM)
    async with store.transaction() as tx:
        acked = await tx.acknowledge_alert(halt.id, "operator@example")
        twice = await tx.acknowledge_alert(halt.id, "operator@example")
        missing = await tx.acknowledge_alert(10**9, "operator@example")
        halted = await tx.chain_halted(CONFLUX)
        still_open = await tx.open_alerts()
    assert isinstance(acked, AlertAcknowledged)
    assert acked.alert.acknowledged_by == "operator@example"
    assert isinstance(twice, AlertAlreadyAcknowledged)
    assert isinstance(missing, AlertNotFound)
    assert not halted
    assert [a.kind for a in still_open] == [AlertKind.WARNING]
    assert halt.detail == {"reason": "deep reorg", "depth": 9}


async def test_alerts_global_halt_stops_every_chain(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.raise_alert(AlertKind.HALT, None, {"reason": "key clash"})
        assert await tx.chain_halted(CONFLUX)
        assert await tx.chain_halted(ETHEREUM)


async def test_outbox_enqueue_pending_done_idempotent(store: Store, nonce: int) -> None:
    tid = await _observed(store, nonce)
    async with store.transaction() as tx:
        enqueued = await tx.enqueue_effect(tid, EffectKind.SIGN, {"digest": "0x01"})
        again = await tx.enqueue_effect(tid, EffectKind.SIGN, {"digest": "0x02"})
        pending = await tx.pending_effects()
    assert isinstance(enqueued, EffectEnqueued)
    assert isinstance(again, EffectAlreadyPending)
    assert again.effect.payload == {"digest": "0x01"}
    assert [e.id for e in pending] == [enqueued.effect.id]
    async with store.transaction() as tx:
        done = await tx.mark_effect_done(enqueued.effect.id)
        done_again = await tx.mark_effect_done(enqueued.effect.id)
        missing = await tx.mark_effect_done(10**9)
        after = await tx.enqueue_effect(tid, EffectKind.SIGN)
        rearmed = await tx.enqueue_effect(tid, "sign", {"digest": "0x03"}, rearm=True)
        only_submit = await tx.pending_effects(kinds=[EffectKind.SUBMIT])
    assert isinstance(done, EffectDone)
    assert isinstance(done_again, EffectAlreadyDone)
    assert isinstance(missing, EffectNotFound)
    assert isinstance(after, EffectAlreadyDone)
    assert isinstance(rearmed, EffectEnqueued)
    assert rearmed.effect.done_at is None
    assert only_submit == ()
