"""Publishes this validator's attestations, refusals, and Cancel and Refund signatures:
the outbox's PUBLISH, PUBLISH_REFUSAL, PUBLISH_CANCEL and PUBLISH_REFUND effects, and
again periodically while a transfer is open (retained messages are lost if the broker
restarts without persistence; republishing the same retained payload is idempotent).
Each carries our signed decision (its policy hash) unless ``decisions`` is off (then
attestations go out as version 1 and refusals stay local)."""

from __future__ import annotations

import time
from typing import Any

from relayer import crashpoints
from relayer.crashpoints import CrashPoint
from relayer.domain.routing import build_release
from relayer.domain.transfer import TransferStatus
from relayer.domain.types import Hash32, hex32, parse_address
from relayer.errors import RetryableError
from relayer.gossip.refusals import RefusalMessage
from relayer.gossip.topics import TopicKey
from relayer.gossip.transport import MqttGossip
from relayer.gossip.vetoes import VetoMessage
from relayer.gossip.wire import AttestationMessage
from relayer.log import get_logger, transfer_logger
from relayer.service.processor import Processor, event_of
from relayer.store import Effect, EffectKind, Transaction, TransferRecord
from relayer.wakeup import wait_for_wake

log = get_logger("publisher")

UNRELEASED = (TransferStatus.ATTESTED, TransferStatus.QUORUM, TransferStatus.SUBMITTED)
REFUSED = (TransferStatus.REFUSED, TransferStatus.VETOED)  # our refusal still matters
# our Cancel (Refund) signature matters while the transfer is vetoed (cancelled)
VETO_PENDING = {TransferStatus.VETOED: "cancel", TransferStatus.CANCELLED: "refund"}
_VETO_EFFECTS = {EffectKind.PUBLISH_CANCEL: "cancel", EffectKind.PUBLISH_REFUND: "refund"}
Outgoing = AttestationMessage | RefusalMessage | VetoMessage


class Publisher:
    """Turns stored own signatures into retained gossip messages."""

    def __init__(
        self,
        processor: Processor,
        gossip: MqttGossip,
        *,
        poll_interval_s: float,
        republish_interval_s: float,
        idle_wakeup_s: float = 15.0,
        decisions: bool = True,
    ) -> None:
        self.processor = processor
        self.gossip = gossip
        self.poll_interval_s = poll_interval_s  # the wait before a retry after a failure
        self.idle_wakeup_s = idle_wakeup_s  # the longest sleep with nothing to publish
        self.republish_interval_s = republish_interval_s
        self.decisions = decisions
        self.published = 0
        self.withdrawn = 0

    async def _message_if_publish(self, tx: Transaction, effect: Effect) -> Outgoing | None:
        if effect.kind is EffectKind.PUBLISH:
            return await self.message_for(tx, effect.transfer_id)
        if effect.kind is EffectKind.PUBLISH_REFUSAL:
            return await self.refusal_for(tx, effect.transfer_id)
        if effect.kind in _VETO_EFFECTS:
            return await self.veto_for(tx, effect.transfer_id, _VETO_EFFECTS[effect.kind])
        return None

    async def veto_for(self, tx: Transaction, transfer_id: Hash32, kind: str) -> VetoMessage | None:
        """Our Cancel or Refund signature on ``transfer_id`` as a message (None: none)."""
        own = await tx.veto_signature_by(transfer_id, kind, self.processor.signer.address)
        if own is None:
            return None
        return VetoMessage(
            kind=kind,
            transfer_id=transfer_id,
            chain_id=own.chain_id,
            digest=own.digest,
            signer=own.signer,
            signature=own.signature,
            signed_at=int(own.received_at.timestamp()),
        )

    async def message_for(self, tx: Transaction, transfer_id: Hash32) -> AttestationMessage | None:
        rec = await tx.get_transfer(transfer_id)
        own = await tx.own_signature(transfer_id)
        if rec is None or own is None or rec.dst_token is None:
            return None
        me = self.processor.signer.address
        decided = await tx.decision_by(transfer_id, me) if self.decisions else None
        signed = decided is not None and decided.decision.approved
        return AttestationMessage(
            release=build_release(event_of(rec), rec.dst_token),
            dst_chain_id=rec.dst_chain_id,
            set_id=own.set_id,
            digest=own.digest,
            signer=me,
            signature=own.signature,
            signed_at=int(own.signed_at.timestamp()),
            policy=decided.decision.policy if signed and decided else None,
            decision_signature=decided.signature if signed and decided else None,
        )

    async def refusal_for(self, tx: Transaction, transfer_id: Hash32) -> RefusalMessage | None:
        """Our signed refusal of ``transfer_id`` as a message (None: none, or decisions off)."""
        if not self.decisions:
            return None
        rec = await tx.get_transfer(transfer_id)
        decided = await tx.decision_by(transfer_id, self.processor.signer.address)
        if rec is None or decided is None or decided.decision.approved:
            return None
        d = decided.decision
        return RefusalMessage(
            transfer_id=transfer_id,
            src_chain_id=rec.src_chain_id,
            dst_chain_id=rec.dst_chain_id,
            reason=d.verdict,
            detail=d.detail,
            policy=d.policy,
            signer=decided.signer,
            signature=decided.signature,
            signed_at=int(decided.received_at.timestamp()),
        )

    async def run(self) -> None:
        """Drain PUBLISH effects whenever the processor queues some; republish on a timer.

        With nothing to do it sleeps until the processor signals (or ``idle_wakeup_s``);
        after a failure it retries every ``poll_interval_s``."""
        last_republish = time.monotonic()
        ready = self.processor.outbox_ready
        while True:
            ready.clear()
            await self.processor.committed()  # what signalled is readable now
            wait_s = self.idle_wakeup_s
            try:
                drained = await self.drain()
                if time.monotonic() - last_republish >= self.republish_interval_s:
                    await self.republish()
                    last_republish = time.monotonic()
                if drained:
                    continue  # a full page may have more behind it
            except RetryableError as err:  # broker or database briefly away: retry later
                log.warning("publishing deferred", error=str(err))
                wait_s = self.poll_interval_s
            until_republish = self.republish_interval_s - (time.monotonic() - last_republish)
            await wait_for_wake(ready, min(wait_s, until_republish))

    async def drain(self) -> int:
        """Run every pending PUBLISH and WITHDRAW effect, in the order they were queued;
        returns how many were done. The effects done are marked so in one transaction at
        the end (also when a publish fails half-way); one that was sent but not marked (a
        crash) is sent again, which is idempotent."""
        store = self.processor.store
        async with store.reader() as tx:
            kinds = [
                EffectKind.PUBLISH,
                EffectKind.PUBLISH_REFUSAL,
                EffectKind.WITHDRAW,
                *_VETO_EFFECTS,
            ]
            effects = await tx.pending_effects(kinds, limit=500)
            messages = [(e, await self._message_if_publish(tx, e)) for e in effects]
            records = await tx.get_transfers(e.transfer_id for e in effects)  # for the logs
        done: list[int] = []
        try:
            await self._run(messages, records, done)
        finally:
            if done:
                async with self.processor.writer.transaction() as tx:
                    for effect_id in done:
                        await tx.mark_effect_done(effect_id)
        return len(done)

    async def _run(
        self,
        messages: list[tuple[Effect, Outgoing | None]],
        records: dict[Hash32, TransferRecord],
        done: list[int],
    ) -> None:
        for effect, message in messages:
            rec = records.get(effect.transfer_id)
            if effect.kind is EffectKind.WITHDRAW:
                dst = int(effect.payload["dst_chain_id"])
                signer = parse_address(str(effect.payload["signer"]), "withdraw signer")
                key = TopicKey(dst, effect.transfer_id, signer)
                topic = str(effect.payload.get("topic", "attestation"))
                if topic == "refusal":
                    await self.gossip.clear_refusal(key)
                else:
                    await self.gossip.clear(key)
                self.withdrawn += 1
                _log_of(effect, rec, "withdrawn").info(f"{topic} withdrawn")
            elif isinstance(message, VetoMessage):
                await self.gossip.publish_veto(message)
                _log_of(effect, rec, "vetoed").info(
                    f"{message.kind} signature published", chain_id=message.chain_id
                )
            elif isinstance(message, RefusalMessage):
                await self.gossip.publish_refusal(message)
                _log_of(effect, rec, "refused").info("refusal published", reason=message.reason)
            elif message is not None:
                await self.gossip.publish(message)
                crashpoints.reached(CrashPoint.PUBLISHED, transfer_id=hex32(effect.transfer_id))
                self.published += 1
                _log_of(effect, rec, "attested").info("attestation published")
            done.append(effect.id)

    async def republish(self) -> int:
        """Publish again our attestations of every transfer not yet released, our refusals
        of every transfer still refused (or vetoed), and our Cancel (Refund) signature of
        every transfer still vetoed (cancelled)."""
        count = 0
        async with self.processor.store.reader() as tx:
            messages: list[Outgoing] = []
            for status in UNRELEASED:
                for rec in await tx.transfers_by_status(status, limit=1000):
                    message = await self.message_for(tx, rec.transfer_id)
                    if message is not None:
                        messages.append(message)
            for status in REFUSED:
                for rec in await tx.transfers_by_status(status, limit=1000):
                    refusal = await self.refusal_for(tx, rec.transfer_id)
                    if refusal is not None:
                        messages.append(refusal)
            for status, kind in VETO_PENDING.items():
                for rec in await tx.transfers_by_status(status, limit=1000):
                    veto = await self.veto_for(tx, rec.transfer_id, kind)
                    if veto is not None:
                        messages.append(veto)
        for outgoing in messages:
            if isinstance(outgoing, VetoMessage):
                await self.gossip.publish_veto(outgoing)
            elif isinstance(outgoing, RefusalMessage):
                await self.gossip.publish_refusal(outgoing)
            else:
                await self.gossip.publish(outgoing)
            count += 1
        return count


def _log_of(effect: Effect, rec: TransferRecord | None, fallback_stage: str) -> Any:
    """The logger of ``effect``'s transfer, with its chains and stage (every transfer line
    carries them; an effect always has its transfer stored, ``rec`` is None only if not)."""
    if rec is None:
        return log.bind(transfer_id=hex32(effect.transfer_id), stage=fallback_stage)
    return transfer_logger(log, effect.transfer_id, rec.src_chain_id, rec.dst_chain_id, rec.status)
