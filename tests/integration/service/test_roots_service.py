"""Committed roots in the service layer, on a real (SQLite) store: which windows a validator
signs, what it accepts from peers, when a root is ready, and what the submit runner sends
for a ready root (``commitRoot``, then ``releaseBatchWithProof``), holds back, or sends the
per-transfer way. The destination is scripted; the contracts' side is tested by forge and
end to end in ``tests/e2e/test_committed_roots.py``."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
import pytest_asyncio
from eth_abi import decode
from lone_validator import CFX, ETH, GATEWAY, VAULT, lone_event, lone_processor
from test_submit_runner import ScriptedSubmitter

from relayer.api.metrics import Metrics
from relayer.chain.bridge import CommittedRoot, Progress, selector
from relayer.chain.submission import Failed, Mined, OverBudget, SubmitOutcome, SubmitRequest
from relayer.domain.digest import release_root_digest, release_struct_hash
from relayer.domain.merkle import MultiProof, build_tree, process_multiproof, root_of
from relayer.domain.roots import Window
from relayer.domain.routing import build_release
from relayer.domain.types import Address, Direction, Hash32, Release, SourceEvent
from relayer.errors import RpcResponseError, StoreError
from relayer.gossip.wire import RootMessage
from relayer.keys import Signer, signer_from_hex
from relayer.service.batching import BatchPolicy
from relayer.service.processor import Processor
from relayer.service.roots import Roots, RootVerdict
from relayer.service.submit import Destination, StoreSendJournal, SubmitRunner, submitter_rank
from relayer.store import AlertKind, Store, Transaction, TransferStatus
from relayer.store.ops.roots import RootOps

pytestmark = pytest.mark.asyncio(loop_scope="session")

WINDOW = 4
PEER = signer_from_hex("0x" + "47" * 32)
STRANGER = signer_from_hex("0x" + "48" * 32)
COMMIT = selector("commitRoot(bytes32,uint64,uint64,uint64,bytes)")
PROVEN = selector(
    "releaseBatchWithProof(bytes32,(bytes32,uint64,uint64,address,address,uint256)[],"
    "bytes32[],bool[])"
)
RELEASE_TUPLE = "(bytes32,uint64,uint64,address,address,uint256)"
BATCH = selector("releaseBatch((bytes32,uint64,uint64,address,address,uint256)[],bytes[])")


class RootGateway:
    """The destination's reads: never paused; a root is committed once a ``commitRoot``
    request was answered ``Mined``."""

    def __init__(self, submitter: ScriptedSubmitter) -> None:
        self.submitter = submitter
        self.committed: set[bytes] = set()
        answer = submitter.answer

        def recording(req: SubmitRequest) -> SubmitOutcome:
            outcome = self.answer(req)
            if req.data[:4] == COMMIT and isinstance(outcome, Mined):
                self.committed.add(req.data[4:36])
            return outcome

        self.answer = answer
        submitter.answer = recording

    async def paused(self) -> bool:
        return False

    async def root_of(self, root: Hash32) -> CommittedRoot | None:
        if bytes(root) not in self.committed:
            return None
        return CommittedRoot(CFX, 1, WINDOW, 1, True)


@dataclasses.dataclass
class Env:
    store: Store
    processor: Processor
    metrics: Metrics
    roots: Roots
    submitter: ScriptedSubmitter
    gateway: RootGateway
    next_nonce: int = 0

    def runner(self, root_wait_s: float = 30.0, grace_period_s: float = 3.0) -> SubmitRunner:
        dst = Destination(ETH, GATEWAY, "release", self.submitter, self.gateway, 100)  # type: ignore[arg-type]
        return SubmitRunner(
            self.processor,
            {ETH: dst},
            self.metrics,
            grace_period_s=grace_period_s,
            poll_interval_s=0.1,
            batch=BatchPolicy(64, 10_000_000, 0.0),
            roots=self.roots,
            root_wait_s=root_wait_s,
        )

    async def observe(self, count: int) -> list[SourceEvent]:
        """``count`` new locks, confirmed and signed by us."""
        events = []
        for _ in range(count):
            self.next_nonce += 1
            events.append(lone_event(self.next_nonce))
        async with self.store.transaction() as tx:
            await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, events, 1000)
        await self.processor.sweep()
        return events

    async def status(self, event: SourceEvent) -> TransferStatus:
        async with self.store.reader() as tx:
            rec = await tx.get_transfer(event.transfer_id)
        assert rec is not None
        return rec.status


async def _env(tmp_path: Path, peers: list[Signer], threshold: int) -> AsyncIterator[Env]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True)
    metrics = Metrics()
    processor = lone_processor(store, metrics, peers=peers, threshold=threshold)
    roots = Roots(processor, metrics, window_size=WINDOW, source_chains=(CFX, ETH))
    submitter = ScriptedSubmitter(StoreSendJournal(processor.writer))
    try:
        yield Env(store, processor, metrics, roots, submitter, RootGateway(submitter))
    finally:
        await store.close()


@pytest_asyncio.fixture(loop_scope="session")
async def alone(tmp_path: Path) -> AsyncIterator[Env]:
    """We are the whole set (threshold 1): our own root is a quorum, and we are its primary."""
    async for env in _env(tmp_path, [], threshold=1):
        yield env


@pytest_asyncio.fixture(loop_scope="session")
async def duo(tmp_path: Path) -> AsyncIterator[Env]:
    """We and PEER are the set, threshold 1: our own root is a quorum, and which of us is
    its primary depends on the root."""
    async for env in _env(tmp_path, [PEER], threshold=1):
        yield env


@pytest_asyncio.fixture(loop_scope="session")
async def pair(tmp_path: Path) -> AsyncIterator[Env]:
    """We and PEER are the set, threshold 2: a root needs both."""
    async for env in _env(tmp_path, [PEER], threshold=2):
        yield env


def _expected_root(events: list[SourceEvent]) -> Hash32:
    from lone_validator import MIRROR

    leaves = [release_struct_hash(build_release(e, MIRROR)) for e in events]
    return root_of(build_tree(leaves))


def _signed(
    signer: Signer, env: Env, root: Hash32, first: int = 1, last: int = WINDOW
) -> RootMessage:
    domain = env.processor.domains[ETH]
    digest = release_root_digest(domain, root, CFX, first, last)
    return RootMessage(
        dst_chain_id=ETH,
        src_chain_id=CFX,
        first_nonce=first,
        last_nonce=last,
        root=root,
        set_id=1,
        digest=digest,
        signer=signer.address,
        signature=signer.sign_digest(digest),
    )


# ------------------------------------------------------------------ signing


async def test_a_decided_window_is_signed_once_and_an_undecided_one_not_at_all(
    alone: Env,
) -> None:
    env = alone
    events = await env.observe(WINDOW + 2)  # one whole window, and half of the next
    (message,) = await env.roots.sign_due()
    assert (message.first_nonce, message.last_nonce, message.src_chain_id) == (1, WINDOW, CFX)
    assert message.root == _expected_root(events[:WINDOW])
    assert message.signer == env.processor.signer.address
    assert env.roots.verdict_before_store(message) is None  # a peer would accept it
    assert await env.roots.sign_due() == []  # never twice
    await env.observe(2)  # the second window is now whole
    (second,) = await env.roots.sign_due()
    assert (second.first_nonce, second.last_nonce) == (WINDOW + 1, 2 * WINDOW)
    async with env.store.reader() as tx:
        ours = await tx.own_root_signatures(env.processor.signer.address, CFX, 1)
    assert [s.root for s in ours] == [message.root, second.root]


# ------------------------------------------------------------------ receiving


async def test_peer_roots_are_verified_before_they_are_stored(pair: Env) -> None:
    env = pair
    events = await env.observe(WINDOW)
    root = _expected_root(events)
    good = _signed(PEER, env, root)
    assert await env.roots.receive(good) is RootVerdict.ACCEPTED
    assert await env.roots.receive(good) is RootVerdict.DUPLICATE
    other = _signed(PEER, env, Hash32(b"\x99" * 32))
    assert await env.roots.receive(other) is RootVerdict.CONFLICT
    async with env.store.reader() as tx:
        stored = await tx.root_signatures(ETH, CFX, 1)
        open_alerts = await tx.open_alerts()
    assert [s.root for s in stored] == [root]  # the first one stands
    assert any(
        a.kind is AlertKind.WARNING
        and a.detail.get("reason") == "validator signed two roots for one window"
        for a in open_alerts
    )
    stranger = _signed(STRANGER, env, root)
    assert await env.roots.receive(stranger) is RootVerdict.NOT_A_MEMBER
    misaligned = _signed(PEER, env, root, first=2, last=WINDOW + 1)
    assert await env.roots.receive(misaligned) is RootVerdict.OTHER_WINDOW
    wrong_digest = dataclasses.replace(good, digest=Hash32(b"\x01" * 32))
    assert await env.roots.receive(wrong_digest) is RootVerdict.WRONG_DIGEST
    forged = dataclasses.replace(good, signature=STRANGER.sign_digest(good.digest))
    assert await env.roots.receive(forged) is RootVerdict.BAD_SIGNATURE
    elsewhere = dataclasses.replace(good, dst_chain_id=ETH + 1)
    assert await env.roots.receive(elsewhere) is RootVerdict.UNKNOWN_CHAIN


async def test_a_root_is_ready_only_with_a_quorum_over_the_root_we_signed(pair: Env) -> None:
    env = pair
    events = await env.observe(WINDOW)
    window = Window(CFX, 1, WINDOW)
    await env.roots.sign_due()
    async with env.store.reader() as tx:
        assert await env.roots.ready(tx, ETH, window) is None  # ours alone: 1 of 2
    other = Hash32(b"\x42" * 32)
    assert other != _expected_root(events)
    assert await env.roots.receive(_signed(PEER, env, other)) is RootVerdict.ACCEPTED
    async with env.store.reader() as tx:
        assert await env.roots.ready(tx, ETH, window) is None  # the peer signed another root


async def test_a_root_signed_by_both_is_ready_with_both_signatures(pair: Env) -> None:
    env = pair
    events = await env.observe(WINDOW)
    await env.roots.sign_due()
    assert (
        await env.roots.receive(_signed(PEER, env, _expected_root(events))) is RootVerdict.ACCEPTED
    )
    async with env.store.reader() as tx:
        ready = await env.roots.ready(tx, ETH, Window(CFX, 1, WINDOW))
    assert ready is not None
    assert ready.root == _expected_root(events)
    assert len(ready.quorum.bundle) == 2 * 65
    assert [r.transfer_id for r in ready.proposal.releases] == [e.transfer_id for e in events]


# ------------------------------------------------------------------ the submit runner


async def test_a_ready_root_is_committed_then_its_releases_go_with_one_multiproof(
    alone: Env,
) -> None:
    env = alone
    events = await env.observe(WINDOW)
    (message,) = await env.roots.sign_due()
    await env.runner().run_due()
    commit, proven = env.submitter.requests
    assert commit.data[:4] == COMMIT and commit.data[4:36] == message.root
    assert commit.journaled is False and commit.batch == (message.root,)
    assert proven.data[:4] == PROVEN and proven.journaled
    assert proven.transfer_ids == tuple(e.transfer_id for e in events)
    for event in events:
        assert await env.status(event) is TransferStatus.SUBMITTED
    assert env.metrics.registry.get_sample_value("relayer_roots_committed_total") == 1


async def test_releases_wait_for_their_window_while_young_then_go_per_transfer(
    alone: Env,
) -> None:
    env = alone
    events = await env.observe(WINDOW - 1)  # the window is not whole: no root yet
    assert await env.roots.sign_due() == []
    await env.runner(root_wait_s=3600).run_due()
    assert env.submitter.requests == []  # held back for the root
    assert {await env.status(e) for e in events} == {TransferStatus.QUORUM}
    await env.runner(root_wait_s=1e-6).run_due()  # waited long enough: the usual batch
    (batch,) = env.submitter.requests
    assert batch.data[:4] == BATCH
    assert batch.transfer_ids == tuple(e.transfer_id for e in events)


async def test_a_root_the_destination_will_not_take_is_given_up_for_the_per_transfer_path(
    alone: Env,
) -> None:
    env = alone
    events = await env.observe(WINDOW)
    await env.roots.sign_due()
    mined = env.gateway.answer
    env.gateway.answer = lambda req: Failed("reverted in block 10", Hash32(b"\x07" * 32))
    runner = env.runner()
    await runner.run_due()
    (commit,) = env.submitter.requests
    assert commit.data[:4] == COMMIT
    env.gateway.answer = mined
    await runner.run_due()  # the same runner remembers: per transfer now
    assert [r.data[:4] for r in env.submitter.requests[1:]] == [BATCH]
    assert env.submitter.requests[1].transfer_ids == tuple(e.transfer_id for e in events)


async def test_roots_of_unknown_source_chains_or_far_future_windows_are_not_stored(
    pair: Env,
) -> None:
    env = pair
    events = await env.observe(WINDOW)
    root = _expected_root(events)
    unknown_source = dataclasses.replace(_signed(PEER, env, root), src_chain_id=CFX + 1)
    assert await env.roots.receive(unknown_source) is RootVerdict.UNKNOWN_CHAIN
    ahead = env.roots.max_windows * WINDOW + WINDOW + 1  # beyond max_windows past nonce 4
    far = _signed(PEER, env, root, first=ahead, last=ahead + WINDOW - 1)
    assert await env.roots.receive(far) is RootVerdict.FAR_AHEAD
    near = _signed(PEER, env, root, first=ahead - WINDOW, last=ahead - 1)
    assert await env.roots.receive(near) is RootVerdict.ACCEPTED
    async with env.store.reader() as tx:
        assert [s.first_nonce for s in await tx.own_root_signatures(PEER.address, CFX, 1)] == [
            ahead - WINDOW
        ]


async def test_the_highest_nonce_is_read_again_only_when_stale_or_before_a_refusal(
    pair: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Received roots use the highest nonce read at most ``republish_interval_s`` ago; a
    window far ahead by it is checked on a fresh read before it is refused."""
    env = pair
    reads: list[int] = []
    real = RootOps.highest_nonce

    async def counted(tx: RootOps, src_chain_id: int) -> int | None:
        reads.append(src_chain_id)
        return await real(tx, src_chain_id)

    monkeypatch.setattr(RootOps, "highest_nonce", counted)
    events = await env.observe(WINDOW)  # the highest nonce is WINDOW
    assert await env.roots.receive(_signed(PEER, env, _expected_root(events))) is (
        RootVerdict.ACCEPTED
    )
    assert len(reads) == 1
    span = env.roots.max_windows * WINDOW
    first = WINDOW + span + 1  # the first window beyond the span by the cached nonce
    near = _signed(PEER, env, Hash32(b"\x21" * 32), first - WINDOW, first - 1)
    assert await env.roots.receive(near) is RootVerdict.ACCEPTED
    assert len(reads) == 1  # within the span: the cached nonce says so
    await env.observe(1)  # the highest nonce is WINDOW + 1: the next window is in the span
    beyond = _signed(PEER, env, Hash32(b"\x22" * 32), first, first + WINDOW - 1)
    assert await env.roots.receive(beyond) is RootVerdict.ACCEPTED
    assert len(reads) == 2  # far ahead by the cached nonce: read again, and accepted
    far = _signed(PEER, env, Hash32(b"\x23" * 32), first + WINDOW, first + 2 * WINDOW - 1)
    assert await env.roots.receive(far) is RootVerdict.FAR_AHEAD
    assert len(reads) == 3  # refused on a fresh read
    assert await env.roots.receive(far) is RootVerdict.FAR_AHEAD
    assert len(reads) == 4  # every refusal on a fresh read
    env.roots.republish_interval_s = 0.0  # the cached nonce is always stale now
    assert await env.roots.receive(beyond) is RootVerdict.DUPLICATE
    assert len(reads) == 5
    assert reads == [CFX] * 5


async def test_the_roots_primary_gives_a_window_up_when_it_cannot_commit_in_time(
    alone: Env,
) -> None:
    """``rootOf`` keeps failing (a node that always errs on it): the primary holds the
    window's releases back only for the root wait, then sends them per transfer."""
    env = alone
    events = await env.observe(WINDOW)
    await env.roots.sign_due()

    async def broken(root: Hash32) -> CommittedRoot | None:
        raise RpcResponseError("rootOf(bytes32): execution reverted")

    env.gateway.root_of = broken  # type: ignore[method-assign]
    runner = env.runner(root_wait_s=30.0)
    await runner.run_due()
    assert env.submitter.requests == []  # held back, retried next round
    for key in runner._root_seen:  # the root wait is over (the clock, not a sleep)
        runner._root_seen[key] -= 31.0
    await runner.run_due()
    (batch,) = env.submitter.requests
    assert batch.data[:4] == BATCH
    assert batch.transfer_ids == tuple(e.transfer_id for e in events)


async def test_a_backup_holds_a_ready_roots_releases_back_then_sends_them_checked(
    duo: Env,
) -> None:
    """PEER is the root's primary: we hold the releases back for the root wait plus our
    place in line after it, then they go per transfer (checked first, like a backup's)."""
    env = duo
    runner = env.runner(root_wait_s=30.0, grace_period_s=3.0)
    members = runner._members(ETH)
    for _ in range(8):  # the first window whose root has PEER as its primary (fixed ids)
        events = await env.observe(WINDOW)
        if submitter_rank(_expected_root(events), members, env.processor.signer.address) == 1:
            break
    else:
        raise AssertionError("no window with PEER as the root's primary in 8")
    ids = {e.transfer_id for e in events}
    await env.roots.sign_due()  # our root alone is a quorum (threshold 1)
    await runner.run_due()
    assert not ids & {t for r in env.submitter.requests for t in r.transfer_ids}
    # the root wait and our place in line are over; so are the per-transfer grace periods
    for key in runner._root_seen:
        runner._root_seen[key] -= 30.0 + 3.0 + 0.1
    for key in runner._first_seen:
        runner._first_seen[key] -= 60.0
    checked: list[bytes] = []

    async def progress(req: SubmitRequest, block: object = "latest") -> Progress:
        checked.append(req.transfer_id)
        return Progress.TO_DO

    env.submitter.progress = progress  # type: ignore[method-assign]
    await runner.run_due()
    ours = [r for r in env.submitter.requests if set(r.transfer_ids) & ids]
    assert [r.data[:4] for r in ours] == [BATCH]
    assert set(ours[0].transfer_ids) == ids
    assert ids <= set(checked)  # each checked before it went, the primary's too


async def test_a_conflicting_root_raises_one_alert_however_often_it_comes(pair: Env) -> None:
    env = pair
    events = await env.observe(WINDOW)
    await env.roots.receive(_signed(PEER, env, _expected_root(events)))
    other = _signed(PEER, env, Hash32(b"\x99" * 32))
    for _ in range(3):
        assert await env.roots.receive(other) is RootVerdict.CONFLICT
    async with env.store.reader() as tx:
        alerts = [
            a
            for a in await tx.open_alerts()
            if a.detail.get("reason") == "validator signed two roots for one window"
        ]
    assert len(alerts) == 1


async def test_a_window_whose_signature_was_not_stored_is_signed_next_round(alone: Env) -> None:
    env = alone
    await env.observe(WINDOW)
    writer = env.processor.writer
    real = writer.transaction

    def away() -> AbstractAsyncContextManager[Transaction]:
        raise StoreError("database is locked")

    writer.transaction = away  # type: ignore[method-assign]
    with pytest.raises(StoreError):
        await env.roots.sign_due()
    writer.transaction = real  # type: ignore[method-assign]
    assert len(await env.roots.sign_due()) == 1


async def test_a_root_received_while_the_database_is_away_is_counted_not_fatal(
    pair: Env,
) -> None:
    env = pair
    events = await env.observe(WINDOW)
    writer = env.processor.writer
    real = writer.transaction

    def away() -> AbstractAsyncContextManager[Transaction]:
        raise StoreError("database is locked")

    writer.transaction = away  # type: ignore[method-assign]
    message = _signed(PEER, env, _expected_root(events))
    assert await env.roots.receive(message) is RootVerdict.NOT_STORED
    writer.transaction = real  # type: ignore[method-assign]
    assert await env.roots.receive(message) is RootVerdict.ACCEPTED


async def test_no_root_over_a_window_whose_releases_all_went_their_way(alone: Env) -> None:
    env = alone
    events = await env.observe(WINDOW)
    async with env.store.transaction() as tx:
        for event in events:
            await tx.set_status(event.transfer_id, TransferStatus.SUBMITTED)
    assert await env.roots.sign_due() == []


async def test_no_root_is_signed_on_a_halted_chain(alone: Env) -> None:
    env = alone
    await env.observe(WINDOW)
    async with env.store.transaction() as tx:
        await tx.raise_alert(AlertKind.HALT, CFX, {"reason": "test"})
    assert await env.roots.sign_due() == []


async def test_our_roots_in_play_are_published_again(alone: Env) -> None:
    env = alone
    await env.observe(WINDOW)
    (signed,) = await env.roots.sign_due()
    (again,) = await env.roots.in_play()
    assert dataclasses.replace(again, signed_at=0) == dataclasses.replace(signed, signed_at=0)


def _address(text: str) -> Address:
    return Address(bytes.fromhex(text.removeprefix("0x")))


def _proven_parts(data: bytes) -> tuple[Hash32, list[Release], MultiProof]:
    """Decode ``releaseBatchWithProof`` calldata: the root, the releases, the multiproof."""
    root, items, proof, flags = decode(
        ["bytes32", f"{RELEASE_TUPLE}[]", "bytes32[]", "bool[]"], data[4:]
    )
    releases = [
        Release(Hash32(t), s, n, _address(tok), _address(to), a) for t, s, n, tok, to, a in items
    ]
    leaves = tuple(release_struct_hash(r) for r in releases)
    return Hash32(root), releases, MultiProof(leaves, tuple(Hash32(p) for p in proof), tuple(flags))


async def test_a_proven_batch_over_the_gas_budget_is_split_and_each_part_proves_its_leaves(
    alone: Env,
) -> None:
    env = alone
    events = await env.observe(WINDOW)
    (message,) = await env.roots.sign_due()
    mined = env.gateway.answer

    def answer(req: SubmitRequest) -> SubmitOutcome:
        if req.data[:4] == PROVEN and len(req.transfer_ids) > 1:
            return OverBudget(2_000_000 * len(req.transfer_ids), 3_000_000)
        return mined(req)

    env.gateway.answer = answer
    await env.runner().run_due()
    commit, *proven = env.submitter.requests
    assert commit.data[:4] == COMMIT
    sent = [r for r in proven if len(r.transfer_ids) == 1]
    assert sorted(t for r in sent for t in r.transfer_ids) == sorted(e.transfer_id for e in events)
    for request in proven:  # the split ones too: every part's multiproof leads to the root
        root, releases, proof = _proven_parts(request.data)
        assert root == message.root
        assert [r.transfer_id for r in releases] == list(request.transfer_ids)
        assert process_multiproof(proof) == message.root
