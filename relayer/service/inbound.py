"""Peer attestations from gossip: verify, store, count toward quorum.

A received attestation counts only when (1) its signer is a member of a set the
destination contract accepts now, (2) its signature recovers to that signer over the
digest it carries, (3) that digest is the EIP-712 digest of the release it carries on
the destination named, and (4) the release equals the one this relayer derives from
its own observation of the source event. Attestations for transfers this relayer has
not observed yet wait in a bounded buffer and are replayed once it observes them.

A signer who attests two different digests for one transfer is an equivocator: both
signatures are stored as evidence and a warning alert names the signer.

Signed decisions (relayer.domain.decisions) travel with version-2 attestations (the
approval) and as refusal messages. An attestation whose decision signature does not
recover to its signer is refused whole (``bad_signature``). A refusal counts when its
signer is a member of a set the destination accepts now and its signature recovers to that
signer; it is stored as that validator's decision (for the status API and supervisors), and
waits in the same bounded buffer as attestations while the transfer is unknown here. A
signer's second, different decision on one transfer is kept out and alerted.

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
from relayer.domain.decisions import Decision, decision_digest
from relayer.domain.digest import release_digest
from relayer.domain.errors import InvalidSignatureError
from relayer.domain.signature import recover_signer
from relayer.domain.transfer import QuorumReached
from relayer.domain.types import Hash32, checksum, hex32
from relayer.errors import RejectedInputError, RetryableError
from relayer.gossip.refusals import RefusalMessage
from relayer.gossip.wire import AttestationMessage
from relayer.log import get_logger, transfer_logger
from relayer.service.processor import Applied, Processor, event_of
from relayer.store import AlertKind, Transaction
from relayer.store.outcomes import DecisionConflict, DecisionDuplicate, Duplicate, Equivocation

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


Inbound = AttestationMessage | RefusalMessage


def _transfer_of(message: Inbound) -> Hash32:
    if isinstance(message, RefusalMessage):
        return message.transfer_id
    return message.release.transfer_id


@dataclass
class PendingBuffer:
    """Messages for transfers not observed yet, bounded; the oldest go first."""

    capacity: int = 10_000
    _items: OrderedDict[tuple[Hash32, bytes, bytes], Inbound] | None = None

    def __post_init__(self) -> None:
        self._items = OrderedDict()

    def add(self, message: Inbound) -> bool:
        """Keep ``message``; returns False when an older one had to be dropped."""
        assert self._items is not None
        # Keyed by digest too: two different attestations by one signer (equivocation)
        # must both survive until the transfer is observed (a refusal: by its decision).
        if isinstance(message, RefusalMessage):
            digest = decision_digest(message.decision())
        else:
            digest = message.digest
        key = (_transfer_of(message), bytes(message.signer), bytes(digest))
        self._items[key] = message
        self._items.move_to_end(key)
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)
            return False
        return True

    def take(self, transfer_id: Hash32) -> list[Inbound]:
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

    def check_alone(self, msg: Inbound) -> Verdict | None:
        """The checks that need no stored state: membership, signatures, digest."""
        p = self.processor
        domain = p.domains.get(msg.dst_chain_id)
        if domain is None:
            return Verdict.UNKNOWN_CHAIN
        if p.sets.member_set(msg.dst_chain_id, msg.signer) is None:
            return Verdict.NOT_A_MEMBER
        decision = msg.decision()
        if isinstance(msg, RefusalMessage):
            return (
                None if _signed_by(msg.signer, decision, msg.signature) else Verdict.BAD_SIGNATURE
            )
        if not _signed_by(msg.signer, None, msg.signature, msg.digest):
            return Verdict.BAD_SIGNATURE
        if decision is not None and not _signed_by(msg.signer, decision, msg.decision_signature):
            return Verdict.BAD_SIGNATURE
        if release_digest(domain, msg.release) != msg.digest:
            return Verdict.WRONG_DIGEST
        return None

    async def handle(self, msg: Inbound) -> Verdict:
        """Verify ``msg`` and, if it counts, store it (and check the quorum)."""
        return (await self.handle_batch([msg]))[0]

    async def handle_batch(self, messages: Sequence[Inbound]) -> list[Verdict]:
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
                src, dst = _chains_of(msg)
                transfer_logger(log, _transfer_of(msg), src, dst, "gossip").info(
                    f"{_kind(msg)} not counted", verdict=verdict.value, signer=checksum(msg.signer)
                )
            self._count_for(msg, verdict)
        return done

    def _count_for(self, msg: Inbound, verdict: Verdict) -> None:
        if isinstance(msg, RefusalMessage):
            self.metrics.refusals_received.labels(verdict.value).inc()
        else:
            self._count(verdict)

    async def _apply_all(self, messages: Sequence[Inbound]) -> list[Verdict]:
        p = self.processor
        async with p.store.reader() as tx:
            known = await tx.get_transfers(_transfer_of(m) for m in messages)
        for rec in known.values():  # after a restart the route may be unread
            await p.routes.ensure(event_of(rec))
        reached: list[Hash32] = []
        async with p.writer.transaction() as tx:
            verdicts = [await self._apply_in(tx, msg, reached) for msg in messages]
        for tid in reached:
            crashpoints.reached(CrashPoint.QUORUM, transfer_id=hex32(tid))
        return verdicts

    async def _apply_in(self, tx: Transaction, msg: Inbound, reached: list[Hash32]) -> Verdict:
        """Store one checked message in ``tx``; a quorum an attestation completes is applied
        (its transfer id appended to ``reached``)."""
        if isinstance(msg, RefusalMessage):
            return await self._refusal_in(tx, msg)
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
            transfer_logger(log, tid, rec.src_chain_id, rec.dst_chain_id, rec.status).error(
                "EQUIVOCATION", signer=checksum(msg.signer)
            )
            return Verdict.EQUIVOCATION
        expected = p.expected_release(event_of(rec))
        if expected is None or expected[0] != msg.release or rec.dst_chain_id != msg.dst_chain_id:
            return Verdict.DIFFERENT_CONTENT
        if isinstance(outcome, Duplicate):  # its decision came with it the first time
            return Verdict.DUPLICATE
        decision = msg.decision()
        if decision is not None and msg.decision_signature is not None:
            await self._decision_in(tx, msg.dst_chain_id, decision, msg)
        met = await p.quorum(tx, tid, msg.dst_chain_id, expected[1])
        if met is not None and isinstance(await p.apply(tx, tid, QuorumReached(tid, met)), Applied):
            reached.append(tid)
        return Verdict.ACCEPTED

    async def _refusal_in(self, tx: Transaction, msg: RefusalMessage) -> Verdict:
        """Store a peer's checked refusal as its decision on a transfer known here."""
        rec = await tx.get_transfer(msg.transfer_id)
        if rec is None:
            return Verdict.BUFFERED if self.buffer.add(msg) else Verdict.BUFFER_FULL
        if rec.dst_chain_id != msg.dst_chain_id or rec.src_chain_id != msg.src_chain_id:
            return Verdict.DIFFERENT_CONTENT
        return await self._decision_in(tx, msg.dst_chain_id, msg.decision(), msg)

    async def _decision_in(
        self, tx: Transaction, dst_chain_id: int, decision: Decision, msg: Inbound
    ) -> Verdict:
        """Keep a peer's signed decision; a second, different one is alerted, never stored."""
        signature = msg.signature if isinstance(msg, RefusalMessage) else msg.decision_signature
        assert signature is not None  # only called with a signed decision
        outcome = await tx.record_decision(decision, msg.signer, signature)
        if isinstance(outcome, DecisionConflict):
            await tx.raise_alert(
                AlertKind.WARNING,
                dst_chain_id,
                {
                    "reason": "two different decisions by one validator on one transfer",
                    "signer": checksum(msg.signer),
                    "transfer_id": hex32(decision.transfer_id),
                    "stored": outcome.stored.decision.verdict,
                    "offered": decision.verdict,
                },
            )
            return Verdict.EQUIVOCATION
        return Verdict.DUPLICATE if isinstance(outcome, DecisionDuplicate) else Verdict.ACCEPTED

    async def consume(
        self,
        receive: Callable[[int], Awaitable[Sequence[Inbound]]],
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

    async def _attempt(self, batch: Sequence[Inbound], store_retry_s: float) -> BatchOutcome:
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
            for msg, verdict in zip(messages, await self._apply_all(messages), strict=True):
                self._count_for(msg, verdict)


def _chains_of(message: Inbound) -> tuple[int, int]:
    """(source, destination) as the message states them (checked against the transfer
    when it is counted)."""
    if isinstance(message, RefusalMessage):
        return message.src_chain_id, message.dst_chain_id
    return message.release.src_chain_id, message.dst_chain_id


def _kind(msg: Inbound) -> str:
    return "refusal" if isinstance(msg, RefusalMessage) else "attestation"


def _signed_by(
    signer: bytes, decision: Decision | None, signature: bytes | None, digest: bytes = b""
) -> bool:
    """Whether ``signature`` over ``decision``'s digest (or over ``digest``) recovers to
    ``signer``."""
    if signature is None:
        return False
    try:
        signed = digest if decision is None else decision_digest(decision)
        return recover_signer(signed, signature) == signer
    except InvalidSignatureError:
        return False
