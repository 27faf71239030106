"""A refusal read back from the store is the one decided: its code and detail as stored,
never re-parsed from the status line; a code this version does not know stops the relayer
instead of turning into another reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lone_validator import CFX, VAULT, lone_event, lone_processor

from relayer.api.metrics import Metrics
from relayer.domain.policy import RefusalReason, Refused
from relayer.domain.types import Address, Direction, Hash32
from relayer.service.processor import Processor, UnknownRefusalError
from relayer.store import Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")
UNROUTED = Address(b"\x0f" * 20)  # neither allowed nor routed: the policy refuses it


@pytest_asyncio.fixture(loop_scope="session")
async def processor(tmp_path: Path) -> AsyncIterator[Processor]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True)
    try:
        yield lone_processor(store, Metrics())
    finally:
        await store.close()


async def _stored_refused(processor: Processor, nonce: int, code: str, detail: str) -> Hash32:
    """A transfer stored as refused by us, as the processor's persist writes it."""
    event = lone_event(9 * 10**6 + nonce, UNROUTED)
    async with processor.writer.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], 1000)
        await tx.set_status(event.transfer_id, TransferStatus.REFUSED, f"{code}: {detail}")
        await tx.record_refusal(event.transfer_id, processor.signer.address, code, detail)
    return event.transfer_id


@pytest.mark.parametrize("reason", list(RefusalReason))
async def test_every_reason_reads_back_as_stored(
    processor: Processor, reason: RefusalReason
) -> None:
    detail = "limit: 5 (per transfer): 7 asked"  # the separator inside the detail
    tid = await _stored_refused(processor, 1 + list(RefusalReason).index(reason), reason, detail)
    async with processor.store.reader() as tx:
        state = await processor.load_state(tx, tid)
    assert state is not None
    assert state.refusal == Refused(reason, detail)


async def test_a_decided_refusal_survives_the_reload(processor: Processor) -> None:
    event = lone_event(9 * 10**6 + 100, UNROUTED)
    async with processor.writer.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], 1000)
    await processor.sweep()  # confirmed, then refused by the policy
    async with processor.store.reader() as tx:
        state = await processor.load_state(tx, event.transfer_id)
    assert state is not None
    assert state.status is TransferStatus.REFUSED
    assert state.refusal is not None
    assert state.refusal.reason is RefusalReason.TOKEN_NOT_ALLOWED
    assert "0x0f0f" in state.refusal.detail.lower() and "not allowed" in state.refusal.detail


async def test_an_unknown_code_stops_instead_of_becoming_another_reason(
    processor: Processor,
) -> None:
    tid = await _stored_refused(processor, 200, "issuer_frozen", "a code from a newer version")
    async with processor.store.reader() as tx:
        with pytest.raises(UnknownRefusalError, match="issuer_frozen"):
            await processor.load_state(tx, tid)
