"""The one writer: every input goes through here, with its effects, in one transaction.

An input (a confirmed source event, a peer's attestation, a destination execution) is
applied to the transfer's state with the pure :func:`relayer.domain.lifecycle.step`.
Within the same database transaction the processor stores the new state and carries
out the effects that are pure computation (policy, signing, quorum) or bookkeeping
(alerts), and queues the effects that touch the outside world (publishing over MQTT,
submitting a release) in the outbox. Those run only after the commit, each idempotent
and keyed by transfer id. One ``Writer`` (an asyncio lock, then a transaction) serialises
all writes of this relayer; every stage writes through ``processor.writer``.

A sweep confirms the events the watchers stored up to ``confirm_batch_max`` at a time in
one transaction (each is still applied on its own: one's rejection does not touch another).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from relayer import crashpoints
from relayer.api.metrics import Metrics
from relayer.crashpoints import CrashPoint
from relayer.domain import lifecycle
from relayer.domain.decisions import Decision, approval, decision_digest, refusal
from relayer.domain.digest import cancel_digest, refund_digest, release_digest
from relayer.domain.limits import (
    PackCheck,
    Spend,
    may_need_review,
    spend_of,
    uses_history,
    window_start,
)
from relayer.domain.policy import RefusalReason, Refused
from relayer.domain.quorum import QuorumMet, evaluate_quorum
from relayer.domain.routing import Unroutable, build_release, route_release
from relayer.domain.signature import recover_signer
from relayer.domain.transfer import (
    CancelQuorumReached,
    CheckPolicy,
    CheckQuorum,
    Confirmed,
    Effect,
    ExecuteDelayed,
    HaltSigning,
    Input,
    OwnSignature,
    PolicyDecided,
    PublishAttestation,
    QuorumReached,
    RefundQuorumReached,
    Rejected,
    RetryRequested,
    Reviewed,
    SignCancel,
    SignRefund,
    SignRelease,
    SubmitCancel,
    SubmitRefund,
    SubmitRelease,
    TransferState,
    TransferStatus,
)
from relayer.domain.types import (
    Address,
    Attestation,
    Direction,
    EvmDomain,
    Hash32,
    Release,
    SourceEvent,
    ValidatorSet,
    hex32,
)
from relayer.domain.vetoes import RefundTerms, evaluate_cancel, evaluate_refund, refund_terms
from relayer.errors import FatalError, RetryableError
from relayer.keys import Signer
from relayer.log import get_logger, transfer_logger
from relayer.service.books import RouteBook, SetBook
from relayer.service.corroboration import Corroboration, Wait, alert_contradiction
from relayer.service.issuers import Checked, IssuerGate
from relayer.service.payloads import release_to_json
from relayer.service.policy import PolicyBook
from relayer.service.writer import Writer
from relayer.store import (
    AlertKind,
    EffectKind,
    Store,
    Transaction,
    TransferRecord,
    VetoSignature,
    utc_now,
)
from relayer.store.outcomes import EnqueueOutcome
from relayer.wakeup import wait_for_wake

log = get_logger("processor")

_ATTESTATION_USED = (TransferStatus.RELEASED, TransferStatus.DELAYED, TransferStatus.CANCELLED)
_FINAL = (TransferStatus.RELEASED, TransferStatus.CANCELLED, TransferStatus.REFUNDED)


@dataclass(frozen=True, slots=True)
class Prechecked:
    """What the sweep learnt about an event before the transaction deciding it: the
    cross-check node's contradiction (if any) and its issuers' answers (None: not asked)."""

    contradiction: str | None = None
    issuer: Checked | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """The input changed the transfer (or confirmed what it already was); ``state`` is the
    lifecycle state after it and its follow-ups (what ``load_state`` must read back)."""

    status: TransferStatus
    state: TransferState


def event_of(rec: TransferRecord) -> SourceEvent:
    """The source event as stored."""
    return SourceEvent(
        transfer_id=rec.transfer_id,
        src_chain_id=rec.src_chain_id,
        src_contract=rec.src_contract,
        nonce=rec.nonce,
        src_token=rec.src_token,
        sender=rec.sender,
        recipient=rec.recipient,
        amount=rec.amount,
        dst_chain_id=rec.dst_chain_id,
        block_number=rec.block_number,
        block_hash=rec.block_hash,
        tx_hash=rec.tx_hash,
        log_index=rec.log_index,
    )


class UnknownRefusalError(FatalError):
    """A stored refusal's reason code is not one this version knows (written by a newer
    relayer, or edited by hand): stop rather than guess what it meant."""


# where a refusal of ours may stand: refused, or refused and then acted on by the destination
_REFUSAL_KEPT = (
    TransferStatus.REFUSED,
    TransferStatus.RELEASED,
    TransferStatus.DELAYED,
    TransferStatus.CANCELLED,
    TransferStatus.VETOED,
    TransferStatus.REFUNDED,
)


async def _refusal_of(
    tx: Transaction, rec: TransferRecord, validator: Address, signed: bool
) -> Refused | None:
    """Our refusal of ``rec`` as stored (its code and detail, never re-parsed from the
    status line), if we refused it; it stays with the transfer when the destination
    executes, delays or cancels it anyway."""
    if signed or rec.status not in _REFUSAL_KEPT:
        return None
    stored = await tx.refusal_by(rec.transfer_id, validator)
    if stored is None:
        if rec.status is TransferStatus.REFUSED:
            raise UnknownRefusalError(f"transfer {hex32(rec.transfer_id)} is refused, no reason")
        return None
    try:
        reason = RefusalReason(stored.reason_code)
    except ValueError as err:
        raise UnknownRefusalError(
            f"transfer {hex32(rec.transfer_id)}: unknown refusal code {stored.reason_code!r}"
        ) from err
    return Refused(reason, stored.detail or "")


def _quorum_of(rec: TransferRecord, digest: Hash32 | None) -> QuorumMet | None:
    """The quorum stored with the transfer (over our own signature's digest), if any."""
    if rec.quorum_bundle is None or digest is None:
        return None
    return QuorumMet(digest, rec.quorum_bundle, rec.quorum_signers, rec.quorum_jurisdictions)


async def load_state(
    tx: Transaction, transfer_id: Hash32, me: Address | None
) -> TransferState | None:
    """Rebuild the lifecycle state of a transfer from its stored rows, as validator ``me``
    (``None``: unknown to the caller, a tool without the key; then no refusal of ours is
    read, which only a transfer we never signed can have)."""
    rec = await tx.get_transfer(transfer_id)
    if rec is None:
        return None
    event = event_of(rec)
    own = await tx.own_signature(transfer_id)
    release: Release | None = None
    attestation: Attestation | None = None
    if own is not None and rec.dst_token is not None:
        release = build_release(event, rec.dst_token)
        signer = me if me is not None else recover_signer(own.digest, own.signature)
        attestation = Attestation(transfer_id, own.digest, signer, own.signature)
    refusal = None if me is None else await _refusal_of(tx, rec, me, own is not None)
    return TransferState(
        status=rec.status,
        event=event,
        release=release,
        digest=None if own is None else own.digest,
        refusal=refusal,
        sign_requested=own is not None,
        attestation=attestation,
        quorum=_quorum_of(rec, None if own is None else own.digest),
        tx_hash=rec.release_tx_hash,
        executable_at=rec.executable_at,
        review=rec.status_reason if rec.status is TransferStatus.REVIEW else None,
        veto=rec.status_reason if rec.status is TransferStatus.VETOED else None,
    )


async def queue_effect(
    tx: Transaction, effect: PublishAttestation | SubmitRelease | ExecuteDelayed, *, rearm: bool
) -> EnqueueOutcome:
    """Queue an outbox effect (publish, release, ``executeDelayed``) in ``tx``: the one
    place their payloads are written. ``rearm``: a done one is pending again."""
    match effect:
        case PublishAttestation(attestation=att):
            return await tx.enqueue_effect(att.transfer_id, EffectKind.PUBLISH, {}, rearm=rearm)
        case SubmitRelease(transfer_id=tid, dst_chain_id=dst, release=release, bundle=bundle):
            payload = {
                "dst_chain_id": dst,
                "release": release_to_json(release),
                "bundle": "0x" + bundle.hex(),
            }
            return await tx.enqueue_effect(tid, EffectKind.SUBMIT, payload, rearm=rearm)
        case ExecuteDelayed(transfer_id=tid, dst_chain_id=dst, executable_at=at):
            payload = {"dst_chain_id": dst, "executable_at": at}
            return await tx.enqueue_effect(tid, EffectKind.EXECUTE, payload, rearm=rearm)


async def quorum_of(
    tx: Transaction, sets: Sequence[ValidatorSet], transfer_id: Hash32, digest: Hash32
) -> QuorumMet | None:
    """The bundle the first of ``sets`` (current first) accepts, from the stored
    attestations over ``digest``: the one the processor queues for submission."""
    stored = await tx.attestations_for(transfer_id, digest)
    attestations = [Attestation(s.transfer_id, s.digest, s.signer, s.signature) for s in stored]
    for vset in sets:
        outcome = evaluate_quorum(vset, digest, attestations)
        if isinstance(outcome, QuorumMet):
            return outcome
    return None


@dataclass(frozen=True, slots=True)
class Requeued:
    """What ``relayer transfer retry`` queued: each effect and what the outbox did."""

    status: TransferStatus
    effects: tuple[tuple[str, EnqueueOutcome], ...]


async def requeue(tx: Transaction, transfer_id: Hash32) -> Requeued | Rejected:
    """Apply ``RetryRequested`` (``domain.step``) and queue the effects it names again in
    ``tx``, done ones re-armed; the transfer's state is unchanged. The running relayer's
    stages pick them up on their next round."""
    state = await load_state(tx, transfer_id, None)
    outcome = lifecycle.step(state, RetryRequested(transfer_id))
    if isinstance(outcome, Rejected):
        return outcome
    queued: list[tuple[str, EnqueueOutcome]] = []
    for effect in outcome.effects:
        if isinstance(effect, PublishAttestation | SubmitRelease | ExecuteDelayed):
            queued.append((type(effect).__name__, await queue_effect(tx, effect, rearm=True)))
    return Requeued(outcome.state.status, tuple(queued))


class Processor:
    """Applies inputs to transfers; see the module docstring."""

    def __init__(
        self,
        store: Store,
        signer: Signer,
        domains: Mapping[int, EvmDomain],
        sets: SetBook,
        routes: RouteBook,
        policy: PolicyBook,
        metrics: Metrics,
        corroboration: Corroboration | None = None,
        confirm_batch_max: int = 32,
        clock: Callable[[], float] = time.time,
        issuers: IssuerGate | None = None,
    ) -> None:
        if confirm_batch_max < 1:
            raise ValueError("confirm_batch_max must be at least 1")
        self.store = store
        self.signer = signer
        self.domains = domains
        self.sets = sets
        self.routes = routes
        self.policy = policy
        self.metrics = metrics
        self.corroboration = corroboration or Corroboration({}, metrics)
        self.deferred = False  # the last sweep left an event for the witness to confirm
        # filled only inside the transactions deciding checked events (`_deciding`)
        self._prechecked: dict[Hash32, Prechecked] = {}
        self.writer = Writer(store)  # the only way to write (its lock, then a transaction)
        self.outbox_ready = asyncio.Event()  # a PUBLISH effect was queued (the publisher's)
        self.submit_ready = asyncio.Event()  # a SUBMIT/EXECUTE effect was queued
        self.veto_ready = asyncio.Event()  # a CANCEL/REFUND effect was queued (the vetoes')
        self.observed_ready = asyncio.Event()  # the watcher stored new events
        self.status_changed = asyncio.Event()  # a transfer's status changed (root signer's)
        # told of the transfers a sweep just confirmed (attestations may be waiting for them)
        self.on_confirmed: Callable[[Sequence[Hash32]], Awaitable[None]] | None = None
        self.confirm_batch_max = confirm_batch_max
        self.clock = clock  # the time of policy decisions (rolling limits)
        self.issuers = issuers  # the issuers' controls asked before deciding, if any

    async def committed(self) -> None:
        """Return once the writer holding the lock (if any) has committed.

        The ready events are set inside the writing transaction, before its commit; a
        stage woken by one passes this barrier before it reads, so it sees what woke it
        (every write goes through ``writer``, whose lock is held for the whole transaction)."""
        await self.writer.committed()

    # ------------------------------------------------------------------ reading

    async def load_state(self, tx: Transaction, transfer_id: Hash32) -> TransferState | None:
        """Rebuild the lifecycle state of a transfer from its stored rows."""
        return await load_state(tx, transfer_id, self.signer.address)

    def expected_release(self, event: SourceEvent) -> tuple[Release, Hash32] | None:
        """The release (and digest) this relayer would sign for ``event``, policy aside.

        Peers' attestations count only when their digest equals this one.
        """
        domain = self.domains.get(event.dst_chain_id)
        release = route_release(self.routes.routes, event)
        if domain is None or isinstance(release, Unroutable):
            return None
        return release, release_digest(domain, release)

    # ------------------------------------------------------------------ writing

    async def apply(self, tx: Transaction, transfer_id: Hash32, first: Input) -> Applied | Rejected:
        """Apply ``first`` and every input its effects produce, all inside ``tx``."""
        state = await self.load_state(tx, transfer_id)
        pending: list[Input] = [first]
        result: Applied | Rejected = Rejected(None if state is None else state.status, "", "")
        while pending:
            current = pending.pop(0)
            outcome = lifecycle.step(state, current)
            if isinstance(outcome, Rejected):
                self._log(state, current).debug("input rejected", reason=outcome.reason)
                if current is first:
                    return outcome
                continue
            await self._persist(tx, state, outcome.state)
            state = outcome.state
            result = Applied(state.status, state)
            for effect in outcome.effects:
                follow_up = await self._run_effect(tx, state, effect)
                if follow_up is not None:
                    pending.append(follow_up)
        return result

    def _log(self, state: TransferState | None, current: Input) -> Any:
        if state is None:
            return log.bind(input=type(current).__name__)
        e = state.event
        return transfer_logger(log, e.transfer_id, e.src_chain_id, e.dst_chain_id, state.status)

    def note_released(self, before: TransferRecord) -> None:
        """Feed the latency histogram for a transfer that just became ``released``
        (``before``: its record as read in the committed transaction that released it)."""
        if before.status is TransferStatus.RELEASED or before.confirmed_at is None:
            return
        latency = max(0.0, time.time() - before.confirmed_at.timestamp())
        direction = before.direction.value if isinstance(before.direction, Direction) else "?"
        self.metrics.release_latency.labels(direction).observe(latency)

    async def _persist(
        self, tx: Transaction, before: TransferState | None, after: TransferState
    ) -> None:
        tid = after.transfer_id
        stored_hash: Hash32 | None = None  # the tx hash set_status already wrote
        if before is None or before.status != after.status:
            self.status_changed.set()
            reason = after.review
            if after.refusal is not None:
                reason = f"{after.refusal.reason.value}: {after.refusal.detail}"
            if after.veto is not None:
                reason = after.veto
            if after.status is TransferStatus.RELEASED:
                stored_hash = after.tx_hash
            await tx.set_status(
                tid,
                after.status,
                reason,
                release_tx_hash=stored_hash,
                executable_at=after.executable_at,
            )
            e = after.event
            transfer_logger(log, tid, e.src_chain_id, e.dst_chain_id, after.status).info(
                "transfer advanced",
                previous=None if before is None else before.status.value,
                reason=reason,
            )
            if after.status in _ATTESTATION_USED and await tx.own_signature(tid):
                # The destination holds it, final (executed, delayed or cancelled): our
                # retained attestation has done its job. Clearing it keeps the broker's
                # retained store (replayed on every subscribe) to open transfers; a late
                # peer learns of the outcome from the chain.
                await self._withdraw(tx, tid, e.dst_chain_id, "attestation")
            if after.status in _FINAL and await tx.refusal_by(tid, self.signer.address):
                await self._withdraw(tx, tid, e.dst_chain_id, "refusal")
        if after.refusal is not None and (before is None or before.refusal is None):
            await tx.record_refusal(
                tid,
                self.signer.address,
                after.refusal.reason.value,
                after.refusal.detail,
                self.policy.version,
            )
            await self._sign_decision(tx, refusal(tid, after.refusal, self.policy.policy_hash))
            await tx.enqueue_effect(tid, EffectKind.PUBLISH_REFUSAL, {})
            self.outbox_ready.set()
            self.metrics.refusals.labels(after.refusal.reason.value).inc()
        delay = after.executable_at
        delay_changed = before is None or before.executable_at != delay
        if delay is not None and delay_changed and after.status is not TransferStatus.DELAYED:
            await tx.set_executable_at(tid, delay)  # delayed while vetoed
        if after.quorum is not None and (before is None or before.quorum != after.quorum):
            q = after.quorum
            await tx.set_quorum(tid, q.bundle, q.signers, q.jurisdictions)
        if after.release is not None and (before is None or before.release is None):
            await tx.set_dst_token(tid, after.release.token)
        changed = after.tx_hash != (None if before is None else before.tx_hash)
        if changed and stored_hash != after.tx_hash:
            await tx.set_tx_hash(tid, after.tx_hash)  # ours when submitted, then the executor

    async def _run_effect(
        self, tx: Transaction, state: TransferState, effect: Effect
    ) -> Input | None:
        match effect:
            case CheckPolicy(event=event, reviewed=reviewed):
                if await tx.chain_halted(event.src_chain_id):
                    self._log(state, Confirmed(event)).warning(
                        "signing halted on this chain: left confirmed until acknowledged"
                    )
                    return None
                checked = self._prechecked.get(event.transfer_id, Prechecked())
                reason = checked.contradiction
                if reason is not None:  # refused, with the operator's evidence
                    await alert_contradiction(tx, event, reason)
                    refusal = Refused(RefusalReason.UNCORROBORATED, reason)
                    return PolicyDecided(event.transfer_id, refusal)
                asks = self.issuers is not None and self.issuers.queries(event, self.routes.routes)
                if asks and checked.issuer is None:
                    return None  # never decided without its issuers' answers: the sweep asks
                issuer = None if checked.issuer is None else checked.issuer.refusal
                return await self._decide_policy(tx, event, reviewed, issuer)
            case SignRelease(transfer_id=tid, dst_chain_id=dst, digest=digest):
                signature = self.signer.sign_digest(digest)
                attestation = Attestation(tid, digest, self.signer.address, signature)
                vset = self.sets.current.get(dst)
                await tx.record_own_signature(
                    attestation, 0 if vset is None else vset.set_id, self.policy.version
                )
                await self._sign_decision(tx, approval(tid, digest, self.policy.policy_hash))
                self.metrics.signatures.inc()
                return OwnSignature(attestation)
            case PublishAttestation():
                await queue_effect(tx, effect, rearm=False)
                self.outbox_ready.set()
                return None
            case CheckQuorum(transfer_id=tid, dst_chain_id=dst, digest=digest):
                met = await self.quorum(tx, tid, dst, digest)
                return None if met is None else QuorumReached(tid, met)
            case SubmitRelease() | ExecuteDelayed():
                await queue_effect(tx, effect, rearm=False)
                self.submit_ready.set()
                return None
            case SignCancel(transfer_id=tid, dst_chain_id=dst):
                domain = self.domains.get(dst)
                if domain is None:  # `relayer veto` refuses these; an old row may remain
                    detail = {
                        "transfer_id": hex32(tid),
                        "reason": f"vetoed, but no bridge contract is known on chain {dst}: "
                        "no Cancel can be signed for it",
                    }
                    await tx.raise_alert(AlertKind.WARNING, dst, detail)
                    return None
                await self._sign_veto(tx, tid, "cancel", dst, cancel_digest(domain, tid))
                return await self.cancel_check(tx, tid, dst)
            case SubmitCancel(transfer_id=tid, dst_chain_id=dst, bundle=bundle):
                payload = {"dst_chain_id": dst, "bundle": "0x" + bundle.hex()}
                await tx.enqueue_effect(tid, EffectKind.CANCEL, payload)
                self.veto_ready.set()
                return None
            case SignRefund(transfer_id=tid, src_chain_id=src):
                terms = refund_terms(state.event)
                digest = self.refund_digest_of(state.event.src_contract, src, terms)
                await self._sign_veto(tx, tid, "refund", src, digest)
                return await self.refund_check(tx, tid, src, digest)
            case SubmitRefund(transfer_id=tid, src_chain_id=src, bundle=bundle):
                payload = {"src_chain_id": src, "bundle": "0x" + bundle.hex()}
                await tx.enqueue_effect(tid, EffectKind.REFUND, payload)
                self.veto_ready.set()
                return None
            case HaltSigning(transfer_id=tid, reason=reason):
                await tx.raise_alert(
                    AlertKind.HALT,
                    state.event.src_chain_id,
                    {"transfer_id": "0x" + tid.hex(), "reason": reason},
                )
                self._log(state, Confirmed(state.event)).error(
                    "SAFETY HALT: signing stopped on this chain until an operator acknowledges",
                    reason=reason,
                )
                return None
        return None

    async def _withdraw(self, tx: Transaction, tid: Hash32, dst_chain_id: int, topic: str) -> None:
        """Clear our retained message on ``topic`` ("attestation" or "refusal") for ``tid``."""
        payload = {"dst_chain_id": dst_chain_id, "signer": hex32(self.signer.address)}
        await tx.enqueue_effect(tid, EffectKind.WITHDRAW, {**payload, "topic": topic})
        self.outbox_ready.set()

    @staticmethod
    def refund_digest_of(src_contract: Address, src_chain_id: int, terms: RefundTerms) -> Hash32:
        """The ``Refund`` digest on the contract where the transfer began."""
        domain = EvmDomain(src_chain_id, src_contract)
        return refund_digest(
            domain,
            terms.transfer_id,
            terms.dst_chain_id,
            terms.token,
            terms.recipient,
            terms.amount,
        )

    async def _sign_veto(
        self, tx: Transaction, tid: Hash32, kind: str, chain_id: int, digest: Hash32
    ) -> None:
        """Sign our Cancel or Refund of ``tid``, keep it and queue its gossip."""
        signature = VetoSignature(
            tid,
            kind,
            self.signer.address,
            chain_id,
            digest,
            self.signer.sign_digest(digest),
            utc_now(),
        )
        await tx.record_veto_signature(signature)
        publish = EffectKind.PUBLISH_CANCEL if kind == "cancel" else EffectKind.PUBLISH_REFUND
        await tx.enqueue_effect(tid, publish, {"kind": kind, "chain_id": chain_id})
        self.outbox_ready.set()
        self.metrics.veto_signatures.labels(kind).inc()

    async def cancel_bundle(
        self, tx: Transaction, tid: Hash32, dst_chain_id: int
    ) -> QuorumMet | None:
        """The ``cancel`` bundle of a blocking minority of the destination's current set
        (the set ``cancel`` checks), from the stored Cancel signatures, if there is one."""
        vset = self.sets.current.get(dst_chain_id)
        domain = self.domains.get(dst_chain_id)
        if vset is None or domain is None:
            return None
        stored = await tx.veto_signatures_for(tid, "cancel")
        signatures = [Attestation(tid, s.digest, s.signer, s.signature) for s in stored]
        return evaluate_cancel(vset, cancel_digest(domain, tid), signatures)

    async def cancel_check(
        self, tx: Transaction, tid: Hash32, dst_chain_id: int
    ) -> CancelQuorumReached | None:
        """``CancelQuorumReached`` once a blocking minority signed ``Cancel``."""
        met = await self.cancel_bundle(tx, tid, dst_chain_id)
        return None if met is None else CancelQuorumReached(tid, met.bundle)

    async def refund_bundle(
        self, tx: Transaction, tid: Hash32, src_chain_id: int, digest: Hash32
    ) -> QuorumMet | None:
        """The ``refund`` bundle of a quorum of the source's current set (the one ``refund``
        checks), from the stored Refund signatures over ``digest``, if there is one."""
        vset = self.sets.current.get(src_chain_id)
        if vset is None:
            return None
        stored = await tx.veto_signatures_for(tid, "refund")
        signatures = [Attestation(tid, s.digest, s.signer, s.signature) for s in stored]
        return evaluate_refund(vset, digest, signatures)

    async def refund_check(
        self, tx: Transaction, tid: Hash32, src_chain_id: int, digest: Hash32
    ) -> RefundQuorumReached | None:
        """``RefundQuorumReached`` once a quorum of the source's set signed the Refund."""
        met = await self.refund_bundle(tx, tid, src_chain_id, digest)
        return None if met is None else RefundQuorumReached(tid, met.bundle)

    async def sign_missing_refund(self, tx: Transaction, tid: Hash32) -> bool:
        """Sign the Refund of a ``cancelled`` transfer that has none of ours (one cancelled
        before this relayer signed refunds: its ``SignRefund`` was never emitted); True if
        signed. Same effect as the lifecycle's, run by the sweep that found it undone."""
        state = await self.load_state(tx, tid)
        if state is None or state.status is not TransferStatus.CANCELLED:
            return False
        if await tx.veto_signature_by(tid, "refund", self.signer.address) is not None:
            return False
        follow = await self._run_effect(tx, state, SignRefund(tid, state.event.src_chain_id))
        if follow is not None:
            await self.apply(tx, tid, follow)
        return True

    async def _sign_decision(self, tx: Transaction, decision: Decision) -> None:
        """Sign and keep what we decided, under which policy (gossiped with the attestation
        or as a refusal; see relayer.domain.decisions)."""
        signature = self.signer.sign_digest(decision_digest(decision))
        await tx.record_decision(decision, self.signer.address, signature)

    async def _decide_policy(
        self, tx: Transaction, event: SourceEvent, reviewed: bool, issuer: Refused | None
    ) -> PolicyDecided:
        """The local rules and the pack in force (its spends read now); an approval under a
        pack counts against its rolling limits in this same transaction."""
        pack = self.policy.pack
        check: PackCheck | None = None
        if pack is not None:
            now = int(self.clock())
            if not reviewed and may_need_review(pack, event):
                review = await tx.review_of(event.transfer_id)
                reviewed = review is not None and review.approved
            spends: tuple[Spend, ...] = ()
            if uses_history(pack, event):  # the rolling limits need the window's spends
                chain, token = event.src_chain_id, event.src_token
                spends = await tx.spends_since(chain, token, window_start(now))
            check = PackCheck(pack, now, spends, reviewed)
        decided = lifecycle.decide(
            self.policy.policy, self.routes.routes, self.domains, event, check, issuer
        )
        if check is not None and decided.release is not None:
            await tx.record_spend(spend_of(event, check.now), check.pack.content_hash)
        return decided

    async def quorum(
        self, tx: Transaction, transfer_id: Hash32, dst_chain_id: int, digest: Hash32
    ) -> QuorumMet | None:
        """A bundle the destination accepts now, from the stored attestations, if any."""
        return await quorum_of(tx, self.sets.sets_for(dst_chain_id), transfer_id, digest)

    async def sweep(self) -> int:
        """Finish what a crash or a halt left undone; returns how many transfers moved.

        ``observed`` transfers were stored by the watcher (which only emits confirmed
        events) but not confirmed yet; ``confirmed`` ones without a policy decision were
        skipped while their chain was halted.
        """
        observed: list[TransferRecord] = []
        confirmed: list[TransferRecord] = []
        reviewed: list[tuple[TransferRecord, Reviewed]] = []
        async with self.store.reader() as tx:
            for chain in self.domains:  # per chain: one chain's backlog never hides another's
                observed += await tx.transfers_by_status(TransferStatus.OBSERVED, 500, chain)
                confirmed += await tx.transfers_by_status(TransferStatus.CONFIRMED, 500, chain)
                for held in await tx.transfers_by_status(TransferStatus.REVIEW, 500, chain):
                    review = await tx.review_of(held.transfer_id)
                    if review is not None:
                        decision = Reviewed(
                            held.transfer_id, review.approved, review.reviewer, review.reason
                        )
                        reviewed.append((held, decision))
            halted = {chain for chain in self.domains if await tx.chain_halted(chain)}
        self.corroboration.new_sweep()
        self.deferred = False
        checked: list[tuple[SourceEvent, Prechecked]] = []
        for rec in observed:
            event = event_of(rec)
            pre = await self._precheck(event, "observed")
            if pre is not None:
                checked.append((event, pre))
        moved = 0
        size = self.confirm_batch_max
        for chunk in (checked[i : i + size] for i in range(0, len(checked), size)):
            results = await self._confirm_all(chunk)
            for (event, _), result in zip(chunk, results, strict=True):
                if not isinstance(result, Applied):
                    continue
                moved += 1
                tid = hex32(event.transfer_id)
                if result.status in (TransferStatus.ATTESTED, TransferStatus.QUORUM):
                    crashpoints.reached(CrashPoint.SIGNED, transfer_id=tid)
                if result.status is TransferStatus.QUORUM:
                    crashpoints.reached(CrashPoint.QUORUM, transfer_id=tid)
            if self.on_confirmed is not None:  # attestations that arrived before we saw it
                await self.on_confirmed([event.transfer_id for event, _ in chunk])
        for rec in confirmed:
            if rec.src_chain_id in halted:  # decided once an operator acknowledged the halt
                continue
            event = event_of(rec)
            pre = await self._precheck(event, "confirmed")
            if pre is not None and await self._decide(event, pre):
                moved += 1
        for rec, decision in reviewed:  # a reviewer decided: the policy runs again, or refuses
            pre = Prechecked()
            if decision.approved:  # the rules run again: with the issuers' answers of now
                event = event_of(rec)
                asked = await self._precheck(event, "review")
                if asked is None:
                    continue
                pre = asked
            async with self.writer.transaction() as tx:
                with self._deciding({rec.transfer_id: pre}):
                    if isinstance(await self.apply(tx, decision.transfer_id, decision), Applied):
                        moved += 1
        return moved

    async def _precheck(self, event: SourceEvent, stage: str) -> Prechecked | None:
        """What must be known before deciding ``event``, asked outside any transaction: the
        cross-check node's verdict, its route, its issuers' answers. None: not now (the
        sweep is marked ``deferred``, so the next comes sooner)."""
        gate = await self.corroboration.gate(event, stage)
        if isinstance(gate, Wait):
            self.deferred = True
            return None
        await self.routes.ensure(event)
        issuer: Checked | None = None
        if self.issuers is not None and self.issuers.queries(event, self.routes.routes):
            asked = await self.issuers.check(event, self.routes.routes)
            if isinstance(asked, Wait):
                self.deferred = True
                return None
            issuer = asked
        return Prechecked(gate.contradiction, issuer)

    @contextmanager
    def _deciding(self, prechecked: Mapping[Hash32, Prechecked]) -> Iterator[None]:
        """Make the prechecks of the transfers a transaction decides visible to it."""
        self._prechecked.update(prechecked)
        try:
            yield
        finally:
            self._prechecked.clear()

    async def _confirm_all(
        self, checked: Sequence[tuple[SourceEvent, Prechecked]]
    ) -> list[Applied | Rejected]:
        """Apply ``Confirmed`` to each stored event (with what its precheck found), in one
        transaction; see ``_confirm_in``."""
        prechecked = {event.transfer_id: pre for event, pre in checked}
        async with self.writer.transaction() as tx:
            with self._deciding(prechecked):
                return [await self._confirm_in(tx, event) for event, _ in checked]

    async def _confirm_in(self, tx: Transaction, event: SourceEvent) -> Applied | Rejected:
        """Apply ``Confirmed`` to a stored event, if it is still the one that was checked
        and still ``observed`` (a rescan may have moved or orphaned it meanwhile)."""
        tid = event.transfer_id
        current = await tx.get_transfer(tid)
        if current is None or current.status is not TransferStatus.OBSERVED:
            return Rejected(None if current is None else current.status, "Confirmed", "moved")
        if event_of(current) != event:
            return Rejected(current.status, "Confirmed", "the stored event changed")
        return await self.apply(tx, tid, Confirmed(event))

    async def _decide(self, event: SourceEvent, pre: Prechecked) -> bool:
        """Run the policy check a halt (or a missing answer) left undone; True if the
        transfer moved."""
        tid = event.transfer_id
        async with self.writer.transaction() as tx:
            with self._deciding({tid: pre}):
                state = await self.load_state(tx, tid)
                if state is None or state.status is not TransferStatus.CONFIRMED:
                    return False
                if state.sign_requested or state.refusal is not None or state.event != event:
                    return False
                decided = await self._run_effect(tx, state, CheckPolicy(state.event))
                if decided is None:
                    return False
                return isinstance(await self.apply(tx, tid, decided), Applied)

    async def confirm_loop(self, idle_s: float, retry_s: float | None = None) -> None:
        """Confirm what the watchers stored, as soon as they store it (or every ``idle_s``;
        every ``retry_s`` while the cross-check node has an event left to confirm)."""
        while True:
            wait_s = idle_s if retry_s is None or not self.deferred else min(idle_s, retry_s)
            await wait_for_wake(self.observed_ready, wait_s)
            try:
                await self.sweep()
            except RetryableError as err:  # RPC or database briefly away
                log.warning("confirming stored events failed; retrying", error=str(err))
