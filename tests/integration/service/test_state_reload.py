"""What the processor holds after an input is what it reads back from the store:
``load_state`` after ``apply`` equals the state ``domain.step`` produced, for any sequence
of inputs (Hypothesis, on a real SQLite store; we are the whole set, so a signature is a
quorum and every status is reachable)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lone_validator import CFX, TOKEN, VAULT, lone_event, lone_pack, lone_processor

from relayer.api.metrics import Metrics
from relayer.domain.packs import TokenRules
from relayer.domain.transfer import (
    AlreadyReleased,
    CancelledOnDestination,
    Confirmed,
    DelayedOnDestination,
    Input,
    Orphaned,
    RefundedOnSource,
    ReleaseConfirmed,
    Reviewed,
    SubmissionSent,
    Vetoed,
)
from relayer.domain.types import Address, Direction, Hash32, SourceEvent
from relayer.service.processor import Applied, Processor
from relayer.store import Store, TransferStatus

NONCES = itertools.count(1)
UNALLOWED = Address(b"\x0f" * 20)  # the policy refuses it
REVIEW_ABOVE = 10**21  # the pack holds larger amounts for review

# one input kind per name; each is built for the example's transfer
KINDS = (
    "confirmed",
    "orphaned",
    "sent_1",
    "sent_2",
    "released",
    "already_released",
    "delayed",
    "cancelled",
    "approved",
    "rejected",
    "vetoed",
    "refunded",
)


def _input(kind: str, event: SourceEvent) -> Input:
    tid = event.transfer_id
    return {
        "confirmed": Confirmed(event),
        "orphaned": Orphaned(tid),
        "sent_1": SubmissionSent(tid, Hash32(b"\x51" * 32)),
        "sent_2": SubmissionSent(tid, Hash32(b"\x52" * 32)),
        "released": ReleaseConfirmed(tid, Hash32(b"\xee" * 32)),
        "already_released": AlreadyReleased(tid),
        "delayed": DelayedOnDestination(tid, 2_000_000_000),
        "cancelled": CancelledOnDestination(tid),
        "approved": Reviewed(tid, True, "alice", "checked"),
        "rejected": Reviewed(tid, False, "bob", "unclear"),
        "vetoed": Vetoed(tid, "carol", "court order"),
        "refunded": RefundedOnSource(tid),
    }[kind]


def _event(variant: str) -> SourceEvent:
    event = lone_event(5 * 10**6 + next(NONCES), UNALLOWED if variant == "refused" else TOKEN)
    return replace(event, amount=2 * REVIEW_ABOVE) if variant == "held" else event


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def processor(
    loop: asyncio.AbstractEventLoop, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Processor]:
    path: Path = tmp_path_factory.mktemp("reload") / "relayer.db"
    store = loop.run_until_complete(Store.open(f"sqlite+aiosqlite:///{path}", migrate_schema=True))
    pack = lone_pack(TokenRules(max_per_transfer=10**30, review_above=REVIEW_ABOVE))
    yield lone_processor(store, Metrics(), pack=pack)
    loop.run_until_complete(store.close())


async def _check(
    processor: Processor, variant: str, kinds: list[str], reached: set[TransferStatus | None]
) -> None:
    event = _event(variant)
    tid = event.transfer_id
    async with processor.writer.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], 1000)
    for kind in kinds:
        async with processor.writer.transaction() as tx:
            before = await processor.load_state(tx, tid)
            result = await processor.apply(tx, tid, _input(kind, event))
        async with processor.store.reader() as tx:
            reloaded = await processor.load_state(tx, tid)
        expected = result.state if isinstance(result, Applied) else before
        assert reloaded == expected, f"after {kind} (inputs {kinds})"
        reached.add(None if reloaded is None else reloaded.status)
    # a halt (an input contradicting a signature) would stop signing on the chain for the
    # next examples: the operator acknowledges it, as after an investigation
    async with processor.writer.transaction() as tx:
        for alert in await tx.open_alerts():
            await tx.acknowledge_alert(alert.id, "test")


def test_load_state_reads_back_what_apply_decided(
    loop: asyncio.AbstractEventLoop, processor: Processor
) -> None:
    reached: set[TransferStatus | None] = set()

    @settings(max_examples=150, deadline=None)
    @given(
        variant=st.sampled_from(["allowed", "refused", "held"]),
        kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=8),
    )
    # every status, whatever the random draw (the assertion below counts on these)
    @example(variant="allowed", kinds=["sent_1", "confirmed", "sent_1", "sent_2", "released"])
    @example(variant="allowed", kinds=["confirmed", "sent_1", "delayed", "cancelled"])
    @example(variant="allowed", kinds=["confirmed", "sent_2", "already_released"])
    @example(variant="allowed", kinds=["orphaned", "confirmed", "orphaned"])
    @example(variant="refused", kinds=["confirmed", "delayed", "released"])
    @example(variant="held", kinds=["confirmed", "approved", "sent_1", "released"])
    @example(variant="held", kinds=["confirmed", "rejected", "approved", "delayed"])
    @example(variant="held", kinds=["confirmed", "orphaned", "confirmed", "released"])
    @example(variant="allowed", kinds=["confirmed", "vetoed", "delayed", "released"])
    @example(variant="refused", kinds=["confirmed", "vetoed", "cancelled", "refunded"])
    @example(variant="held", kinds=["confirmed", "vetoed", "vetoed", "cancelled"])
    def check(variant: str, kinds: list[str]) -> None:
        loop.run_until_complete(_check(processor, variant, kinds, reached))

    check()
    # the examples (the explicit ones at least) drove transfers everywhere: confirmed and
    # attested pass within one input here (we are the whole set, so the policy, the
    # signature and the quorum follow the confirmation in its transaction)
    transient = {TransferStatus.CONFIRMED, TransferStatus.ATTESTED}
    assert set(TransferStatus) - reached == transient
