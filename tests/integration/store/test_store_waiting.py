"""The reads behind the waiting-time gauges (``relayer_transfers_waiting_seconds``,
``relayer_transfers_delayed_next_executable_timestamp_seconds``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from store_factories import CONFLUX, VAULT, make_event

from relayer.domain.types import Direction
from relayer.store import Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")

TO_ETH = Direction.TO_ETHEREUM
WAITING = (TransferStatus.OBSERVED, TransferStatus.CONFIRMED, TransferStatus.DELAYED)


async def test_waiting_since_gives_the_oldest_per_status(store: Store, nonce: int) -> None:
    before = datetime.now(UTC)
    first, second, third, done = (make_event(nonce + i * 1000) for i in range(4))
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [first, second, third, done], 101)
    async with store.transaction() as tx:
        await tx.set_status(first.transfer_id, TransferStatus.CONFIRMED)
        await tx.set_status(second.transfer_id, TransferStatus.CONFIRMED)
        await tx.set_status(done.transfer_id, TransferStatus.RELEASED)
    after = datetime.now(UTC)
    async with store.reader() as reader:
        since = await reader.waiting_since(WAITING)
        confirmed = await reader.get_transfers([first.transfer_id, second.transfer_id])
        observed = await reader.get_transfer(third.transfer_id)
    assert set(since) == {TransferStatus.OBSERVED, TransferStatus.CONFIRMED}  # none delayed
    stamps = [r.confirmed_at for r in confirmed.values()]
    assert since[TransferStatus.CONFIRMED] == min(s for s in stamps if s is not None)
    assert observed is not None
    assert since[TransferStatus.OBSERVED] == observed.observed_at  # not confirmed: observed
    assert all(before <= at <= after for at in since.values())


async def test_next_delayed_executable_at_is_the_earliest(store: Store, nonce: int) -> None:
    late, soon, gone = (make_event(nonce + i * 1000) for i in range(3))
    async with store.reader() as reader:
        assert await reader.next_delayed_executable_at() is None
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, TO_ETH, [late, soon, gone], 101)
        await tx.set_status(late.transfer_id, TransferStatus.DELAYED, executable_at=2_000_000_000)
        await tx.set_status(soon.transfer_id, TransferStatus.DELAYED, executable_at=1_900_000_000)
        await tx.set_status(gone.transfer_id, TransferStatus.DELAYED, executable_at=1_000)
        await tx.set_status(gone.transfer_id, TransferStatus.RELEASED)  # executed: not waiting
    async with store.reader() as reader:
        assert await reader.next_delayed_executable_at() == 1_900_000_000
