"""Audit chain heads: sign and publish ours, verify and keep the others'.

Every ``audit.head_interval_s`` this validator signs the head of its audit chain (the newest
link's seq and hash, relayer.domain.audit_heads) and publishes it, retained, on its own topic,
with the latest heads it holds of the other validators (each with its own validator's
signature; more than fit one message are relayed in turns). Every validator keeps every
distinct head it receives, so a head of ours that another validator saw comes back to us in
that validator's message, and ``relayer audit verify`` checks that our chain still contains
it: cutting or rewriting the tail is seen from another operator's copy.

A received head counts when its sender is a member of a validator set this relayer knows
and the signature recovers to the head's validator (relayed heads: to theirs). Two heads of
one validator that contradict each other (one seq, two hashes; a later head with a lower
seq) are that validator's own signed evidence of a rewritten chain: both are kept and a
``critical`` alert names the validator (it does not stop signing: the chain at fault is
someone else's, or ours, which the operator must look into).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from relayer.domain.audit_heads import (
    AuditHead,
    HeadConflict,
    SignedHead,
    WitnessedHead,
    audit_head_digest,
)
from relayer.domain.errors import InvalidSignatureError
from relayer.domain.signature import recover_signer
from relayer.domain.types import Address, checksum, hex32
from relayer.errors import RetryableError
from relayer.gossip.audit_heads import MAX_WITNESSED, AuditHeadMessage
from relayer.keys import Signer
from relayer.log import get_logger
from relayer.service.writer import Writer
from relayer.store import AlertKind, Transaction
from relayer.store.heads import HeadConflicting

log = get_logger("audit_heads")

Publish = Callable[[AuditHeadMessage], Awaitable[None]]


class HeadVerdict(enum.StrEnum):
    """What became of one received audit head message."""

    ACCEPTED = "accepted"  # its heads were checked and kept (or known already)
    OWN = "own"  # our own message, back from the broker
    NOT_A_MEMBER = "not_a_member"
    BAD_SIGNATURE = "bad_signature"
    NOT_STORED = "not_stored"  # the database was away; the retained copy comes again


def signed_by(signed: SignedHead) -> bool:
    """Whether ``signed``'s signature recovers to the head's own validator."""
    try:
        return recover_signer(audit_head_digest(signed.head), signed.signature) == (
            signed.head.validator
        )
    except InvalidSignatureError:
        return False


class AuditHeads:
    """This validator's side of the audit head gossip (see the module docstring)."""

    def __init__(
        self,
        writer: Writer,
        signer: Signer,
        is_member: Callable[[Address], bool],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.writer = writer
        self.signer = signer
        self.is_member = is_member
        self._clock = clock
        self._last_at = 0  # a head is never dated before the previous one (clock steps)
        self._turn = 0  # which of the others' heads are relayed, when not all fit

    # ------------------------------------------------------------------- outbound

    async def sign_head(self) -> AuditHeadMessage:
        """Our chain's head, signed now, with the latest heads we hold of the others."""
        async with self.writer.store.reader() as tx:
            seq, digest = await tx.audit_tip()
            held = await tx.latest_audit_heads(exclude=self.signer.address)
        self._last_at = max(self._last_at, int(self._clock()))
        head = AuditHead(self.signer.address, seq, digest, self._last_at)
        own = SignedHead(head, self.signer.sign_digest(audit_head_digest(head)))
        relayed = [stored.signed for stored in held]
        if len(relayed) > MAX_WITNESSED:
            start = self._turn % len(relayed)
            relayed = (relayed[start:] + relayed[:start])[:MAX_WITNESSED]
            self._turn += MAX_WITNESSED
        relayed.sort(key=lambda s: s.head.validator)
        return AuditHeadMessage(own=own, witnessed=tuple(relayed))

    async def publish_once(self, publish: Publish) -> AuditHeadMessage:
        """Sign our head and publish it (a `BrokerError` propagates: the next turn retries)."""
        message = await self.sign_head()
        await publish(message)
        log.debug("audit head published", seq=message.own.head.seq, relayed=len(message.witnessed))
        return message

    # -------------------------------------------------------------------- inbound

    async def receive(self, message: AuditHeadMessage) -> HeadVerdict:
        """Verify a validator's head message and keep every head in it that checks out."""
        sender = message.signer
        if sender == self.signer.address:
            return HeadVerdict.OWN
        if not self.is_member(sender):
            verdict = HeadVerdict.NOT_A_MEMBER
        elif not signed_by(message.own):
            verdict = HeadVerdict.BAD_SIGNATURE
        else:
            verdict = await self._keep(sender, [message.own, *self._relayed(message)])
        if verdict is not HeadVerdict.ACCEPTED:
            log.info("audit head not kept", verdict=verdict.value, sender=checksum(sender))
        return verdict

    def _relayed(self, message: AuditHeadMessage) -> list[SignedHead]:
        """The relayed heads worth keeping: of members (or ours), correctly signed."""
        kept = []
        for signed in message.witnessed:
            validator = signed.head.validator
            member = validator == self.signer.address or self.is_member(validator)
            if member and signed_by(signed):
                kept.append(signed)
            else:
                log.info(
                    "relayed audit head ignored",
                    witness=checksum(message.signer),
                    validator=checksum(validator),
                    reason="bad signature" if member else "not a member",
                )
        return kept

    async def _keep(self, witness: Address, heads: Sequence[SignedHead]) -> HeadVerdict:
        try:
            async with self.writer.transaction() as tx:
                for signed in heads:
                    ours = signed.head.validator == self.signer.address
                    outcome = await tx.record_audit_head(
                        WitnessedHead(signed, witness), each_witness=ours
                    )
                    if isinstance(outcome, HeadConflicting):
                        await _alert(tx, outcome.conflict, witness)
        except RetryableError as err:
            log.warning("audit heads not stored", error=str(err), witness=checksum(witness))
            return HeadVerdict.NOT_STORED
        return HeadVerdict.ACCEPTED


async def _alert(tx: Transaction, conflict: HeadConflict, witness: Address) -> None:
    validator = checksum(conflict.new.validator)
    reason = {
        "rewritten": "audit chain rewritten: two signed heads with one seq and two hashes",
        "regressed": "audit chain went backwards: a later signed head has a lower seq",
    }[conflict.kind.value]
    detail: dict[str, Any] = {
        "reason": reason,
        "kind": conflict.kind.value,
        "validator": validator,
        "stored": _head_detail(conflict.stored),
        "new": {**_head_detail(conflict.new), "witness": checksum(witness)},
    }
    await tx.raise_alert(AlertKind.CRITICAL, None, detail)
    log.error("AUDIT CHAIN REWRITE", validator=validator, kind=conflict.kind.value)


def _head_detail(head: AuditHead) -> dict[str, Any]:
    return {"seq": head.seq, "hash": hex32(head.hash), "at": head.at}
