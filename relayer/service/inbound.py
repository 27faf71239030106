"""Peer attestations from gossip: verify, store, count toward quorum.

A received attestation counts only when (1) its signer is a member of a set the
destination contract accepts now, (2) its signature recovers to that signer over the
digest it carries, (3) that digest is the EIP-712 digest of the release it carries on
the destination named, and (4) the release equals the one this relayer derives from
its own observation of the source event. Attestations for transfers this relayer has
not observed yet wait in a bounded buffer and are replayed once it observes them.

A signer who attests two different digests for one transfer is an equivocator: both
signatures are stored as evidence and a warning alert names the signer.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass

from relayer import crashpoints
from relayer.api.metrics import Metrics
from relayer.crashpoints import CrashPoint
from relayer.domain.digest import release_digest
from relayer.domain.errors import InvalidSignatureError
from relayer.domain.signature import recover_signer
from relayer.domain.transfer import QuorumReached
from relayer.domain.types import Hash32, checksum, hex32
from relayer.gossip.wire import AttestationMessage
from relayer.log import get_logger
from relayer.service.processor import Applied, Processor, event_of
from relayer.store import AlertKind
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
        failed = self.check_alone(msg)
        verdict = failed if failed is not None else await self._apply(msg)
        if verdict not in (Verdict.ACCEPTED, Verdict.DUPLICATE):
            log.info(
                "attestation not counted",
                verdict=verdict.value,
                signer=checksum(msg.signer),
                transfer_id=hex32(msg.release.transfer_id),
            )
        return self._count(verdict)

    async def _apply(self, msg: AttestationMessage) -> Verdict:
        p = self.processor
        tid = msg.release.transfer_id
        vset = p.sets.member_set(msg.dst_chain_id, msg.signer)
        set_id = 0 if vset is None else vset.set_id
        async with p.store.reader() as tx:
            known = await tx.get_transfer(tid)
        if known is not None:
            await p.routes.ensure(event_of(known))  # after a restart the route may be unread
        async with p.lock, p.store.transaction() as tx:
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
            if (
                expected is None
                or expected[0] != msg.release
                or rec.dst_chain_id != msg.dst_chain_id
            ):
                return Verdict.DIFFERENT_CONTENT
            if isinstance(outcome, Duplicate):
                return Verdict.DUPLICATE
            met = await p.quorum(tx, tid, msg.dst_chain_id, expected[1])
            quorum = None if met is None else await p.apply(tx, tid, QuorumReached(tid, met))
        if isinstance(quorum, Applied):
            crashpoints.reached(CrashPoint.QUORUM, transfer_id=hex32(tid))
        return Verdict.ACCEPTED

    async def replay_buffered(self, transfer_id: Hash32) -> None:
        """Apply attestations that arrived before this relayer observed ``transfer_id``."""
        for msg in self.buffer.take(transfer_id):
            self._count(await self._apply(msg))
