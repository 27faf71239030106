"""Publishes this validator's attestations: the outbox's PUBLISH effects, and again
periodically while a transfer is unreleased (retained messages are lost if the
broker restarts without persistence; republishing the same retained payload is
idempotent)."""

from __future__ import annotations

import time

from relayer import crashpoints
from relayer.crashpoints import CrashPoint
from relayer.domain.routing import build_release
from relayer.domain.transfer import TransferStatus
from relayer.domain.types import Hash32, hex32, parse_address
from relayer.errors import RetryableError
from relayer.gossip.topics import TopicKey
from relayer.gossip.transport import MqttGossip
from relayer.gossip.wire import AttestationMessage
from relayer.log import get_logger
from relayer.service.processor import Processor, event_of
from relayer.store import Effect, EffectKind, Transaction
from relayer.wakeup import wait_for_wake

log = get_logger("publisher")

UNRELEASED = (TransferStatus.ATTESTED, TransferStatus.QUORUM, TransferStatus.SUBMITTED)


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
    ) -> None:
        self.processor = processor
        self.gossip = gossip
        self.poll_interval_s = poll_interval_s  # the wait before a retry after a failure
        self.idle_wakeup_s = idle_wakeup_s  # the longest sleep with nothing to publish
        self.republish_interval_s = republish_interval_s
        self.published = 0
        self.withdrawn = 0

    async def _message_if_publish(
        self, tx: Transaction, effect: Effect
    ) -> AttestationMessage | None:
        if effect.kind is not EffectKind.PUBLISH:
            return None
        return await self.message_for(tx, effect.transfer_id)

    async def message_for(self, tx: Transaction, transfer_id: Hash32) -> AttestationMessage | None:
        rec = await tx.get_transfer(transfer_id)
        own = await tx.own_signature(transfer_id)
        if rec is None or own is None or rec.dst_token is None:
            return None
        return AttestationMessage(
            release=build_release(event_of(rec), rec.dst_token),
            dst_chain_id=rec.dst_chain_id,
            set_id=own.set_id,
            digest=own.digest,
            signer=self.processor.signer.address,
            signature=own.signature,
            signed_at=int(own.signed_at.timestamp()),
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
            effects = await tx.pending_effects([EffectKind.PUBLISH, EffectKind.WITHDRAW], limit=500)
            messages = [(e, await self._message_if_publish(tx, e)) for e in effects]
        done: list[int] = []
        try:
            await self._run(messages, done)
        finally:
            if done:
                async with self.processor.writer.transaction() as tx:
                    for effect_id in done:
                        await tx.mark_effect_done(effect_id)
        return len(done)

    async def _run(
        self, messages: list[tuple[Effect, AttestationMessage | None]], done: list[int]
    ) -> None:
        for effect, message in messages:
            if effect.kind is EffectKind.WITHDRAW:
                dst = int(effect.payload["dst_chain_id"])
                signer = parse_address(str(effect.payload["signer"]), "withdraw signer")
                await self.gossip.clear(TopicKey(dst, effect.transfer_id, signer))
                self.withdrawn += 1
                log.info("attestation withdrawn", transfer_id=hex32(effect.transfer_id))
            elif message is not None:
                await self.gossip.publish(message)
                crashpoints.reached(CrashPoint.PUBLISHED, transfer_id=hex32(effect.transfer_id))
                self.published += 1
                log.info(
                    "attestation published",
                    transfer_id=hex32(effect.transfer_id),
                    dst_chain_id=message.dst_chain_id,
                    stage="attested",
                )
            done.append(effect.id)

    async def republish(self) -> int:
        """Publish again our attestations of every transfer not yet released."""
        count = 0
        async with self.processor.store.reader() as tx:
            messages = []
            for status in UNRELEASED:
                for rec in await tx.transfers_by_status(status, limit=1000):
                    message = await self.message_for(tx, rec.transfer_id)
                    if message is not None:
                        messages.append(message)
        for message in messages:
            await self.gossip.publish(message)
            count += 1
        return count
