"""Audit chain heads: this chain's tip, and the signed heads received from the others."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from relayer.domain.audit_heads import (
    GENESIS_HASH,
    AuditHead,
    SignedHead,
    WitnessedHead,
    conflict_between,
)
from relayer.domain.types import Address, Hash32
from relayer.store.heads import (
    HeadConflicting,
    HeadKnown,
    HeadOutcome,
    HeadRecorded,
    StoredAuditHead,
)
from relayer.store.models import AuditHeadRow, AuditRow
from relayer.store.ops.base import TxBase


def _stored(row: AuditHeadRow) -> StoredAuditHead:
    head = AuditHead(Address(row.validator), row.seq, Hash32(row.hash), row.at)
    return StoredAuditHead(SignedHead(head, row.signature), Address(row.witness), row.received_at)


class AuditHeadOps(TxBase):
    """Record received heads (conflicts found in the same statement order); read them."""

    async def audit_tip(self) -> tuple[int, Hash32]:
        """This validator's newest audit link: (seq, hash), or (0, zero hash) when empty."""
        result = await self._exec(
            select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
        )
        row = result.first()
        if row is None:
            return 0, GENESIS_HASH
        seq, digest = tuple[Any, ...](row)
        return int(seq), Hash32(digest)

    async def record_audit_head(
        self, witnessed: WitnessedHead, *, each_witness: bool = False
    ) -> HeadOutcome:
        """Keep a checked head (its signature verified by the caller) unless this
        (validator, seq, hash) is stored already (with ``each_witness``, for our own heads:
        unless it is stored already from this witness). A new one is compared with the
        stored heads of its validator: one seq with another hash, or a later head with a
        lower seq (or an earlier one with a higher), is a conflict (stored too, as evidence).
        """
        head = witnessed.head
        row = AuditHeadRow
        same = await self._exec(
            select(row.witness)
            .where(
                row.validator == bytes(head.validator),
                row.seq == head.seq,
                row.hash == bytes(head.hash),
            )
            .limit(1)
        )
        known = same.first() is not None
        if known and not each_witness:
            return HeadKnown()
        inserted = await self._insert_ignore(
            AuditHeadRow,
            {
                "validator": bytes(head.validator),
                "seq": head.seq,
                "hash": bytes(head.hash),
                "at": head.at,
                "signature": witnessed.signed.signature,
                "witness": bytes(witnessed.witness),
                "received_at": self._now(),
            },
        )
        if not inserted:
            return HeadKnown()
        if known:  # another witness of a head compared when it first came
            return HeadRecorded()
        contradicting = or_(
            and_(row.seq == head.seq, row.hash != bytes(head.hash)),
            and_(row.at < head.at, row.seq > head.seq),
            and_(row.at > head.at, row.seq < head.seq),
        )
        result = await self._exec(
            select(row)
            .where(row.validator == bytes(head.validator), contradicting)
            .order_by(row.seq, row.hash)
            .limit(1)
        )
        found = result.scalars().first()
        if found is None:
            return HeadRecorded()
        conflict = conflict_between(_stored(found).head, head)
        assert conflict is not None  # the query is conflict_between in SQL
        return HeadConflicting(conflict)

    async def audit_heads_of(self, validator: Address) -> tuple[StoredAuditHead, ...]:
        """Every stored head of ``validator``, by seq."""
        result = await self._exec(
            select(AuditHeadRow)
            .where(AuditHeadRow.validator == bytes(validator))
            .order_by(AuditHeadRow.seq, AuditHeadRow.hash, AuditHeadRow.witness)
        )
        return tuple(_stored(r) for r in result.scalars())

    async def latest_audit_heads(self, exclude: Address) -> tuple[StoredAuditHead, ...]:
        """Per validator other than ``exclude``, its stored head signed last (the highest
        seq among those), by validator."""
        validators = await self._exec(
            select(AuditHeadRow.validator)
            .where(AuditHeadRow.validator != bytes(exclude))
            .distinct()
            .order_by(AuditHeadRow.validator)
        )
        latest = []
        for (validator,) in validators.all():
            result = await self._exec(
                select(AuditHeadRow)
                .where(AuditHeadRow.validator == validator)
                .order_by(AuditHeadRow.at.desc(), AuditHeadRow.seq.desc())
                .limit(1)
            )
            latest.append(_stored(result.scalars().one()))
        return tuple(latest)
