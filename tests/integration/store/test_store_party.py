"""``transfers_of_party``: the transfers an address sent or receives, newest first (the
status API's ``?address=``, behind the portal's history)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from store_factories import CONFLUX, VAULT, make_event, rand_address

from relayer.domain.types import Direction
from relayer.store import Store

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_transfers_an_address_sent_or_receives_newest_first(
    store: Store, nonce: int
) -> None:
    me, other = rand_address(), rand_address()
    sent = dataclasses.replace(make_event(nonce), sender=me)
    received = dataclasses.replace(make_event(nonce + 1000), recipient=me)
    unrelated = dataclasses.replace(make_event(nonce + 2000), sender=other)
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    clock = store._clock  # the session's store: its clock put back after
    try:
        for i, event in enumerate((sent, received, unrelated)):
            store._clock = lambda i=i: start + timedelta(seconds=i)  # type: ignore[misc]
            async with store.transaction() as tx:
                await tx.record_scan(CONFLUX, VAULT, Direction.TO_ETHEREUM, [event], 100 + i)
    finally:
        store._clock = clock
    async with store.reader() as tx:
        mine = await tx.transfers_of_party(me)
        newest = await tx.transfers_of_party(me, limit=1)
        nobody = await tx.transfers_of_party(rand_address())
    assert [r.transfer_id for r in mine] == [received.transfer_id, sent.transfer_id]
    assert [r.transfer_id for r in newest] == [received.transfer_id]
    assert nobody == ()
