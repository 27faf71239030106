"""Peer attestations from gossip: verify, store, count toward quorum.

A received attestation counts only when (1) its signer is a member of a set the
destination contract accepts now, (2) its signature recovers to that signer over the
digest it carries, (3) that digest is the EIP-712 digest of the release it carries on
the destination named, and (4) the release equals the one this relayer derives from
its own observation of the source event. Attestations for transfers this relayer has
not observed yet wait in a bounded buffer and are replayed once it observes them.

A signer who attests two different digests for one transfer is an equivocator: both
signatures are stored as evidence and a warning alert names the signer.

``consume`` takes the attestations already waiting as one batch (up to a setting) and
applies them in ONE writing transaction: under a burst each relayer receives four peer
attestations per transfer, and one commit for the lot replaces one per message. A batch
that fails on a rejected input (a bad node answer) is handled again message by message,
so one bad input costs no other; the database or a node briefly away is retried with
backoff for ``store_retry_s`` before the batch is given up (the signers republish while
their transfers are open).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from relayer import crashpoints
from relayer.api.metrics import Metrics
from relayer.crashpoints import CrashPoint
from relayer.domain.digest import release_digest
from relayer.domain.errors import InvalidSignatureError
from relayer.domain.signature import recover_signer
from relayer.domain.transfer import QuorumReached
from relayer.domain.types import Hash32, checksum, hex32
from relayer.errors import RejectedInputError, RetryableError
from relayer.gossip.wire import AttestationMessage
from relayer.log import get_logger
from relayer.service.processor import Applied, Processor, event_of
from relayer.store import AlertKind, Transaction
from relayer.store.outcomes import Duplicate, Equivocation

log = get_logger("inbound")


class Verdict(enum.StrEnum):
    """What became of one received attestation; the value is the metrics label."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    BUFFERED = "buffered"
    UNKNOWN_CHAIN = "unknown_chain"
    NOT_A_MEMBER = "not_a_member"
    BAD_SIGNATURE = "bad_signature"
    WRONG_DIGEST = "wrong_digest"  # digest is not the release's digest on that chain
    DIFFERENT_CONTENT = "different_content"  # release differs from our own observation
    EQUIVOCATION = "equivocation"
    BUFFER_FULL = "buffer_full"


class BatchOutcome(enum.Enum):
    """How one attempt at a batch of received attestations ended."""

    HANDLED = "handled"
    REJECTED = "rejected"  # an input was refused (a bad node answer): try them one by one
    GAVE_UP = "gave_up"  # the database or a node stayed away for store_retry_s


@dataclass
class PendingBuffer:
    """Attestations for transfers not observed yet, bounded; the oldest go first."""

    capacity: int = 10_000
    _items: OrderedDict[tuple[Hash32, bytes, bytes], AttestationMessage] | None = None

    def __post_init__(self) -> None:
        self._items = OrderedDict()

    def add(self, message: AttestationMessage) -> bool:
        """Keep ``message``; returns False when an older one had to be dropped."""
        assert self._items is not None
        # Keyed by digest too: two different attestations by one signer (equivocation)
        # must both survive until the transfer is observed.
        key = (message.release.transfer_id, bytes(message.signer), bytes(message.digest))
        self._items[key] = message
        self._items.move_to_end(key)
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)
            return False
        return True

    def take(self, transfer_id: Hash32) -> list[AttestationMessage]:
        """Remove and return every buffered attestation of ``transfer_id``."""
        assert self._items is not None
        keys = [k for k in self._items if k[0] == transfer_id]
        return [self._items.pop(k) for k in keys]

    def __len__(self) -> int:
        assert self._items is not None
        return len(self._items)


class InboundVerifier:
    """Checks and applies attestations received from peers."""

    def __init__(self, processor: Processor, metrics: Metrics, buffer_capacity: int = 10_000):
        self.processor = processor
        self.metrics = metrics
        self.buffer = PendingBuffer(buffer_capacity)

    def _count(self, verdict: Verdict) -> Verdict:
        self.metrics.attestations.labels(verdict.value).inc()
        return verdict

    def check_alone(self, msg: AttestationMessage) -> Verdict | None:
        """The checks that need no stored state: membership, signature, digest."""
        p = self.processor
        domain = p.domains.get(msg.dst_chain_id)
        if domain is None:
            return Verdict.UNKNOWN_CHAIN
        if p.sets.member_set(msg.dst_chain_id, msg.signer) is None:
            return Verdict.NOT_A_MEMBER
        try:
            if recover_signer(msg.digest, msg.signature) != msg.signer:
                return Verdict.BAD_SIGNATURE
        except InvalidSignatureError:
            return Verdict.BAD_SIGNATURE
        if release_digest(domain, msg.release) != msg.digest:
            return Verdict.WRONG_DIGEST
        return None

    async def handle(self, msg: AttestationMessage) -> Verdict:
        """Verify ``msg`` and, if it counts, store it and check the quorum."""
        return (await self.handle_batch([msg]))[0]

    async def handle_batch(self, messages: Sequence[AttestationMessage]) -> list[Verdict]:
        """Verify ``messages``; store those that count and check their quorums, all in one
        writing transaction. The verdicts, in order (counted once the batch committed)."""
        verdicts: list[Verdict | None] = [self.check_alone(m) for m in messages]
        todo = [i for i, v in enumerate(verdicts) if v is None]
        if todo:
            applied = await self._apply_all([messages[i] for i in todo])
            for i, verdict in zip(todo, applied, strict=True):
                verdicts[i] = verdict
        done = [v for v in verdicts if v is not None]
        for msg, verdict in zip(messages, done, strict=True):
            if verdict not in (Verdict.ACCEPTED, Verdict.DUPLICATE):
                log.info(
                    "attestation not counted",
                    verdict=verdict.value,
                    signer=checksum(msg.signer),
                    transfer_id=hex32(msg.release.transfer_id),
                )
            self._count(verdict)
        return done

    async def _apply_all(self, messages: Sequence[AttestationMessage]) -> list[Verdict]:
        p = self.processor
        async with p.store.reader() as tx:
            known = await tx.get_transfers(m.release.transfer_id for m in messages)
        for rec in known.values():  # after a restart the route may be unread
            await p.routes.ensure(event_of(rec))
        reached: list[Hash32] = []
        async with p.writer.transaction() as tx:
            verdicts = [await self._apply_in(tx, msg, reached) for msg in messages]
        for tid in reached:
            crashpoints.reached(CrashPoint.QUORUM, transfer_id=hex32(tid))
        return verdicts

    async def _apply_in(
        self, tx: Transaction, msg: AttestationMessage, reached: list[Hash32]
    ) -> Verdict:
        """Store one checked attestation in ``tx``; a quorum it completes is applied (its
        transfer id appended to ``reached``)."""
        p = self.processor
        tid = msg.release.transfer_id
        vset = p.sets.member_set(msg.dst_chain_id, msg.signer)
        set_id = 0 if vset is None else vset.set_id
        rec = await tx.get_transfer(tid)
        if rec is None:
            return Verdict.BUFFERED if self.buffer.add(msg) else Verdict.BUFFER_FULL
        outcome = await tx.record_attestation(msg.to_attestation(), set_id)
        if isinstance(outcome, Equivocation):
            await tx.raise_alert(
                AlertKind.WARNING,
                msg.dst_chain_id,
                {
                    "reason": "equivocation: one signer, two releases for one transfer",
                    "signer": checksum(msg.signer),
                    "transfer_id": hex32(tid),
                    "digests": [hex32(outcome.stored_digest), hex32(outcome.new_digest)],
                    "evidence_id": outcome.evidence_id,
                },
            )
            log.error("EQUIVOCATION", signer=checksum(msg.signer), transfer_id=hex32(tid))
            return Verdict.EQUIVOCATION
        expected = p.expected_release(event_of(rec))
        if expected is None or expected[0] != msg.release or rec.dst_chain_id != msg.dst_chain_id:
            return Verdict.DIFFERENT_CONTENT
        if isinstance(outcome, Duplicate):
            return Verdict.DUPLICATE
        met = await p.quorum(tx, tid, msg.dst_chain_id, expected[1])
        if met is not None and isinstance(await p.apply(tx, tid, QuorumReached(tid, met)), Applied):
            reached.append(tid)
        return Verdict.ACCEPTED

    async def consume(
        self,
        receive: Callable[[int], Awaitable[Sequence[AttestationMessage]]],
        batch_max: int,
        store_retry_s: float,
    ) -> None:
        """Handle received attestations forever: ``receive(n)`` waits for at least one and
        returns at most ``n``; see the module docstring for batches and failures."""
        while True:
            batch = await receive(batch_max)
            outcome = await self._attempt(batch, store_retry_s)
            if outcome is BatchOutcome.REJECTED and len(batch) > 1:
                for message in batch:  # one rejected input must not cost the others
                    await self._attempt([message], store_retry_s)

    async def _attempt(
        self, batch: Sequence[AttestationMessage], store_retry_s: float
    ) -> BatchOutcome:
        pause, deadline = 0.2, time.monotonic() + store_retry_s
        while True:
            try:
                await self.handle_batch(batch)
            except RejectedInputError as err:  # e.g. a chain read got a bad answer
                log.warning("attestations not handled; bad node answer", error=str(err))
                return BatchOutcome.REJECTED
            except RetryableError as err:  # the database, or a chain read, briefly away
                if time.monotonic() > deadline:
                    log.warning(
                        "attestations not handled; giving up", error=str(err), count=len(batch)
                    )
                    return BatchOutcome.GAVE_UP
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
            else:
                return BatchOutcome.HANDLED

    async def replay_buffered(self, transfer_ids: Sequence[Hash32]) -> None:
        """Apply attestations that arrived before this relayer observed ``transfer_ids``
        (checked when they arrived), in one transaction."""
        messages = [m for tid in transfer_ids for m in self.buffer.take(tid)]
        if messages:
            for verdict in await self._apply_all(messages):
                self._count(verdict)
