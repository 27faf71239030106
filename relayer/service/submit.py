"""Runs SUBMIT and EXECUTE effects: one deterministic primary acts at once, the others later.

For each transfer with a quorum, the primary submitter is the member of the
destination's current set at index ``transfer_id mod n`` of the ascending member list.
The primary submits as soon as the quorum is stored; the k-th backup (the members after
the primary, in ascending order, wrapping round) waits ``k * grace_period_s`` (counted from
when it stored the quorum, so it survives restarts), checks ``isProcessed`` and only then
submits: one backup at a time steps in while the primary's transaction is on its way.
An execution counts as done only at or below the destination's confirmed head: a mined
release keeps its effect open until then, so a destination reorg that drops it leads to
a new submission. What the destination did is read there with ``statusOf``: executed,
delayed by its governor (then an EXECUTE effect follows) or cancelled (then nothing is
ever sent again).

An EXECUTE effect (a delayed transfer our policy approved) is due for the primary once the
destination's latest block is at its ``executable_at`` (the contract compares
``block.timestamp``), and for the k-th backup ``k * grace_period_s`` later; it sends
``executeDelayed(transferId)`` and is done once the destination shows the transfer
executed (or cancelled) at its confirmed head.
Outcomes are recorded; a fee above the cap or an empty account leaves the effect pending
(and alerts), to be retried. While a destination contract is paused nothing is sent to it
(every send would revert): its effects wait, with one warning when the pause is first
seen and one line when it ends.

Pipelined: a round sends up to ``[pipeline] max_in_flight`` transactions per destination
before the first receipt; the submitter hands out their nonces in order (each taken and
broadcast under its send lock), follows their receipts concurrently and replaces a stuck
one at its own nonce, which also refills a gap the node left by dropping one.

Committed roots (``[pipeline] root_wait_s`` > 0; docs/contracts.md): a release never sent
waits up to ``root_wait_s`` (from its quorum) for a root over its window of source nonces
(``relayer.service.roots``). Once the root this relayer signed has a quorum, the root's
primary (``root mod n``, as for a transfer) commits it (``commitRoot``, not journaled: it
carries no transfer, and a copy sent again reverts) and sends the window's releases in
``releaseBatchWithProof``/``unlockBatchWithProof`` with one multiproof; the others hold
them back as long again, then send what is still undone the per-transfer way. A window
whose root cannot be committed, or whose set expired, goes the per-transfer way.

Batches: a destination's due releases that this relayer has never sent (the transfer is
still at ``quorum``) go out together in ``releaseBatch``/``unlockBatch`` transactions of at
most ``[pipeline] batch_max_releases``. A batch over the gas budget is cut in proportion,
one that reverts is halved (down to single releases), one the destination refuses as a
whole (paused) waits. Once a batch mined, what it skipped (``ReleaseSkipped``: done by
another relayer meanwhile, a token paused, ...) and what it carried are looked at again on
the single path, which reads what the destination did and when it is final.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from relayer.api.metrics import Metrics
from relayer.chain.bridge import (
    ALREADY_PROCESSED_SELECTOR,
    HELD_KINDS,
    BridgeContract,
    DestinationOutcome,
    Progress,
    commit_root_calldata,
    execute_delayed_calldata,
    release_batch_calldata,
    release_batch_with_proof_calldata,
    release_calldata,
    skipped_in,
)
from relayer.chain.confirmation import confirmed_head
from relayer.chain.fees import FeeAboveCap
from relayer.chain.submission import (
    AlreadyProcessed,
    AwaitingFinality,
    Failed,
    Held,
    Mined,
    OutOfFunds,
    OverBudget,
    Pending,
    SentTx,
    SubmitOutcome,
    SubmitRequest,
    execute_delayed_request,
)
from relayer.chain.submitter import Submitter
from relayer.domain.roots import Window
from relayer.domain.transfer import (
    AlreadyReleased,
    DelayedOnDestination,
    ReleaseConfirmed,
    SubmissionSent,
    TransferStatus,
)
from relayer.domain.types import Address, Hash32, hex32
from relayer.errors import FatalError, RetryableError, RpcResponseError
from relayer.log import get_logger, transfer_logger
from relayer.service.batching import BatchPolicy, chunks, halves, split_for_budget
from relayer.service.payloads import release_from_json
from relayer.service.processor import Processor
from relayer.service.roots import ReadyRoot, Roots
from relayer.service.writer import Writer
from relayer.store import (
    AlertKind,
    Effect,
    EffectKind,
    Submission,
    SubmissionStatus,
    Transaction,
    TransferRecord,
)
from relayer.wakeup import wait_for_wake

log = get_logger("submit")

PENDING_LIMIT = 1000  # SUBMIT and EXECUTE effects read per round (oldest first)
S = TransferStatus
# an effect is finished once its transfer reached one of these (the settler may see it first)
SETTLED = {
    EffectKind.SUBMIT: (S.RELEASED, S.DELAYED, S.CANCELLED, S.VETOED, S.REFUNDED),
    EffectKind.EXECUTE: (S.RELEASED, S.CANCELLED, S.VETOED, S.REFUNDED),
}
FINALITY_RECHECK_S = 2.0  # an execution awaiting finality is looked at again after this
PREFLIGHT_CONCURRENCY = 8  # isProcessed reads in flight per destination before a batch
RETRIED = (RetryableError, RpcResponseError, TimeoutError)  # logged; the next round retries
# rounds in a row that one release's submission failed before a warning alert names it (a
# view that always reverts, a node that refuses it: retried for ever, never silently)
STUCK_AFTER_ROUNDS = 20


class StoreNonceSource:
    """``NonceSource`` on the store: the next nonce after the last one the node accepted."""

    def __init__(self, writer: Writer) -> None:
        self.store = writer.store
        self.writer = writer  # the processor's: one writer at a time

    async def next_nonce(self, chain_id: int, sender: Address, chain_pending: int) -> int:
        async with self.store.reader() as tx:
            stored = await tx.committed_nonce(chain_id, sender)
        if stored is not None and stored > chain_pending:
            # We committed nonces the node no longer holds (it dropped them or restarted):
            # leaving the gap open would stall every later release, so refill it.
            log.warning(
                "stored nonce ahead of the node; refilling the gap",
                chain_id=chain_id,
                stored=stored,
                node_pending=chain_pending,
            )
        return chain_pending

    async def commit(self, chain_id: int, sender: Address, nonce: int) -> None:
        async with self.writer.transaction() as tx:
            await tx.set_committed_nonce(chain_id, sender, nonce + 1, only_up=True)

    async def resync(self, chain_id: int, sender: Address, chain_nonce: int) -> None:
        async with self.writer.transaction() as tx:
            await tx.set_committed_nonce(chain_id, sender, chain_nonce, only_up=False)


class StoreSendJournal:
    """``SendJournal`` on the store: each signed transaction is recorded through the
    writer before the submitter broadcasts it."""

    def __init__(self, writer: Writer) -> None:
        self.store = writer.store
        self.writer = writer

    async def record(self, chain_id: int, sender: Address, sent: SentTx) -> None:
        async with self.writer.transaction() as tx:
            await tx.record_sent(
                sent.transfer_ids,
                chain_id,
                sender,
                sent.nonce,
                sent.tx_hash,
                sent.max_fee_per_gas,
                sent.max_priority_fee_per_gas,
            )

    async def in_flight(
        self, chain_id: int, sender: Address, transfer_ids: tuple[Hash32, ...]
    ) -> tuple[SentTx, ...]:
        async with self.store.reader() as tx:
            rows = await tx.in_flight_submissions(chain_id, sender, transfer_ids)
        carried: dict[Hash32, list[Hash32]] = {}
        first: dict[Hash32, Submission] = {}
        for row in rows:  # by nonce, then by id
            carried.setdefault(row.tx_hash, []).append(row.transfer_id)
            first.setdefault(row.tx_hash, row)
        return tuple(
            SentTx(tuple(carried[h]), r.tx_nonce, h, r.max_fee_per_gas, r.max_priority_fee_per_gas)
            for h, r in first.items()
        )


@dataclass(frozen=True, slots=True)
class RootJob:
    """A ready root this relayer sends now, and the releases it carries (never sent)."""

    window: Window
    root: ReadyRoot
    effects: list[Effect]


@dataclass(frozen=True, slots=True)
class Destination:
    """Where releases for one destination chain go."""

    chain_id: int
    contract: Address
    function: str  # "release" (gateway) or "unlock" (vault)
    submitter: Submitter
    view: BridgeContract  # reads of the same contract (who executed a transfer)
    lookback: int  # blocks searched for an execution's log

    def __post_init__(self) -> None:
        if self.submitter.journal is None:  # the runner stores no transaction itself
            raise FatalError(f"chain {self.chain_id}: the submitter has no send journal")


def submitter_rank(transfer_id: Hash32, members: tuple[Address, ...], me: Address) -> int:
    """Where ``me`` stands in line to submit ``transfer_id``: 0 for the primary, k for the
    k-th backup (the members after the primary, in ascending order, wrapping round), and
    ``len(members)`` for a relayer outside the set (last of all)."""
    ordered = sorted(members)
    if me not in ordered:
        return len(ordered)
    first = int.from_bytes(transfer_id, "big") % len(ordered)
    return (ordered.index(me) - first) % len(ordered)


class SubmitRunner:
    """Carries out SUBMIT effects for every destination chain."""

    def __init__(
        self,
        processor: Processor,
        destinations: dict[int, Destination],
        metrics: Metrics,
        *,
        grace_period_s: float,
        poll_interval_s: float,
        batch: BatchPolicy | None = None,
        idle_wakeup_s: float = 15.0,
        enabled: bool = True,
        roots: Roots | None = None,
        root_wait_s: float = 0.0,
    ) -> None:
        self.processor = processor
        # committed roots: a release waits up to ``root_wait_s`` for its window's root
        self.roots = roots if root_wait_s > 0 else None
        self.root_wait_s = root_wait_s if roots is not None else 0.0
        self._root_seen: dict[tuple[int, Window], float] = {}  # when a root was seen ready
        self._root_given_up: set[tuple[int, Window]] = set()  # commit failed: per transfer
        self._after_root: set[int] = set()  # effects a root path may have sent: check first
        self.destinations = destinations
        self.metrics = metrics
        self.grace_period_s = grace_period_s
        self.poll_interval_s = poll_interval_s
        self.batch = batch or BatchPolicy()
        self.idle_wakeup_s = idle_wakeup_s  # the longest sleep with no effect pending
        self.busy = True  # the last round saw effects pending: look again every poll
        self.enabled = enabled
        self._first_seen: dict[int, float] = {}
        self._recheck_at: dict[int, float] = {}  # effect id -> when to look again
        self.recheck_s = max(poll_interval_s, FINALITY_RECHECK_S)
        self._locks = {chain: asyncio.Lock() for chain in destinations}
        self._paused: set[int] = set()  # destinations seen paused at the last round
        self._held: set[int] = set()  # effects the destination refused for now (Held)
        self._held_as: dict[int, tuple[int, str]] = {}  # held effect -> (chain, what paused)
        self._solo: set[int] = set()  # effects a batch carried or skipped: single path now
        self._failed_rounds: dict[int, int] = {}  # effect id -> single sends failed in a row
        self._stuck: set[int] = set()  # effects whose stuck-submission alert is stored

    def _is_primary(self, effect: Effect, dst_chain_id: int) -> bool:
        members = self._members(dst_chain_id)
        if not members:  # no current set: no primary (submitter_rank gives 0, the set size)
            return False
        return submitter_rank(effect.transfer_id, members, self.processor.signer.address) == 0

    def due(
        self, effect: Effect, dst_chain_id: int, now: float, chain_time: int | None = None
    ) -> bool:
        """SUBMIT: the primary at once, the k-th backup ``k * grace_period_s`` after the
        quorum was stored (after the root wait too, when roots are on). EXECUTE: the primary
        once ``chain_time`` (the destination's latest block timestamp) reached
        ``executable_at``, the k-th backup ``k * grace_period_s`` later. Staggered, so that
        while the primary's transaction is on its way one backup at a time steps in, not
        all of them at once (each of their transactions would release nothing)."""
        rank = submitter_rank(
            effect.transfer_id, self._members(dst_chain_id), self.processor.signer.address
        )
        if effect.kind is EffectKind.EXECUTE:
            if chain_time is None:
                return False
            executable_at = int(effect.payload.get("executable_at", 0))
            return chain_time >= executable_at + rank * self.grace_period_s
        if rank == 0:
            return True
        created = effect.created_at.timestamp()
        first_seen = self._first_seen.setdefault(effect.id, now)
        waited = max(time.time() - created, now - first_seen)
        return waited >= rank * self.grace_period_s + self.root_wait_s

    async def run(self) -> None:
        """A round whenever the processor queues an effect, every ``poll_interval_s`` while
        effects are pending (grace periods, finality, pauses are read on the clock), and
        at least every ``idle_wakeup_s`` otherwise."""
        ready = self.processor.submit_ready
        while True:
            ready.clear()
            await self.processor.committed()  # what signalled is readable now
            if self.enabled:
                try:
                    await self.run_due()
                except* RetryableError as group:  # RPC or database briefly away
                    self.busy = True
                    log.warning("submission round failed; retrying", error=str(group.exceptions))
            wait_s = self.poll_interval_s if self.busy else self.idle_wakeup_s
            if await wait_for_wake(ready, wait_s):
                await asyncio.sleep(self.batch.linger_s)  # let more work arrive: fuller batches

    async def run_due(self) -> None:
        """Submit every due SUBMIT effect, one chain's submissions at a time per chain."""
        now = time.monotonic()
        async with self.processor.store.reader() as tx:
            effects = await tx.pending_effects(
                [EffectKind.SUBMIT, EffectKind.EXECUTE], limit=PENDING_LIMIT
            )
            self.busy = bool(effects)
            # those awaiting finality are looked at again only every ``recheck_s``
            looked_at = [e for e in effects if now >= self._recheck_at.get(e.id, 0.0)]
            statuses = {e.id: await self._status(tx, e) for e in looked_at}
        settled = {e.id for e in looked_at if statuses[e.id] in SETTLED.get(e.kind, ())}
        pending_ids = {e.id for e in effects}
        self._solo &= pending_ids
        self._failed_rounds = {k: v for k, v in self._failed_rounds.items() if k in pending_ids}
        self._stuck &= pending_ids
        self._held &= pending_ids
        self._held_as = {k: v for k, v in self._held_as.items() if k in self._held}
        self._after_root &= pending_ids
        if settled:  # the settler saw them final: nothing left to send or to check
            async with self.processor.writer.transaction() as tx:
                for effect_id in settled:
                    await tx.mark_effect_done(effect_id)
                    self._recheck_at.pop(effect_id, None)
        by_chain: dict[int, list[Effect]] = {}
        chain_times: dict[int, int | None] = {}
        for effect in looked_at:
            dst = int(effect.payload.get("dst_chain_id", 0))
            if effect.id in settled or dst not in self.destinations:
                continue
            if effect.kind is EffectKind.EXECUTE and dst not in chain_times:
                chain_times[dst] = await self._chain_time(dst)
            if self.due(effect, dst, now, chain_times.get(dst)):
                by_chain.setdefault(dst, []).append(effect)
        rooted: dict[int, list[Effect]] = {}  # never sent, maybe under a committed root
        if self.roots is not None:
            for effect in looked_at:
                dst = int(effect.payload.get("dst_chain_id", 0))
                if (
                    effect.kind is EffectKind.SUBMIT
                    and statuses[effect.id] is S.QUORUM
                    and dst in self.destinations
                    and effect.id not in self._solo | self._held
                ):
                    rooted.setdefault(dst, []).append(effect)
        async with asyncio.TaskGroup() as group:
            for chain_id in by_chain.keys() | rooted.keys():
                chain_effects = by_chain.get(chain_id, [])
                unsent = {e.id for e in chain_effects if statuses[e.id] is S.QUORUM}
                group.create_task(
                    self._run_chain(chain_id, chain_effects, unsent, rooted.get(chain_id, []))
                )
        self._count_held()

    def _count_held(self) -> None:
        """``relayer_releases_held{chain_id,paused}``: releases the destination refuses for
        now because a token or a route (or, in a batch, the contract) is paused there."""
        counts = {(chain, kind): 0 for chain in self.destinations for kind in HELD_KINDS.values()}
        for key in self._held_as.values():
            counts[key] = counts.get(key, 0) + 1
        for (chain, kind), count in counts.items():
            self.metrics.releases_held.labels(str(chain), kind).set(count)

    def pauses(self) -> dict[int, str]:
        """What is paused on each destination, as the last rounds saw it (for ``/readyz``):
        the contract itself, or the tokens and routes whose releases are held."""
        seen: dict[int, list[str]] = {chain: [] for chain in self._paused}
        for chain in self._paused:
            seen[chain].append("contract paused: nothing is sent to it")
        held: dict[tuple[int, str], int] = {}
        for key in self._held_as.values():
            held[key] = held.get(key, 0) + 1
        for (chain, kind), count in sorted(held.items()):
            seen.setdefault(chain, []).append(f"{count} releases held: {kind} paused")
        return {chain: "; ".join(parts) for chain, parts in seen.items()}

    async def _chain_time(self, chain_id: int) -> int | None:
        """The timestamp of the destination's latest block (None if it has none)."""
        block = await self.destinations[chain_id].view.rpc.get_block("latest")
        return None if block is None else block.timestamp

    @staticmethod
    async def _status(tx: Transaction, effect: Effect) -> TransferStatus | None:
        rec = await tx.get_transfer(effect.transfer_id)
        return None if rec is None else rec.status

    async def _run_chain(
        self,
        chain_id: int,
        effects: list[Effect],
        unsent: set[int],
        rooted: list[Effect] | None = None,
    ) -> None:
        """Batches of what was never sent (``unsent``: effect ids) and the rest on its own,
        up to ``max_in_flight`` transactions in flight at once, each with its own nonce; a
        failure is logged and retried on a later round without stopping the others (nor
        the other chain's round). ``rooted``: releases never sent that a committed root
        may carry (they go, or wait, on the root path first)."""
        dst = self.destinations[chain_id]
        async with self._locks[chain_id]:
            try:
                if await self._destination_paused(chain_id, len(effects)):
                    return
            except RETRIED as err:
                log.warning(
                    "paused() read failed; sending anyway",
                    dst_chain_id=chain_id,
                    error=f"{type(err).__name__}: {err}",
                )
            root_jobs: list[RootJob] = []
            if rooted:
                on_root_path, root_jobs = await self._via_roots(dst, rooted)
                effects = [e for e in effects if e.id not in on_root_path]
            batched = await self._batchable(dst, effects, unsent)
            in_batches = {e.id for e in batched}
            # pipelined: up to max_in_flight transactions at once, each with its own nonce
            # (the submitter takes them in order under its send lock)
            gate = asyncio.Semaphore(self.batch.max_in_flight)

            async def gated(work: Awaitable[None]) -> None:
                async with gate:
                    await work

            async with asyncio.TaskGroup() as group:
                for job in root_jobs:  # commit, then its proven batches: one after the other
                    group.create_task(gated(self._send_under_root(dst, job)))
                for chunk in chunks(batched, self.batch.max_releases):
                    group.create_task(gated(self._submit_batch(dst, chunk)))
                for effect in effects:
                    if effect.id not in in_batches:
                        group.create_task(gated(self._submit_one(dst, effect)))

    # ------------------------------------------------------------------ committed roots

    async def _via_roots(
        self, dst: Destination, effects: list[Effect]
    ) -> tuple[set[int], list[RootJob]]:
        """What goes, or waits, on the root path this round: the effect ids taken off the
        per-transfer path, and the ready roots this relayer sends now (as their primary).

        A release whose window has no ready root waits while younger than ``root_wait_s``.
        For a ready root, every relayer gives the root path ``root_wait_s`` from when it
        saw the root ready (the primary to commit and send; a primary that could not gives
        the window up then), plus ``k * grace_period_s`` for the k-th in line after the
        root's primary: then each release goes the per-transfer way, checked first."""
        assert self.roots is not None
        by_window: dict[Window, list[Effect]] = {}
        for effect in effects:
            release = release_from_json(effect.payload["release"])
            window = self.roots.window_of(release.src_chain_id, release.nonce)
            by_window.setdefault(window, []).append(effect)
        # forget windows with nothing left to send here
        ours = {(dst.chain_id, w) for w in by_window}
        self._root_seen = {
            k: v for k, v in self._root_seen.items() if k[0] != dst.chain_id or k in ours
        }
        self._root_given_up = {k for k in self._root_given_up if k[0] != dst.chain_id or k in ours}
        for key in self._root_given_up & ours:
            for effect in by_window.pop(key[1]):
                self._after_root.add(effect.id)
        async with self.processor.store.reader() as tx:
            ready = {w: await self.roots.ready(tx, dst.chain_id, w) for w in by_window}
        held_back: set[int] = set()
        jobs: list[RootJob] = []
        wall, now = time.time(), time.monotonic()
        members, me = self._members(dst.chain_id), self.processor.signer.address
        for window, group in sorted(by_window.items()):
            root = ready[window]
            if root is None:
                young = [e for e in group if wall - e.created_at.timestamp() < self.root_wait_s]
                held_back.update(e.id for e in young)
                continue
            leaves = [e for e in group if root.proposal.leaf_index(e.transfer_id) is not None]
            key = (dst.chain_id, window)
            seen = self._root_seen.setdefault(key, now)
            rank = submitter_rank(root.root, members, me)
            if now - seen >= self.root_wait_s + rank * self.grace_period_s:
                if rank == 0:  # ours to send, and it did not go through in time
                    log.warning("root path out of time; per transfer now", window=window)
                    self._root_given_up.add(key)
                self._after_root.update(e.id for e in leaves)  # checked before it is sent
                continue
            held_back.update(e.id for e in leaves)
            if rank == 0 and leaves:
                jobs.append(RootJob(window, root, leaves))
        return held_back, jobs

    def _members(self, chain_id: int) -> tuple[Address, ...]:
        vset = self.processor.sets.current.get(chain_id)
        return () if vset is None else tuple(m.address for m in vset.members)

    async def _send_under_root(self, dst: Destination, job: RootJob) -> None:
        """Commit ``job.root`` if the destination does not have it yet, then execute its
        releases with one multiproof. A root the destination cannot take (the commit failed,
        its set expired) is given up: its releases go per transfer from the next round."""
        window, root, effects = job.window, job.root, job.effects
        rlog = log.bind(dst_chain_id=dst.chain_id, root=hex32(root.root), releases=len(effects))
        try:
            committed = await dst.view.root_of(root.root)
            if committed is None:
                w = root.proposal.window
                request = SubmitRequest(
                    transfer_id=root.root,
                    to=dst.contract,
                    data=commit_root_calldata(
                        root.root, w.src_chain_id, w.first_nonce, w.last_nonce, root.quorum.bundle
                    ),
                    batch=(root.root,),
                    journaled=False,
                )
                rlog.info("committing a root")
                outcome = await dst.submitter.submit(request)
                if isinstance(outcome, Mined):
                    self.metrics.roots_committed.inc()
                    rlog.info("root committed", tx=hex32(outcome.tx_hash))
                committed = await dst.view.root_of(root.root)  # ours, or another's meanwhile
                if committed is None:
                    rlog.warning("root not committed; per transfer now", outcome=repr(outcome))
                    self._root_given_up.add((dst.chain_id, window))
                    return
        except RETRIED as err:
            rlog.warning(
                "committing a root failed; will retry", error=f"{type(err).__name__}: {err}"
            )
            return
        if not committed.live:
            rlog.warning("root's signing set expired; per transfer now")
            self._root_given_up.add((dst.chain_id, window))
            return
        for chunk in chunks(effects, self.batch.max_releases):
            await self._submit_batch(dst, chunk, root)

    async def _batchable(
        self, dst: Destination, effects: list[Effect], unsent: set[int]
    ) -> list[Effect]:
        """The releases to pack into batches: never sent by us, not set aside for the single
        path, and (when another relayer is primary) still not done at the latest block."""
        if self.batch.max_releases < 2:
            return []
        candidates = [
            e
            for e in effects
            if e.kind is EffectKind.SUBMIT
            and e.id in unsent
            and e.id not in self._solo
            and e.id not in self._held
        ]
        if len(candidates) < 2:
            return []
        gate = asyncio.Semaphore(PREFLIGHT_CONCURRENCY)

        async def done(effect: Effect) -> bool:
            if self._is_primary(effect, dst.chain_id) and effect.id not in self._after_root:
                return False  # the first to send: nobody else did it yet
            async with gate:
                try:
                    progress = await dst.submitter.progress(self.request_for(dst, effect))
                except RETRIED:
                    return True  # unknown: leave it to the single path's own checks
                return progress is not Progress.TO_DO  # Unanswered: the single path's too

        flags = await asyncio.gather(*(done(e) for e in candidates))
        batched = [e for e, is_done in zip(candidates, flags, strict=True) if not is_done]
        return batched if len(batched) >= 2 else []

    async def _submit_one(self, dst: Destination, effect: Effect) -> None:
        try:
            await self.submit(dst, effect)
        except RETRIED as err:
            error = f"{type(err).__name__}: {err}"
            src = await self._source_chain_of(effect)
            transfer_logger(log, effect.transfer_id, src, dst.chain_id, "submitting").warning(
                "submission failed; will retry", error=error
            )
            rounds = self._failed_rounds[effect.id] = self._failed_rounds.get(effect.id, 0) + 1
            if rounds >= STUCK_AFTER_ROUNDS and effect.id not in self._stuck:
                await self._alert_stuck(dst, effect, rounds, error)
        else:
            self._failed_rounds.pop(effect.id, None)

    async def _alert_stuck(self, dst: Destination, effect: Effect, rounds: int, error: str) -> None:
        """A warning alert, once per pending effect, for a release whose submission keeps
        failing (if the database is away, the next failed round tries again)."""
        detail = {
            "reason": "submission keeps failing",
            "transfer_id": hex32(effect.transfer_id),
            "rounds": rounds,
            "last_error": error[:500],
        }
        try:
            async with self.processor.writer.transaction() as tx:
                await tx.raise_alert(AlertKind.WARNING, dst.chain_id, detail)
        except RETRIED as err:
            log.warning("stuck-submission alert not stored", error=str(err), **detail)
            return
        self._stuck.add(effect.id)

    async def _submit_batch(
        self, dst: Destination, effects: list[Effect], root: ReadyRoot | None = None
    ) -> None:
        """Send ``effects`` in one batch transaction, or split them until each part goes:
        over the gas budget in proportion, a revert in halves. With ``root`` (a committed
        root they are leaves of) it is ``releaseBatchWithProof`` with one multiproof, and a
        single one that still fails goes the per-transfer way from the next round."""
        if len(effects) == 1 and root is None:
            await self._submit_one(dst, effects[0])
            return
        if root is None:
            items = [(release_from_json(e.payload["release"]), _bundle(e)) for e in effects]
            data = release_batch_calldata(dst.function, items)
        else:  # in the multiproof's leaf order
            by_id = {e.transfer_id: e for e in effects}
            releases, proof = root.proposal.multiproof(by_id)
            effects = [by_id[r.transfer_id] for r in releases]
            data = release_batch_with_proof_calldata(
                dst.function, root.root, list(releases), list(proof.proof), list(proof.flags)
            )
        tids = tuple(e.transfer_id for e in effects)
        blog = log.bind(
            dst_chain_id=dst.chain_id,
            releases=len(effects),
            first=hex32(tids[0]),
            root=None if root is None else hex32(root.root),
        )
        request = SubmitRequest(
            transfer_id=tids[0],
            to=dst.contract,
            data=data,
            batch=tids,
            gas_budget=self.batch.gas_budget,
        )
        blog.info("sending a batch")
        try:
            outcome = await dst.submitter.submit(request)
        except RETRIED as err:
            blog.warning(
                "batch submission failed; will retry", error=f"{type(err).__name__}: {err}"
            )
            return
        match outcome:
            case OverBudget(gas=gas, budget=budget):
                blog.info("batch above the gas budget; splitting", gas=gas, budget=budget)
                for part in split_for_budget(effects, gas, budget):
                    await self._submit_batch(dst, part, root)
                return
            case Held(reason=reason):  # refused as a whole (the contract is paused)
                blog.warning("destination refuses the batch for now; waiting", reason=reason)
                self._held.update(e.id for e in effects)
                kind = HELD_KINDS.get(reason, "contract")
                self._held_as.update((e.id, (dst.chain_id, kind)) for e in effects)
                self.metrics.submissions.labels("held").inc(len(effects))
                return
        await self._record_batch(dst, effects, outcome)
        blog.info("batch outcome", outcome=type(outcome).__name__, detail=repr(outcome))
        if isinstance(outcome, Failed) and len(effects) == 1:
            self._solo.add(effects[0].id)  # a proven single: per transfer from the next round
        elif isinstance(outcome, Failed):  # one bad item may sink it: halve, down to singles
            for part in halves(effects):
                await self._submit_batch(dst, part, root)
        elif isinstance(outcome, Mined):
            self.metrics.batch_size.labels(str(dst.chain_id)).observe(len(effects))
            self.processor.submit_ready.set()  # look again soon at what it carried

    async def _record_batch(
        self,
        dst: Destination,
        effects: list[Effect],
        outcome: SubmitOutcome,
    ) -> None:
        """Store a batch's outcome for every transfer it carries, in one transaction."""
        p = self.processor
        skipped = skipped_in(outcome.logs, dst.contract) if isinstance(outcome, Mined) else {}
        async with p.writer.transaction() as tx:  # each send's row: the submitter's journal
            match outcome:
                case Mined(tx_hash=tx_hash, block_number=block):
                    for effect in effects:
                        tid = effect.transfer_id
                        reason = skipped.get(tid)
                        if reason is None:
                            await tx.update_submission(tid, tx_hash, SubmissionStatus.MINED, block)
                            await p.apply(tx, tid, SubmissionSent(tid, tx_hash))
                        elif reason == ALREADY_PROCESSED_SELECTOR:
                            await tx.update_submission(
                                tid, tx_hash, SubmissionStatus.ALREADY_PROCESSED
                            )
                        else:
                            await tx.update_submission(tid, tx_hash, SubmissionStatus.FAILED)
                case Pending(tx_hash=tx_hash):
                    for effect in effects:
                        tid = effect.transfer_id
                        await p.apply(tx, tid, SubmissionSent(tid, tx_hash))
                case Failed(tx_hash=failed) if failed is not None:
                    for effect in effects:
                        await tx.update_submission(
                            effect.transfer_id, failed, SubmissionStatus.FAILED
                        )
                case FeeAboveCap() | OutOfFunds():
                    await self._alert(tx, dst, outcome)
        if isinstance(outcome, Mined | Pending):  # what became of each: the single path says
            self._solo.update(e.id for e in effects)
        if isinstance(outcome, Mined):
            for effect in effects:
                if effect.transfer_id in skipped:
                    src = await self._source_chain_of(effect)
                    transfer_logger(log, effect.transfer_id, src, dst.chain_id, "submitting").info(
                        "left out of a batch; looked at again on its own",
                        reason="0x" + skipped[effect.transfer_id].hex(),
                    )
            self.metrics.submissions.labels("skipped").inc(len(skipped))
            self.metrics.submissions.labels("mined").inc(len(effects) - len(skipped))
        else:
            self.metrics.submissions.labels(type(outcome).__name__.lower()).inc(len(effects))

    async def _destination_paused(self, chain_id: int, waiting: int) -> bool:
        """Whether the destination is paused now (logged when that changes)."""
        paused = await self.destinations[chain_id].view.paused()
        self.metrics.destination_paused.labels(str(chain_id)).set(1 if paused else 0)
        if paused and chain_id not in self._paused:
            log.warning(
                "destination paused: nothing is sent until it is unpaused",
                dst_chain_id=chain_id,
                waiting=waiting,
            )
            self._paused.add(chain_id)
        elif not paused and chain_id in self._paused:
            log.info("destination unpaused: sending again", dst_chain_id=chain_id)
            self._paused.discard(chain_id)
        return paused

    def request_for(self, dst: Destination, effect: Effect) -> SubmitRequest:
        """The transaction an effect sends: a release/unlock, or ``executeDelayed``."""
        if effect.kind is EffectKind.EXECUTE:
            calldata = execute_delayed_calldata(effect.transfer_id)
            return execute_delayed_request(effect.transfer_id, dst.contract, calldata)
        release = release_from_json(effect.payload["release"])
        return SubmitRequest(
            transfer_id=effect.transfer_id,
            to=dst.contract,
            data=release_calldata(dst.function, release, _bundle(effect)),
        )

    async def _source_chain_of(self, effect: Effect) -> int | None:
        """The source chain of an effect's transfer, for its log lines: in a release's
        payload, else (``executeDelayed``) from the stored transfer."""
        if "release" in effect.payload:
            return release_from_json(effect.payload["release"]).src_chain_id
        async with self.processor.store.reader() as tx:
            rec = await tx.get_transfer(effect.transfer_id)
        return None if rec is None else rec.src_chain_id

    async def submit(self, dst: Destination, effect: Effect) -> SubmitOutcome:
        """Send one release (or ``executeDelayed``) and record what became of it."""
        tlog = transfer_logger(
            log,
            effect.transfer_id,
            await self._source_chain_of(effect),
            dst.chain_id,
            "executing" if effect.kind is EffectKind.EXECUTE else "submitting",
        )
        outcome = await dst.submitter.submit(self.request_for(dst, effect))
        if isinstance(outcome, Held):  # a token or route pause: nothing sent, nothing stored
            self._held_as[effect.id] = (dst.chain_id, HELD_KINDS.get(outcome.reason, "contract"))
            if effect.id not in self._held:
                self._held.add(effect.id)
                tlog.warning("destination refuses it for now; waiting", reason=outcome.reason)
            self.metrics.submissions.labels("held").inc()
            return outcome
        if effect.id in self._held:
            self._held.discard(effect.id)
            self._held_as.pop(effect.id, None)
            tlog.info("destination accepts it again")
        final: DestinationOutcome | None = None
        if isinstance(outcome, AlreadyProcessed):  # what the destination did, consistently
            final = await self._final_outcome(dst, effect.transfer_id, outcome.confirmed_at)
            if final is None or (
                effect.kind is EffectKind.EXECUTE and isinstance(final, DelayedOnDestination)
            ):
                outcome = AwaitingFinality(effect.transfer_id)
        if isinstance(outcome, AwaitingFinality):
            tlog.debug("done, awaiting the destination's confirmation rule")
            self._recheck_at[effect.id] = time.monotonic() + self.recheck_s
            return outcome  # what we sent (and reverted) is on record: the journal's rows
        self._recheck_at.pop(effect.id, None)
        ours = await self._record(dst, effect, outcome, final)
        if not ours:  # our own release was counted once, as `mined`
            self.metrics.submissions.labels(type(outcome).__name__.lower()).inc()
        tlog.info(
            "submission outcome",
            outcome=type(outcome).__name__,
            destination=None if final is None else type(final).__name__,
            detail=repr(outcome),
        )
        if isinstance(outcome, Mined):
            self.processor.submit_ready.set()  # look again soon: final, or reorged out
        return outcome

    async def _final_outcome(
        self, dst: Destination, transfer_id: Hash32, confirmed_at: int | None
    ) -> DestinationOutcome | None:
        """What the destination did, read at the confirmed head the submitter reported
        (read here if it had none): an execution needs its log (or its age), a state
        read alone, taken during a reorg, is not trusted."""
        if confirmed_at is None:
            head = await confirmed_head(dst.view.rpc, dst.submitter.config.rule)
            if head is None:
                return None
            confirmed_at = head.number
        return await dst.view.outcome_at(transfer_id, confirmed_at, dst.lookback)

    async def _record(
        self,
        dst: Destination,
        effect: Effect,
        outcome: SubmitOutcome,
        final: DestinationOutcome | None = None,
    ) -> bool:
        """Store the outcome; True when it is the final execution of our own transaction."""
        p = self.processor
        tid = effect.transfer_id
        releasing = effect.kind is EffectKind.SUBMIT  # an EXECUTE leaves the state delayed
        released: TransferRecord | None = None
        ours = False
        async with p.writer.transaction() as tx:  # each send's row: the submitter's journal
            match outcome:
                case Mined(tx_hash=tx_hash, block_number=block):
                    # not done yet: the effect stays open until the execution is final
                    # (the next round sees AlreadyProcessed), or is reorged out (resent)
                    await tx.update_submission(tid, tx_hash, SubmissionStatus.MINED, block)
                    if releasing:
                        await p.apply(tx, tid, SubmissionSent(tid, tx_hash))
                case AlreadyProcessed(tx_hash=reverted):
                    if reverted is not None:
                        await tx.update_submission(
                            tid, reverted, SubmissionStatus.ALREADY_PROCESSED
                        )
                    if isinstance(final, ReleaseConfirmed | AlreadyReleased):
                        released = await tx.get_transfer(tid)
                    if isinstance(final, ReleaseConfirmed):
                        own = {s.tx_hash for s in await tx.submissions_for(tid)}
                        ours = final.tx_hash in own
                    if final is not None:
                        await p.apply(tx, tid, final)
                    await tx.mark_effect_done(effect.id)
                case Pending(tx_hash=tx_hash):
                    if releasing:
                        await p.apply(tx, tid, SubmissionSent(tid, tx_hash))
                case FeeAboveCap() | OutOfFunds():
                    await self._alert(tx, dst, outcome)
                case Failed(reason=reason, tx_hash=failed):
                    if failed is not None:
                        await tx.update_submission(tid, failed, SubmissionStatus.FAILED)
                    rec = await tx.get_transfer(tid)
                    src = None if rec is None else rec.src_chain_id
                    transfer_logger(log, tid, src, dst.chain_id, "submitting").warning(
                        "release failed; will retry", reason=reason
                    )
        if released is not None:
            p.note_released(released)
        return ours

    @staticmethod
    async def _alert(tx: Transaction, dst: Destination, outcome: FeeAboveCap | OutOfFunds) -> None:
        """The alert for a send that waits on the operator (fee cap, funds)."""
        match outcome:
            case FeeAboveCap(required=required, cap=cap):
                detail: dict[str, object] = {
                    "reason": "fee above cap: waiting",
                    "required": required,
                    "cap": cap,
                }
            case OutOfFunds(sender=who, detail=why):
                detail = {"reason": "submitter out of funds", "sender": hex32(who), "detail": why}
        await tx.raise_alert(AlertKind.WARNING, dst.chain_id, detail)


def _bundle(effect: Effect) -> bytes:
    """The quorum's signature bundle a SUBMIT effect carries."""
    return bytes.fromhex(str(effect.payload["bundle"]).removeprefix("0x"))
