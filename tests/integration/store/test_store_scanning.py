"""record_scan, cursors, reorg rewind and transfer reads, on both backends."""

from __future__ import annotations

import dataclasses

import pytest
from store_factories import CONFLUX, ETHEREUM, VAULT, make_event, rand_hash

from relayer.domain.types import UINT256_MAX, Address, Direction, Hash32
from relayer.store import CursorRegressionError, Store, TransferStatus
from relayer.store.outcomes import (
    EventConflict,
    EventDuplicate,
    EventInserted,
    EventRelocated,
    StatusChanged,
    StatusMismatch,
    StatusUnchanged,
    TransferNotFound,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")
TO_ETH = Direction.TO_ETHEREUM


async def test_record_scan_amount_uint256_max_round_trips(store: Store, nonce: int) -> None:
    event = make_event(nonce, amount=UINT256_MAX)
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event], 101)
    async with store.transaction() as tx:
        stored = await tx.get_transfer(event.transfer_id)
    assert stored is not None
    assert stored.amount == UINT256_MAX == 2**256 - 1
    assert stored.status is TransferStatus.OBSERVED
    assert (stored.sender, stored.recipient, stored.nonce) == (
        event.sender,
        event.recipient,
        nonce,
    )


async def test_record_scan_amounts_keep_exact_values(store: Store) -> None:
    amounts = [0, 1, 10**18 + 1, 2**255, 2**256 - 2, UINT256_MAX]
    events = [make_event(5000 + i, amount=a) for i, a in enumerate(amounts)]
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, events, 101)
    async with store.transaction() as tx:
        got = [await tx.get_transfer(e.transfer_id) for e in events]
    assert [t.amount for t in got if t is not None] == amounts


async def test_get_transfers_reads_many_in_one_go_and_omits_unknown_ids(store: Store) -> None:
    events = [make_event(7000 + i) for i in range(3)]
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, events, 101)
    unknown = rand_hash()
    async with store.reader() as tx:
        got = await tx.get_transfers(
            [e.transfer_id for e in events] + [unknown, events[0].transfer_id]
        )
        one_by_one = [await tx.get_transfer(e.transfer_id) for e in events]
        assert await tx.get_transfers([]) == {}
    assert set(got) == {e.transfer_id for e in events}
    assert [got[e.transfer_id] for e in events] == one_by_one


async def test_record_scan_duplicate_is_idempotent(store: Store, nonce: int) -> None:
    event = make_event(nonce)
    async with store.transaction() as tx:
        first = await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event], 101)
    async with store.transaction() as tx:
        again = await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event, event], 102)
    assert first.events == (EventInserted(event.transfer_id),)
    assert again.events == (EventDuplicate(event.transfer_id),) * 2
    async with store.transaction() as tx:
        counts = await tx.counts_by_status()
    assert counts[TransferStatus.OBSERVED] == 1


async def test_record_scan_conflicting_content_is_reported(store: Store, nonce: int) -> None:
    event = make_event(nonce)
    tampered = dataclasses.replace(event, amount=event.amount + 1)
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event], 101)
        scan = await tx.record_scan(CONFLUX, VAULT, TO_ETH, [tampered], 101)
        stored = await tx.get_transfer(event.transfer_id)
    assert scan.conflicts == (
        EventConflict(event.transfer_id, ("amount",), TransferStatus.OBSERVED),
    )
    assert stored is not None
    assert stored.amount == event.amount


async def test_record_scan_same_nonce_other_id_is_conflict(store: Store, nonce: int) -> None:
    event = make_event(nonce)
    impostor = dataclasses.replace(event, transfer_id=rand_hash())
    async with store.transaction() as tx:
        scan = await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event, impostor], 101)
        missing = await tx.get_transfer(impostor.transfer_id)
    assert scan.events[1] == EventConflict(
        impostor.transfer_id, ("transfer_id",), TransferStatus.OBSERVED
    )
    assert missing is None


async def test_record_scan_relocates_unconfirmed_conflicts_confirmed(
    store: Store, nonce: int
) -> None:
    event = make_event(nonce, block_number=100)
    moved = dataclasses.replace(event, block_number=103, block_hash=rand_hash())
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event], 101)
        relocated = await tx.record_scan(CONFLUX, VAULT, TO_ETH, [moved], 104)
        await tx.set_status(event.transfer_id, TransferStatus.CONFIRMED)
        moved_again = dataclasses.replace(moved, block_number=104, block_hash=rand_hash())
        conflict = await tx.record_scan(CONFLUX, VAULT, TO_ETH, [moved_again], 105)
    assert relocated.events == (EventRelocated(event.transfer_id, 100, event.block_hash),)
    assert conflict.events == (
        EventConflict(event.transfer_id, ("block_number", "block_hash"), TransferStatus.CONFIRMED),
    )


async def test_record_scan_failure_mid_transaction_writes_nothing(store: Store, nonce: int) -> None:
    events = [make_event(nonce), make_event(nonce + 100_000)]

    class Crash(Exception):
        pass

    async def scan_then_crash() -> None:
        async with store.transaction() as tx:
            await tx.record_scan(CONFLUX, VAULT, TO_ETH, events, 500, [(499, rand_hash())])
            raise Crash

    with pytest.raises(Crash):
        await scan_then_crash()
    async with store.transaction() as tx:
        assert await tx.get_cursor(CONFLUX) is None
        assert await tx.get_transfer(events[0].transfer_id) is None
        assert await tx.block_hash_at(CONFLUX, 499) is None
        assert await tx.audit_entries() == ()


async def test_record_scan_cursor_advances_and_never_regresses(store: Store) -> None:
    h = rand_hash()
    async with store.transaction() as tx:
        scan = await tx.record_scan(CONFLUX, VAULT, TO_ETH, [], 200, [(199, h)])
    assert (scan.cursor.next_block, scan.cursor.last_scanned_block) == (200, 199)
    assert scan.cursor.last_scanned_hash == h
    with pytest.raises(CursorRegressionError):
        await _scan_empty(store, 150)
    async with store.transaction() as tx:
        cursor = await tx.get_cursor(CONFLUX)
    assert cursor is not None
    assert cursor.next_block == 200


async def _scan_empty(store: Store, next_block: int) -> None:
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [], next_block)


async def test_record_scan_prunes_old_block_hashes(store: Store) -> None:
    blocks = [(n, rand_hash()) for n in range(10, 30)]
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [], 30, blocks, keep_blocks=5)
        recent = await tx.recent_blocks(CONFLUX)
    assert [n for n, _ in recent] == [29, 28, 27, 26, 25]
    assert recent[0][1] == blocks[-1][1]


async def test_rewind_lists_observed_and_acted_upon_and_changes_no_status(
    store: Store, nonce: int
) -> None:
    kept = make_event(nonce, block_number=10)
    shallow = make_event(nonce + 1, block_number=12)
    acted = make_event(nonce + 2, block_number=13)
    blocks = [(n, rand_hash()) for n in range(10, 15)]
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [kept, shallow, acted], 15, blocks)
        await tx.set_status(acted.transfer_id, TransferStatus.CONFIRMED)
    async with store.transaction() as tx:
        rewound = await tx.rewind(CONFLUX, 11)
        cursor = await tx.get_cursor(CONFLUX)
        orphan = await tx.get_transfer(shallow.transfer_id)
        assert await tx.block_hash_at(CONFLUX, 12) is None
    assert rewound.orphaned == (shallow.transfer_id,)
    assert rewound.acted_upon == (acted.transfer_id,)
    assert cursor is not None
    assert cursor.next_block == 12
    assert cursor.last_scanned_hash == blocks[1][1]
    assert orphan is not None
    assert orphan.status is TransferStatus.OBSERVED  # the processor orphans it (domain.step)


async def test_rows_read_before_a_rewind_in_the_same_transaction_are_read_again(
    store: Store,
) -> None:
    """A row read earlier in a transaction is not served from memory after a core delete
    of its table (the rewind's), and rescanning the block stores its new hash."""
    blocks = [(n, rand_hash()) for n in range(10, 15)]
    again = rand_hash()
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [], 15, blocks)
    async with store.transaction() as tx:
        assert await tx.block_hash_at(CONFLUX, 13) == blocks[3][1]  # now read in this tx
        await tx.rewind(CONFLUX, 11)
        assert await tx.block_hash_at(CONFLUX, 13) is None
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [], 14, [(13, again)])
        assert await tx.block_hash_at(CONFLUX, 13) == again
    async with store.transaction() as tx:
        assert await tx.block_hash_at(CONFLUX, 13) == again


async def test_set_status_compare_and_set(store: Store, nonce: int) -> None:
    event = make_event(nonce)
    tid = event.transfer_id
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event], 101)
        changed = await tx.set_status(tid, TransferStatus.CONFIRMED)
        same = await tx.set_status(tid, "confirmed")
        refused = await tx.set_status(
            tid, TransferStatus.RELEASED, expected={TransferStatus.SUBMITTED}
        )
        unknown = await tx.set_status(Hash32(b"\x01" * 32), TransferStatus.CONFIRMED)
        record = await tx.get_transfer(tid)
    assert changed == StatusChanged(tid, TransferStatus.OBSERVED, TransferStatus.CONFIRMED)
    assert same == StatusUnchanged(tid, TransferStatus.CONFIRMED)
    assert isinstance(refused, StatusMismatch)
    assert refused.current is TransferStatus.CONFIRMED
    assert isinstance(unknown, TransferNotFound)
    assert record is not None
    assert record.confirmed_at is not None


async def test_transfer_view_by_id_and_by_tx_hash(store: Store, nonce: int) -> None:
    event = make_event(nonce)
    release_tx = rand_hash()
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event], 101)
        await tx.set_status(event.transfer_id, TransferStatus.RELEASED, release_tx_hash=release_tx)
    async with store.transaction() as tx:
        by_id = await tx.transfer_view(event.transfer_id)
        by_tx = await tx.transfer_view(event.tx_hash)
        none = await tx.transfer_view(rand_hash())
        released = await tx.transfers_by_status(TransferStatus.RELEASED)
    assert by_id is not None
    assert by_tx is not None
    assert none is None
    assert by_id.transfer == by_tx.transfer
    assert by_id.transfer.release_tx_hash == release_tx
    assert by_id.transfer.released_at is not None
    assert [t.transfer_id for t in released] == [event.transfer_id]


async def test_reader_sees_committed_state_and_refuses_writes_on_postgres(
    store: Store, nonce: int
) -> None:
    event = make_event(nonce)
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [event], 101)
    async with store.reader() as reader:
        counts = await reader.counts_by_status()
        view = await reader.transfer_view(event.transfer_id)
    assert counts[TransferStatus.OBSERVED] == 1
    assert view is not None
    if store.dialect == "postgresql":
        with pytest.raises(Exception, match="read-only"):
            await _write_through_reader(store)


async def _write_through_reader(store: Store) -> None:
    async with store.reader() as reader:
        await reader.raise_alert("warning", None, {})


async def test_reader_runs_while_a_writer_holds_the_lock(store: Store, nonce: int) -> None:
    event = make_event(nonce)
    async with store.transaction() as writer:
        await writer.record_scan(CONFLUX, VAULT, TO_ETH, [event], 101)
        async with store.reader() as reader:  # must not wait for the writer
            assert await reader.get_transfer(event.transfer_id) is None


async def test_transfers_by_status_of_one_source_chain(store: Store, nonce: int) -> None:
    """The confirm loop sweeps each chain apart: one chain's backlog never hides another's."""
    ours = make_event(nonce)
    other = make_event(nonce, chain_id=ETHEREUM, contract=Address(b"\x22" * 20))
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [ours], 101)
        await tx.record_scan(ETHEREUM, other.src_contract, Direction.TO_CONFLUX, [other], 101)
    async with store.reader() as tx:
        conflux = await tx.transfers_by_status(TransferStatus.OBSERVED, 1000, CONFLUX)
        ethereum = await tx.transfers_by_status(TransferStatus.OBSERVED, 1000, ETHEREUM)
        both = await tx.transfers_by_status(TransferStatus.OBSERVED, 1000)
    assert ours.transfer_id in {t.transfer_id for t in conflux}
    assert other.transfer_id not in {t.transfer_id for t in conflux}
    assert {t.src_chain_id for t in conflux} == {CONFLUX}
    assert other.transfer_id in {t.transfer_id for t in ethereum}
    assert {t.src_chain_id for t in ethereum} == {ETHEREUM}
    assert {ours.transfer_id, other.transfer_id} <= {t.transfer_id for t in both}
