"""Veto, cancel and refund: the shell around ``relayer.domain.vetoes``.

Every ``veto_sweep_s`` (or at once when the processor queues a cancel or a refund):

1. vetoes stored by ``relayer veto`` are applied (``Vetoed``: we sign ``Cancel``);
2. a transfer we refused that a blocking minority refused (our refusal and the peers'
   signed refusals in ``decisions``) is vetoed automatically once ``veto_hold_s`` passed;
3. queued ``cancel`` (destination) and ``refund`` (source) transactions are sent, with a
   bundle built at send time from the stored signatures (a rotated set is followed), the
   k-th in line among the validators that signed that kind ``k * grace_period_s`` after
   the first, until the transfer moves on;
4. a cancelled transfer without our Refund signature (cancelled before this version) is
   signed, and each cancelled transfer's source is asked (``statusOf`` at its confirmed
   head) whether it was refunded (``RefundedOnSource``).

Peers' Cancel and Refund signatures arrive through ``receive``: the digest is computed
here (the destination's ``hashCancel``, or the ``Refund`` of our own record of the
transfer; a Cancel for another chain than a known transfer's destination is refused), the
signer must be a member of the set that checks it and recover from the signature; then
it is stored and the blocking minority (or quorum) checked, in one transaction. Settling
(``relayer.service.settle``) turns a cancel seen on the destination into ``cancelled``,
which signs the refund.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from relayer.api.metrics import Metrics
from relayer.chain.confirmation import confirmed_head
from relayer.chain.submission import (
    AlreadyProcessed,
    AwaitingFinality,
    Held,
    Mined,
    SubmitOutcome,
)
from relayer.chain.vetoes import (
    STATUS_CANCELLED,
    STATUS_EXECUTED,
    STATUS_REFUNDED,
    cancel_request,
    refund_request,
)
from relayer.domain.digest import cancel_digest
from relayer.domain.errors import InvalidSignatureError
from relayer.domain.signature import recover_signer
from relayer.domain.transfer import Input, RefundedOnSource, TransferStatus, Vetoed
from relayer.domain.types import Address, Hash32, SourceEvent, hex32
from relayer.domain.vetoes import auto_veto_due, refund_terms
from relayer.errors import RetryableError, RpcResponseError
from relayer.gossip.vetoes import KIND_CANCEL, VetoMessage
from relayer.log import get_logger, transfer_logger
from relayer.service.processor import Processor, event_of
from relayer.service.submit import Destination, submitter_rank
from relayer.store import AlertKind, Effect, EffectKind, TransferRecord, VetoSignature, utc_now
from relayer.store.outcomes import VetoRecorded
from relayer.wakeup import wait_for_wake

log = get_logger("vetoes")

S = TransferStatus
AUTO = "auto"  # who vetoes automatically (the vetoes table's ``vetoed_by``)
# an effect is done once its transfer left the status it was queued in
_WAITS_IN = {EffectKind.CANCEL: S.VETOED, EffectKind.REFUND: S.CANCELLED}
_SENT_ERRORS = (RetryableError, RpcResponseError, TimeoutError)


class Vetoes:
    """Applies vetoes, sends cancels and refunds, and takes peers' signatures of them."""

    def __init__(
        self,
        processor: Processor,
        destinations: Mapping[int, Destination],
        metrics: Metrics,
        *,
        hold_s: float,
        sweep_s: float,
        grace_period_s: float,
        send: bool = True,
    ) -> None:
        self.processor = processor
        self.destinations = destinations
        self.metrics = metrics
        self.hold_s = hold_s
        self.sweep_s = sweep_s
        self.grace_period_s = grace_period_s
        self.send = send  # False: sign and gossip only (``[submitter] enabled = false``)
        self._first_seen: dict[int, float] = {}  # effect id -> when this relayer saw it

    async def run(self) -> None:
        """A sweep every ``sweep_s``, or at once when a cancel or a refund is queued."""
        ready = self.processor.veto_ready
        while True:
            ready.clear()
            await self.processor.committed()
            try:
                await self.sweep()
            except* _SENT_ERRORS as group:
                log.warning("veto sweep failed; retrying", error=str(group.exceptions))
            await wait_for_wake(ready, self.sweep_s)

    async def sweep(self) -> int:
        """One round of the four steps (module docstring); returns how many moved."""
        moved = await self.apply_vetoes()
        moved += await self.auto_vetoes()
        if self.send:
            await self.send_due()
        moved += await self.refunds_seen()
        return moved

    # ------------------------------------------------------------------ vetoes

    async def apply_vetoes(self) -> int:
        """Apply the stored vetoes whose transfer has not moved to ``vetoed`` yet."""
        async with self.processor.store.reader() as tx:
            vetoes = await tx.vetoes_to_apply()
        moved = 0
        for veto in vetoes:
            async with self.processor.writer.transaction() as tx:
                vetoed = Vetoed(veto.transfer_id, veto.vetoed_by, veto.reason)
                applied = await self.processor.apply(tx, veto.transfer_id, vetoed)
                rec = await tx.get_transfer(veto.transfer_id)
            if applied.status is S.VETOED and rec is not None:
                moved += 1
                transfer_logger(
                    log, veto.transfer_id, rec.src_chain_id, rec.dst_chain_id, "vetoed"
                ).warning("transfer vetoed: Cancel signed", by=veto.vetoed_by, reason=veto.reason)
        return moved

    async def auto_vetoes(self) -> int:
        """Veto what we refused once a blocking minority refused it and the hold passed."""
        me = self.processor.signer.address
        now = self.processor.clock()
        due: list[tuple[Hash32, str]] = []
        async with self.processor.store.reader() as tx:
            for rec in await tx.refused_without_veto(500):
                vset = self.processor.sets.current.get(rec.dst_chain_id)
                ours = await tx.refusal_by(rec.transfer_id, me)
                if vset is None or ours is None:
                    continue
                decisions = await tx.decisions_for(rec.transfer_id)
                refusers = {d.signer for d in decisions if not d.decision.approved} | {me}
                verdict = auto_veto_due(vset, refusers, ours.at.timestamp(), now, self.hold_s)
                if verdict is not None:
                    due.append((rec.transfer_id, verdict.detail))
        moved = 0
        for transfer_id, detail in due:
            async with self.processor.writer.transaction() as tx:
                now_rec = await tx.get_transfer(transfer_id)
                if now_rec is None or now_rec.status is not S.REFUSED:  # it moved meanwhile
                    continue
                recorded = await tx.record_veto(transfer_id, AUTO, detail, automatic=True)
                if not isinstance(recorded, VetoRecorded):
                    continue
                await self.processor.apply(tx, transfer_id, Vetoed(transfer_id, AUTO, detail))
            moved += 1
            src, dst = now_rec.src_chain_id, now_rec.dst_chain_id
            transfer_logger(log, transfer_id, src, dst, "vetoed").warning(
                "transfer vetoed automatically", why=detail
            )
        return moved

    # ------------------------------------------------------------- transactions

    async def send_due(self) -> None:
        """Send the queued cancels and refunds that are due (staggered per transfer)."""
        kinds = [EffectKind.CANCEL, EffectKind.REFUND]
        async with self.processor.store.reader() as tx:
            effects = await tx.pending_effects(kinds, limit=200)
            records = {e.id: await tx.get_transfer(e.transfer_id) for e in effects}
        done = [
            e.id
            for e in effects
            if (rec := records[e.id]) is None or rec.status is not _WAITS_IN[e.kind]
        ]
        for effect in effects:
            rec = records[effect.id]
            if effect.id in done or rec is None:
                continue
            if effect.kind is EffectKind.REFUND and not self._refunds_here(rec):
                await self._alert_foreign_source(rec)
                done.append(effect.id)
                continue
            await self._send_if_due(effect, rec)
        if done:
            async with self.processor.writer.transaction() as tx:
                for effect_id in done:
                    await tx.mark_effect_done(effect_id)
                    self._first_seen.pop(effect_id, None)

    def _refunds_here(self, rec: TransferRecord) -> bool:
        """Whether this relayer sends to the contract where ``rec`` began."""
        src = self.destinations.get(rec.src_chain_id)
        return src is not None and src.contract == rec.src_contract

    async def _alert_foreign_source(self, rec: TransferRecord) -> None:
        detail = {
            "transfer_id": hex32(rec.transfer_id),
            "reason": "refund not sent: the transfer began at a contract this relayer does "
            f"not send to (0x{rec.src_contract.hex()} on chain {rec.src_chain_id})",
        }
        async with self.processor.writer.transaction() as tx:
            await tx.raise_alert(AlertKind.WARNING, rec.src_chain_id, detail)
        log.error("refund not sent", **detail)

    async def _send_if_due(self, effect: Effect, rec: TransferRecord) -> None:
        """Send one cancel or refund with a bundle built now from the stored signatures
        (the set may have rotated since the effect was queued), if it is our turn among
        the signers of its kind."""
        p = self.processor
        event = event_of(rec)
        cancel = effect.kind is EffectKind.CANCEL
        chain_id = rec.dst_chain_id if cancel else rec.src_chain_id
        dst = self.destinations.get(chain_id)
        if dst is None:
            return
        async with p.store.reader() as tx:
            if cancel:
                met = await p.cancel_bundle(tx, rec.transfer_id, chain_id)
            else:
                digest = p.refund_digest_of(rec.src_contract, chain_id, refund_terms(event))
                met = await p.refund_bundle(tx, rec.transfer_id, chain_id, digest)
            kind = "cancel" if cancel else "refund"
            signers = tuple(s.signer for s in await tx.veto_signatures_for(rec.transfer_id, kind))
        if met is None or not self._due(effect, signers):
            return
        try:
            outcome = await self._send(dst, effect, event, met.bundle)
        except _SENT_ERRORS as err:
            transfer_logger(
                log, effect.transfer_id, rec.src_chain_id, rec.dst_chain_id, rec.status
            ).warning(
                f"{effect.kind.value} not sent; retrying", error=f"{type(err).__name__}: {err}"
            )
            return
        if outcome is None:
            return
        self.metrics.veto_sent.labels(effect.kind.value, type(outcome).__name__.lower()).inc()
        quiet = isinstance(outcome, AlreadyProcessed | AwaitingFinality | Held)
        tlog = transfer_logger(
            log, effect.transfer_id, rec.src_chain_id, rec.dst_chain_id, rec.status
        )
        (tlog.debug if quiet else tlog.info)(
            f"{effect.kind.value} submission",
            chain_id=chain_id,
            outcome=type(outcome).__name__,
            detail=repr(outcome),
        )

    def _due(self, effect: Effect, signers: tuple[Address, ...]) -> bool:
        """Our turn: the first in line among the validators that signed this kind sends
        at once, the k-th ``k * grace_period_s`` after this relayer first saw it due."""
        rank = submitter_rank(effect.transfer_id, signers, self.processor.signer.address)
        first = self._first_seen.setdefault(effect.id, time.monotonic())
        return rank == 0 or time.monotonic() - first >= rank * self.grace_period_s

    async def _send(
        self, dst: Destination, effect: Effect, event: SourceEvent, bundle: bytes
    ) -> SubmitOutcome | None:
        """Send one cancel or refund (None: nothing to send, the settler catches up)."""
        if effect.kind is EffectKind.CANCEL:
            status = await dst.view.status_of(effect.transfer_id)
            if status in (STATUS_EXECUTED, STATUS_CANCELLED):
                return None  # the settler reads what happened at the confirmed head
            request = cancel_request(effect.transfer_id, dst.contract, bundle, status)
        else:
            request = refund_request(refund_terms(event), dst.contract, bundle)
        outcome = await dst.submitter.submit(request)
        if isinstance(outcome, Mined):
            self.processor.veto_ready.set()  # look again soon (a pause waits a sweep)
        return outcome

    # ----------------------------------------------------------------- refunds

    async def refunds_seen(self) -> int:
        """``RefundedOnSource`` for each cancelled transfer its source shows refunded at the
        source's confirmed head; a cancelled transfer without our Refund signature (one
        cancelled before this relayer signed refunds) is signed first."""
        async with self.processor.store.reader() as tx:
            cancelled = await tx.transfers_by_status(S.CANCELLED, 500)
            me = self.processor.signer.address
            unsigned = [
                rec.transfer_id
                for rec in cancelled
                if await tx.veto_signature_by(rec.transfer_id, "refund", me) is None
            ]
        for transfer_id in unsigned:
            async with self.processor.writer.transaction() as tx:
                await self.processor.sign_missing_refund(tx, transfer_id)
        moved = 0
        heads: dict[int, int | None] = {}
        for rec in cancelled:
            if not self._refunds_here(rec):
                continue
            src = self.destinations[rec.src_chain_id]
            if rec.src_chain_id not in heads:
                head = await confirmed_head(src.view.rpc, src.submitter.config.rule)
                heads[rec.src_chain_id] = None if head is None else head.number
            block = heads[rec.src_chain_id]
            if block is None or await src.view.status_of(rec.transfer_id, block) != STATUS_REFUNDED:
                continue
            async with self.processor.writer.transaction() as tx:
                applied = await self.processor.apply(
                    tx, rec.transfer_id, RefundedOnSource(rec.transfer_id)
                )
            if applied.status is S.REFUNDED:
                moved += 1
                transfer_logger(
                    log, rec.transfer_id, rec.src_chain_id, rec.dst_chain_id, "refunded"
                ).info("transfer refunded to its sender")
        return moved

    # ----------------------------------------------------------------- inbound

    async def receive(self, message: VetoMessage) -> str:
        """Check, store and count a peer's Cancel or Refund signature; the result label.
        A database away is ``not_stored``: the signature is retained on the broker and
        republished by its signer, so it comes again."""
        try:
            result = await self._receive(message)
        except RetryableError as err:
            log.warning(f"{message.kind} signature not stored; it comes again", error=str(err))
            result = "not_stored"
        self.metrics.veto_received.labels(message.kind, result).inc()
        if result != "accepted":
            log.debug(
                f"{message.kind} signature not counted",
                transfer_id=hex32(message.transfer_id),
                signer=hex32(message.signer),
                result=result,
            )
        return result

    async def _receive(self, message: VetoMessage) -> str:
        p = self.processor
        tid, chain = message.transfer_id, message.chain_id
        if message.signer == p.signer.address:
            return "own"
        async with p.writer.transaction() as tx:
            if message.kind == KIND_CANCEL:
                domain = p.domains.get(chain)
                if domain is None:
                    return "unknown_chain"
                known = await tx.get_transfer(tid)
                if known is not None and known.dst_chain_id != chain:
                    return "wrong_chain"  # a cancel elsewhere never cancels this transfer
                digest = cancel_digest(domain, tid)
            else:
                rec = await tx.get_transfer(tid)
                if rec is None:
                    return "unknown_transfer"
                if rec.src_chain_id != chain:
                    return "wrong_chain"
                terms = refund_terms(event_of(rec))
                digest = p.refund_digest_of(rec.src_contract, chain, terms)
            if message.digest != digest:
                return "wrong_digest"
            vset = p.sets.current.get(chain)
            if vset is None or vset.jurisdiction_of(message.signer) is None:
                return "not_member"
            try:
                if recover_signer(digest, message.signature) != message.signer:
                    return "bad_signature"
            except InvalidSignatureError:
                return "bad_signature"
            signature = VetoSignature(
                tid, message.kind, message.signer, chain, digest, message.signature, utc_now()
            )
            if not await tx.record_veto_signature(signature):
                return "duplicate"
            follow: Input | None
            if message.kind == KIND_CANCEL:
                follow = await p.cancel_check(tx, tid, chain)
            else:
                follow = await p.refund_check(tx, tid, chain, digest)
            if follow is not None and await tx.get_transfer(tid) is not None:
                await p.apply(tx, tid, follow)
        return "accepted"


def _described(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"
