"""Runs SUBMIT effects: one deterministic primary submits at once, the others later.

For each transfer with a quorum, the primary submitter is the member of the
destination's current set at index ``transfer_id mod n`` of the ascending member list.
The primary submits as soon as the quorum is stored; every other relayer waits
``grace_period_s`` (counted from when it stored the quorum, so it survives restarts),
checks ``isProcessed`` and only then submits. An execution counts as done only at or
below the destination's confirmed head: a mined release keeps its effect open until
then, so a destination reorg that drops it leads to a new submission.
Outcomes are recorded; a fee above the cap or an empty account leaves the effect pending
(and alerts), to be retried.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from relayer.api.metrics import Metrics
from relayer.chain.confirmation import confirmed_head
from relayer.chain.fees import FeeAboveCap
from relayer.chain.submission import (
    AlreadyProcessed,
    AwaitingFinality,
    Failed,
    Mined,
    OutOfFunds,
    Pending,
    SubmitOutcome,
    SubmitRequest,
)
from relayer.chain.submitter import Submitter
from relayer.domain.transfer import (
    AlreadyReleased,
    ReleaseConfirmed,
    SubmissionSent,
    TransferStatus,
)
from relayer.domain.types import Address, Hash32, hex32
from relayer.errors import RetryableError, RpcResponseError
from relayer.log import get_logger
from relayer.service.contracts import BridgeContract, Execution, release_calldata
from relayer.service.payloads import release_from_json
from relayer.service.processor import Processor
from relayer.store import (
    AlertKind,
    Effect,
    EffectKind,
    Store,
    SubmissionStatus,
    Transaction,
    TransferRecord,
)

log = get_logger("submit")

PENDING_LIMIT = 1000  # SUBMIT effects read per round (oldest first)
FINALITY_RECHECK_S = 2.0  # an execution awaiting finality is looked at again after this


class StoreNonceSource:
    """``NonceSource`` on the store: the next nonce after the last one the node accepted."""

    def __init__(self, store: Store, lock: asyncio.Lock) -> None:
        self.store = store
        self.lock = lock  # the processor's: one writer at a time

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
        async with self.lock, self.store.transaction() as tx:
            await tx.set_committed_nonce(chain_id, sender, nonce + 1, only_up=True)

    async def resync(self, chain_id: int, sender: Address, chain_nonce: int) -> None:
        async with self.lock, self.store.transaction() as tx:
            await tx.set_committed_nonce(chain_id, sender, chain_nonce, only_up=False)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where releases for one destination chain go."""

    chain_id: int
    contract: Address
    function: str  # "release" (gateway) or "unlock" (vault)
    submitter: Submitter
    view: BridgeContract  # reads of the same contract (who executed a transfer)
    lookback: int  # blocks searched for an execution's log


def primary_for(transfer_id: Hash32, members: tuple[Address, ...]) -> Address | None:
    """The deterministic first submitter of a transfer among ascending ``members``."""
    if not members:
        return None
    ordered = sorted(members)
    return ordered[int.from_bytes(transfer_id, "big") % len(ordered)]


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
        enabled: bool = True,
    ) -> None:
        self.processor = processor
        self.destinations = destinations
        self.metrics = metrics
        self.grace_period_s = grace_period_s
        self.poll_interval_s = poll_interval_s
        self.enabled = enabled
        self._first_seen: dict[int, float] = {}
        self._recheck_at: dict[int, float] = {}  # effect id -> when to look again
        self.recheck_s = max(poll_interval_s, FINALITY_RECHECK_S)
        self._locks = {chain: asyncio.Lock() for chain in destinations}

    def _is_primary(self, effect: Effect, dst_chain_id: int) -> bool:
        vset = self.processor.sets.current.get(dst_chain_id)
        members = () if vset is None else tuple(m.address for m in vset.members)
        return primary_for(effect.transfer_id, members) == self.processor.signer.address

    def due(self, effect: Effect, dst_chain_id: int, now: float) -> bool:
        """Primary: at once. Others: ``grace_period_s`` after the quorum was stored."""
        if self._is_primary(effect, dst_chain_id):
            return True
        created = effect.created_at.timestamp()
        first_seen = self._first_seen.setdefault(effect.id, now)
        waited = max(time.time() - created, now - first_seen)
        return waited >= self.grace_period_s

    async def run(self) -> None:
        ready = self.processor.submit_ready
        while True:
            if self.enabled:
                try:
                    await self.run_due()
                except* RetryableError as group:  # RPC or database briefly away
                    log.warning("submission round failed; retrying", error=str(group.exceptions))
            try:
                async with asyncio.timeout(self.poll_interval_s):
                    await ready.wait()
            except TimeoutError:
                pass
            ready.clear()

    async def run_due(self) -> None:
        """Submit every due SUBMIT effect, one chain's submissions at a time per chain."""
        now = time.monotonic()
        async with self.processor.store.reader() as tx:
            effects = await tx.pending_effects([EffectKind.SUBMIT], limit=PENDING_LIMIT)
            # those awaiting finality are looked at again only every ``recheck_s``
            looked_at = [e for e in effects if now >= self._recheck_at.get(e.id, 0.0)]
            settled = {e.id for e in looked_at if await self._released(tx, e.transfer_id)}
        if settled:  # the settler saw them final: nothing left to send or to check
            async with self.processor.lock, self.processor.store.transaction() as tx:
                for effect_id in settled:
                    await tx.mark_effect_done(effect_id)
                    self._recheck_at.pop(effect_id, None)
        by_chain: dict[int, list[Effect]] = {}
        for effect in looked_at:
            dst = int(effect.payload.get("dst_chain_id", 0))
            if effect.id in settled:
                continue
            if dst in self.destinations and self.due(effect, dst, now):
                by_chain.setdefault(dst, []).append(effect)
        async with asyncio.TaskGroup() as group:
            for chain_id, chain_effects in by_chain.items():
                group.create_task(self._run_chain(chain_id, chain_effects))

    @staticmethod
    async def _released(tx: Transaction, transfer_id: Hash32) -> bool:
        rec = await tx.get_transfer(transfer_id)
        return rec is not None and rec.status is TransferStatus.RELEASED

    async def _run_chain(self, chain_id: int, effects: list[Effect]) -> None:
        """One effect at a time; a failed one is logged and retried on a later round
        without stopping the others (nor the other chain's round)."""
        async with self._locks[chain_id]:
            for effect in effects:
                try:
                    await self.submit(self.destinations[chain_id], effect)
                except (RetryableError, RpcResponseError, TimeoutError) as err:
                    log.warning(
                        "submission failed; will retry",
                        transfer_id=hex32(effect.transfer_id),
                        dst_chain_id=chain_id,
                        error=f"{type(err).__name__}: {err}",
                    )

    async def submit(self, dst: Destination, effect: Effect) -> SubmitOutcome:
        """Send one release and record what became of it."""
        release = release_from_json(effect.payload["release"])
        bundle = bytes.fromhex(str(effect.payload["bundle"]).removeprefix("0x"))
        request = SubmitRequest(
            transfer_id=effect.transfer_id,
            to=dst.contract,
            data=release_calldata(dst.function, release, bundle),
        )
        tlog = log.bind(
            transfer_id=hex32(effect.transfer_id),
            src_chain_id=release.src_chain_id,
            dst_chain_id=dst.chain_id,
            stage="submitting",
        )
        outcome = await dst.submitter.submit(request)
        executed_by = None
        if isinstance(outcome, AlreadyProcessed):  # by whom, and is that consistent?
            execution = await self._final_execution(dst, effect.transfer_id, outcome.confirmed_at)
            if execution is None:
                outcome = AwaitingFinality(effect.transfer_id)
            else:
                executed_by = execution.tx_hash
        if isinstance(outcome, AwaitingFinality):
            tlog.debug("executed, awaiting the destination's confirmation rule")
            self._recheck_at[effect.id] = time.monotonic() + self.recheck_s
            if dst.submitter.sent:  # ours were sent (and reverted): keep them on record
                await self._record(dst, effect, outcome)
            return outcome
        self._recheck_at.pop(effect.id, None)
        ours = await self._record(dst, effect, outcome, executed_by)
        if not ours:  # our own release was counted once, as `mined`
            self.metrics.submissions.labels(type(outcome).__name__.lower()).inc()
        tlog.info("submission outcome", outcome=type(outcome).__name__, detail=repr(outcome))
        if isinstance(outcome, Mined):
            self.processor.submit_ready.set()  # look again soon: final, or reorged out
        return outcome

    async def _final_execution(
        self, dst: Destination, transfer_id: Hash32, confirmed_at: int | None
    ) -> Execution | None:
        """The execution the submitter reported as final, confirmed by its log (or by
        its age) at or below the confirmed head it read (read here if it had none): a
        state read alone, taken during a reorg, is not trusted."""
        if confirmed_at is None:
            head = await confirmed_head(dst.view.rpc, dst.submitter.config.rule)
            if head is None:
                return None
            confirmed_at = head.number
        return await dst.view.executed_at(transfer_id, confirmed_at, dst.lookback)

    async def _record(
        self,
        dst: Destination,
        effect: Effect,
        outcome: SubmitOutcome,
        executed_by: Hash32 | None = None,
    ) -> bool:
        """Store the outcome; True when it is the final execution of our own release."""
        p = self.processor
        tid = effect.transfer_id
        sender = dst.submitter.sender
        released: TransferRecord | None = None
        ours = False
        async with p.lock, p.store.transaction() as tx:
            for tx_hash in dst.submitter.sent:
                await tx.record_submission(tid, dst.chain_id, sender, 0, tx_hash, 0, 0)
            match outcome:
                case Mined(tx_hash=tx_hash, block_number=block):
                    # not done yet: the effect stays open until the execution is final
                    # (the next round sees AlreadyProcessed), or is reorged out (resent)
                    await tx.update_submission(tx_hash, SubmissionStatus.MINED, block)
                    await p.apply(tx, tid, SubmissionSent(tid, tx_hash))
                case AlreadyProcessed(tx_hash=reverted):
                    if reverted is not None:
                        await tx.update_submission(reverted, SubmissionStatus.ALREADY_PROCESSED)
                    released = await tx.get_transfer(tid)
                    if executed_by is not None:
                        own = {s.tx_hash for s in await tx.submissions_for(tid)}
                        ours = executed_by in own
                    await p.apply(
                        tx,
                        tid,
                        AlreadyReleased(tid)
                        if executed_by is None
                        else ReleaseConfirmed(tid, executed_by),
                    )
                    await tx.mark_effect_done(effect.id)
                case Pending(tx_hash=tx_hash):
                    await p.apply(tx, tid, SubmissionSent(tid, tx_hash))
                case FeeAboveCap(required=required, cap=cap):
                    await tx.raise_alert(
                        AlertKind.WARNING,
                        dst.chain_id,
                        {"reason": "fee above cap: waiting", "required": required, "cap": cap},
                    )
                case OutOfFunds(sender=who, detail=detail):
                    await tx.raise_alert(
                        AlertKind.WARNING,
                        dst.chain_id,
                        {
                            "reason": "submitter out of funds",
                            "sender": hex32(who),
                            "detail": detail,
                        },
                    )
                case Failed(reason=reason, tx_hash=failed):
                    if failed is not None:
                        await tx.update_submission(failed, SubmissionStatus.FAILED)
                    log.warning("release failed; will retry", transfer_id=hex32(tid), reason=reason)
        if released is not None:
            p.note_released(released)
        return ours
