"""The submit runner's scheduling on a real (SQLite) store: how due releases are packed
into batches, split over the gas budget, halved when a batch reverts, and what goes on the
single path afterwards.

The destination is scripted (the submitter's own outcomes are tested against anvil and the
conflux-rust node in ``tests/integration/chain/test_chain_submitter.py``, and batches end to
end in ``tests/e2e/test_batching.py``); what is tested here is what the runner sends, in
which groups, and what it stores for each transfer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from eth_abi import encode
from lone_validator import CFX, ETH, GATEWAY, TOKEN, VAULT, lone_processor

from relayer.api.metrics import Metrics
from relayer.chain.bridge import RELEASE_SKIPPED_TOPIC, Progress, selector
from relayer.chain.rpc_types import LogEntry
from relayer.chain.submission import (
    AwaitingFinality,
    Failed,
    Held,
    Mined,
    OverBudget,
    SendJournal,
    SentTx,
    SubmitOutcome,
    SubmitRequest,
)
from relayer.domain.types import (
    Address,
    Direction,
    Hash32,
    SourceEvent,
    hex32,
)
from relayer.errors import FatalError, RpcResponseError
from relayer.keys import signer_from_hex
from relayer.service.batching import BatchPolicy
from relayer.service.processor import Processor
from relayer.service.submit import (
    STUCK_AFTER_ROUNDS,
    Destination,
    StoreSendJournal,
    SubmitRunner,
    submitter_rank,
)
from relayer.store import EffectKind, Store, SubmissionStatus, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOKEN_PAUSED = selector("TokenPaused(address)")

Answer = Callable[[SubmitRequest], SubmitOutcome]


def _hash(n: int) -> Hash32:
    return Hash32(n.to_bytes(32, "big"))


class ScriptedSubmitter:
    """Answers each request from ``answer`` and keeps every request it was given; a
    transaction its answer names is recorded in ``journal`` first, at the next nonce, as
    ``Submitter`` records each one before it is broadcast."""

    sender = Address(b"\x55" * 20)
    config = SimpleNamespace(rule=None, chain_id=ETH)

    def __init__(self, journal: SendJournal) -> None:
        self.journal = journal
        self.requests: list[SubmitRequest] = []
        self.nonce = 0
        self.answer: Answer = lambda req: Mined(_hash(len(self.requests)), 10, 21_000)

    async def submit(self, req: SubmitRequest) -> SubmitOutcome:
        self.requests.append(req)
        outcome = self.answer(req)
        tx_hash = getattr(outcome, "tx_hash", None)
        if isinstance(tx_hash, bytes) and req.journaled:  # as Submitter: commitRoot is not
            sent = SentTx(req.transfer_ids, self.nonce, Hash32(tx_hash), 3 * 10**9, 10**9)
            self.nonce += 1
            await self.journal.record(ETH, self.sender, sent)
        return outcome

    async def progress(self, req: SubmitRequest, block: object = "latest") -> Progress:
        return Progress.TO_DO


class OpenGateway:
    """The destination's reads: never paused."""

    async def paused(self) -> bool:
        return False


@dataclasses.dataclass
class Env:
    store: Store
    processor: Processor
    submitter: ScriptedSubmitter
    metrics: Metrics
    next_nonce: int = 0

    def runner(self, max_releases: int = 64, gas_budget: int = 10_000_000) -> SubmitRunner:
        dst = Destination(ETH, GATEWAY, "release", self.submitter, OpenGateway(), 100)  # type: ignore[arg-type]
        return SubmitRunner(
            self.processor,
            {ETH: dst},
            self.metrics,
            grace_period_s=3.0,
            poll_interval_s=0.1,
            batch=BatchPolicy(max_releases, gas_budget, 0.0),
        )

    async def at_quorum(self, count: int) -> list[Hash32]:
        """``count`` new transfers observed, confirmed and signed: each at its quorum (we
        are the whole set), with a SUBMIT effect due."""
        events = []
        for _ in range(count):
            self.next_nonce += 1
            events.append(_event(self.next_nonce))
        async with self.store.transaction() as tx:
            await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, events, 1000)
        await self.processor.sweep()
        for event in events:
            assert await self.status(event.transfer_id) is TransferStatus.QUORUM
        return [e.transfer_id for e in events]

    async def status(self, transfer_id: Hash32) -> TransferStatus:
        async with self.store.reader() as tx:
            rec = await tx.get_transfer(transfer_id)
        assert rec is not None
        return rec.status

    async def submissions(self, transfer_id: Hash32) -> list[tuple[bytes, SubmissionStatus]]:
        async with self.store.reader() as tx:
            rows = await tx.submissions_for(transfer_id)
        return [(bytes(r.tx_hash), SubmissionStatus(r.status)) for r in rows]

    async def open_submits(self) -> set[Hash32]:
        async with self.store.reader() as tx:
            effects = await tx.pending_effects([EffectKind.SUBMIT], limit=1000)
        return {e.transfer_id for e in effects}

    def counted(self, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "relayer_submissions_total", {"outcome": outcome}
        )
        return value or 0.0


def _event(nonce: int) -> SourceEvent:
    return SourceEvent(
        transfer_id=_hash(10**6 + nonce),
        src_chain_id=CFX,
        src_contract=VAULT,
        nonce=nonce,
        src_token=TOKEN,
        sender=Address(b"\x33" * 20),
        recipient=Address(b"\x44" * 20),
        amount=5 * 10**18 + nonce,
        dst_chain_id=ETH,
        block_number=900,
        block_hash=_hash(900),
        tx_hash=Hash32(nonce.to_bytes(32, "little")),
        log_index=nonce % 1000,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True)
    metrics = Metrics()
    processor = lone_processor(store, metrics)
    try:
        yield Env(store, processor, ScriptedSubmitter(StoreSendJournal(processor.writer)), metrics)
    finally:
        await store.close()


def _skipped_log(transfer_id: Hash32, reason: bytes, tx_hash: Hash32) -> LogEntry:
    return LogEntry(
        address=GATEWAY,
        topics=(RELEASE_SKIPPED_TOPIC, transfer_id),
        data=encode(["bytes4"], [reason]),
        block_number=10,
        block_hash=_hash(10),
        tx_hash=tx_hash,
        log_index=0,
    )


async def test_due_releases_go_out_in_batches_of_the_configured_size(env: Env) -> None:
    tids = await env.at_quorum(5)
    await env.runner(max_releases=2).run_due()
    sizes = [len(r.transfer_ids) for r in env.submitter.requests]
    assert sizes == [2, 2, 1]  # the last one alone: a single release, not a batch of one
    assert [bool(r.batch) for r in env.submitter.requests] == [True, True, False]
    assert [t for r in env.submitter.requests for t in r.transfer_ids] == tids
    assert all(r.gas_budget == 10_000_000 for r in env.submitter.requests if r.batch)
    for n, tid in enumerate(tids):
        assert await env.status(tid) is TransferStatus.SUBMITTED
        tx_hash = _hash(n // 2 + 1)
        assert await env.submissions(tid) == [(bytes(tx_hash), SubmissionStatus.MINED)]
        async with env.store.reader() as tx:
            (row,) = await tx.submissions_for(tid)
        assert (row.tx_nonce, row.max_fee_per_gas) == (n // 2, 3 * 10**9)  # the journal's row
    assert env.counted("mined") == 5
    assert (
        env.metrics.registry.get_sample_value(
            "relayer_batch_releases_count", {"chain_id": str(ETH)}
        )
        == 2
    )
    assert await env.open_submits() == set(tids)  # open until the execution is final


async def test_what_a_batch_carried_is_looked_at_again_on_the_single_path(env: Env) -> None:
    tids = await env.at_quorum(3)
    runner = env.runner()
    await runner.run_due()
    assert [len(r.transfer_ids) for r in env.submitter.requests] == [3]
    env.submitter.answer = lambda req: AwaitingFinality(req.transfer_id)
    await runner.run_due()
    again = env.submitter.requests[1:]
    assert [r.batch for r in again] == [(), (), ()]  # never in a second batch
    assert [r.transfer_id for r in again] == tids


async def test_a_batch_over_the_gas_budget_is_split_until_each_part_fits(env: Env) -> None:
    tids = await env.at_quorum(6)
    per_release = 1_000_000

    def answer(req: SubmitRequest) -> SubmitOutcome:
        gas = per_release * len(req.transfer_ids)
        if gas > 2_500_000:
            return OverBudget(gas, 2_500_000)
        return Mined(_hash(100 + len(env.submitter.requests)), 10, gas)

    env.submitter.answer = answer
    await env.runner(gas_budget=2_500_000).run_due()
    sizes = [len(r.transfer_ids) for r in env.submitter.requests]
    assert sizes == [6, 2, 2, 2]
    mined = [t for r in env.submitter.requests[1:] for t in r.transfer_ids]
    assert mined == tids  # each sent in exactly one transaction that went out
    for tid in tids:
        assert await env.status(tid) is TransferStatus.SUBMITTED
        assert [s for _, s in await env.submissions(tid)] == [SubmissionStatus.MINED]


async def test_a_reverting_batch_is_halved_so_one_bad_release_holds_up_only_itself(
    env: Env,
) -> None:
    tids = await env.at_quorum(4)
    bad = tids[2]

    def answer(req: SubmitRequest) -> SubmitOutcome:
        n = len(env.submitter.requests)
        if bad in req.transfer_ids:
            return Failed("reverted", _hash(200 + n))
        return Mined(_hash(200 + n), 10, 21_000)

    env.submitter.answer = answer
    failed_before = env.counted("failed")
    await env.runner().run_due()
    groups = [r.transfer_ids for r in env.submitter.requests]
    assert groups == [tuple(tids), (tids[0], tids[1]), (tids[2], tids[3]), (bad,), (tids[3],)]
    for tid in (tids[0], tids[1], tids[3]):
        assert await env.status(tid) is TransferStatus.SUBMITTED
    assert await env.status(bad) is TransferStatus.QUORUM  # still to do: retried next round
    assert [s for _, s in await env.submissions(bad)] == [SubmissionStatus.FAILED] * 3
    assert env.counted("failed") - failed_before == 4 + 2 + 1
    assert bad in await env.open_submits()


async def test_a_release_the_batch_skipped_is_held_on_its_own(env: Env) -> None:
    tids = await env.at_quorum(3)
    paused = tids[1]
    batch_hash = _hash(300)

    def answer(req: SubmitRequest) -> SubmitOutcome:
        if req.batch:
            skipped = (_skipped_log(paused, TOKEN_PAUSED, batch_hash),)
            return Mined(batch_hash, 10, 100_000, skipped)
        if req.transfer_id == paused:
            return Held(req.transfer_id, "the token is paused at the destination")
        return AwaitingFinality(req.transfer_id)

    env.submitter.answer = answer
    runner = env.runner()
    skipped_before, held_before = env.counted("skipped"), env.counted("held")
    await runner.run_due()
    assert await env.submissions(paused) == [(bytes(batch_hash), SubmissionStatus.FAILED)]
    assert await env.status(paused) is TransferStatus.QUORUM  # the batch did nothing for it
    assert env.counted("skipped") - skipped_before == 1
    await runner.run_due()
    singles = env.submitter.requests[1:]
    assert all(not r.batch for r in singles)
    assert {r.transfer_id for r in singles} == set(tids)
    assert env.counted("held") - held_before == 1


async def test_held_releases_are_counted_by_what_is_paused_and_shown_until_resumed(
    env: Env,
) -> None:
    """A token paused and a route paused at the destination: nothing is sent for their
    releases, ``relayer_releases_held{chain_id,paused}`` counts them and ``pauses()`` (the
    ``/readyz`` field) names them; once resumed they are sent and both go back to 0."""
    token_held, route_held, free = await env.at_quorum(3)
    reasons = {
        token_held: "the token is paused at the destination",
        route_held: "the route is paused at the destination",
    }

    def paused(req: SubmitRequest) -> SubmitOutcome:
        if req.transfer_id in reasons:
            return Held(req.transfer_id, reasons[req.transfer_id])
        return AwaitingFinality(req.transfer_id)

    def held(kind: str) -> float:
        labels = {"chain_id": str(ETH), "paused": kind}
        return env.metrics.registry.get_sample_value("relayer_releases_held", labels) or 0.0

    env.submitter.answer = paused
    runner = env.runner(max_releases=1)  # each on its own: a Held answer per release
    await runner.run_due()
    assert (held("token"), held("route"), held("contract")) == (1, 1, 0)
    assert runner.pauses() == {ETH: "1 releases held: route paused; 1 releases held: token paused"}
    assert {r.transfer_id for r in env.submitter.requests} == {token_held, route_held, free}
    assert await env.status(token_held) is TransferStatus.QUORUM
    assert await env.submissions(token_held) == []  # nothing sent, nothing recorded
    env.submitter.answer = lambda req: AwaitingFinality(req.transfer_id)  # resumed
    await runner.run_due()
    assert (held("token"), held("route")) == (0, 0)
    assert runner.pauses() == {}


async def test_batching_off_sends_each_release_on_its_own(env: Env) -> None:
    tids = await env.at_quorum(3)
    await env.runner(max_releases=1).run_due()
    assert [r.batch for r in env.submitter.requests] == [(), (), ()]
    assert [r.transfer_id for r in env.submitter.requests] == tids


async def test_a_reloaded_transfer_keeps_its_quorum_so_a_send_is_recorded(env: Env) -> None:
    """``load_state`` rebuilds the quorum the processor stored (it used to come back empty,
    so ``SubmissionSent`` was refused and a sent release stayed ``quorum``)."""
    (tid,) = await env.at_quorum(1)
    async with env.store.reader() as tx:
        state = await env.processor.load_state(tx, tid)
        assert state is not None and state.digest is not None
        recomputed = await env.processor.quorum(tx, tid, ETH, state.digest)
    assert state.quorum is not None and state.quorum == recomputed
    assert state.quorum.signers == (env.processor.signer.address,)
    assert state.quorum.jurisdictions == frozenset({"HK"})
    await env.runner(max_releases=1).run_due()
    assert await env.status(tid) is TransferStatus.SUBMITTED


async def test_a_destination_needs_a_submitter_that_journals_its_sends(env: Env) -> None:
    """The runner stores no transaction itself: every row comes from the journal."""
    env.submitter.journal = None  # type: ignore[assignment]
    with pytest.raises(FatalError, match="no send journal"):
        env.runner()


async def test_a_submission_that_keeps_failing_raises_one_warning_alert(env: Env) -> None:
    """Retried every round for ever (a view that always reverts, a node that refuses it),
    but after ``STUCK_AFTER_ROUNDS`` failed rounds the operator is told, once."""
    (tid,) = await env.at_quorum(1)

    def refuse(_req: SubmitRequest) -> SubmitOutcome:
        raise RpcResponseError("pending check of the release unanswered: execution reverted")

    env.submitter.answer = refuse
    runner = env.runner(max_releases=1)
    for _ in range(STUCK_AFTER_ROUNDS - 1):
        await runner.run_due()
    assert await _stuck_alerts(env) == []
    for _ in range(3):
        await runner.run_due()
    (alert,) = await _stuck_alerts(env)
    assert alert.detail["transfer_id"] == hex32(tid)
    assert alert.detail["rounds"] == STUCK_AFTER_ROUNDS
    assert "execution reverted" in alert.detail["last_error"]
    assert len(env.submitter.requests) == STUCK_AFTER_ROUNDS + 2  # still retried each round
    env.submitter.answer = lambda req: Mined(_hash(77), 10, 21_000)
    await runner.run_due()
    assert await env.status(tid) is TransferStatus.SUBMITTED


async def _stuck_alerts(env: Env) -> list[Any]:
    async with env.store.reader() as tx:
        alerts = await tx.open_alerts()
    return [a for a in alerts if a.detail.get("reason") == "submission keeps failing"]


async def test_backups_step_in_one_at_a_time_k_grace_periods_after_the_quorum(
    tmp_path: Path,
) -> None:
    """The k-th backup's release falls due k * grace_period_s after its quorum, never sooner."""

    peers = [signer_from_hex("0x" + f"{n:02x}" * 32) for n in (0x51, 0x52, 0x53, 0x54)]
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", migrate_schema=True)
    try:
        metrics = Metrics()
        processor = lone_processor(store, metrics, peers=peers, threshold=1)
        env = Env(store, processor, ScriptedSubmitter(StoreSendJournal(processor.writer)), metrics)
        runner = env.runner()
        await env.at_quorum(12)
        async with store.reader() as tx:
            effects = await tx.pending_effects([EffectKind.SUBMIT], limit=100)
        members = runner._members(ETH)
        seen = set()
        for effect in effects:
            rank = submitter_rank(effect.transfer_id, members, processor.signer.address)
            seen.add(rank)
            start = 1_000_000.0  # monotonic seconds: the first look at this effect
            assert runner.due(effect, ETH, start) is (rank == 0)
            if rank:
                assert not runner.due(effect, ETH, start + rank * 3.0 - 0.01)
                assert runner.due(effect, ETH, start + rank * 3.0 + 0.01)
        assert len(seen) > 1  # the twelve transfers put us at several places in the line
    finally:
        await store.close()
