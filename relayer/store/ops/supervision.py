"""Reads behind the supervisor view (read-only; nothing here writes).

A transfer concerns the validators that attested, decided or refused it; the caller maps
validators to jurisdictions (the validator sets) and asks for the transfers of a set of
validators. Statuses are read as strings, so states added later are listed as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, union

from relayer.domain.decisions import APPROVED
from relayer.store.models import (
    AttestationRow,
    DecisionRow,
    PolicyPackRow,
    PolicySpendRow,
    RefusalRow,
    ReviewRow,
    Transfer,
)
from relayer.store.ops.base import TxBase
from relayer.store.supervision_records import (
    ListedRefusal,
    ListedReview,
    SpendRow,
    SupervisedTransfer,
)


def _concerning(signers: Collection[bytes]) -> Select[tuple[bytes]]:
    """The ids of the transfers ``signers`` attested, decided or refused."""
    ids = union(
        select(AttestationRow.transfer_id).where(AttestationRow.signer.in_(signers)),
        select(DecisionRow.transfer_id).where(DecisionRow.signer.in_(signers)),
        select(RefusalRow.transfer_id).where(RefusalRow.validator.in_(signers)),
    ).subquery()
    return select(ids.c.transfer_id)


class SupervisionOps(TxBase):
    """What a supervisor may read: transfers, refusals, reviews, spends, pack versions."""

    async def supervised_transfers(
        self,
        signers: Collection[bytes] | None,
        states: Collection[str] | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> tuple[SupervisedTransfer, ...]:
        """Transfers ``signers`` took part in (None: every transfer stored), newest
        observed first."""
        if signers is not None and not signers:
            return ()
        stmt = select(Transfer)
        if signers is not None:
            stmt = stmt.where(Transfer.transfer_id.in_(_concerning(signers)))
        if states is not None:
            stmt = stmt.where(Transfer.status.in_(list(states)))
        if since is not None:
            stmt = stmt.where(Transfer.observed_at >= since)
        if until is not None:
            stmt = stmt.where(Transfer.observed_at < until)
        stmt = stmt.order_by(Transfer.observed_at.desc(), Transfer.transfer_id).limit(limit)
        rows = list((await self._exec(stmt)).scalars())
        return await self._supervised(rows)

    async def supervised_transfer(self, transfer_id: bytes) -> SupervisedTransfer | None:
        """One transfer with the validators it concerns, if stored."""
        row = (
            await self._exec(select(Transfer).where(Transfer.transfer_id == transfer_id))
        ).scalar_one_or_none()
        if row is None:
            return None
        (found,) = await self._supervised([row])
        return found

    async def _supervised(self, rows: list[Transfer]) -> tuple[SupervisedTransfer, ...]:
        signers = await self.signers_of([r.transfer_id for r in rows])
        return tuple(
            SupervisedTransfer(
                transfer_id=r.transfer_id,
                direction=r.direction,
                status=r.status,
                status_reason=r.status_reason,
                src_chain_id=r.src_chain_id,
                dst_chain_id=r.dst_chain_id,
                src_token=r.src_token,
                dst_token=r.dst_token,
                sender=r.sender,
                recipient=r.recipient,
                amount=r.amount,
                observed_at=r.observed_at,
                released_at=r.released_at,
                executable_at=r.executable_at,
                signers=frozenset(signers.get(r.transfer_id, ())),
            )
            for r in rows
        )

    async def signers_of(self, transfer_ids: Collection[bytes]) -> dict[bytes, set[bytes]]:
        """Per transfer, the validators that attested, decided or refused it."""
        if not transfer_ids:
            return {}
        ids = list(transfer_ids)
        found: dict[bytes, set[bytes]] = {}
        for tid_col, who in (
            (AttestationRow.transfer_id, AttestationRow.signer),
            (DecisionRow.transfer_id, DecisionRow.signer),
            (RefusalRow.transfer_id, RefusalRow.validator),
        ):
            rows = await self._exec(select(tid_col, who).where(tid_col.in_(ids)))
            for row in rows.all():
                tid, signer = tuple[Any, ...](row)
                found.setdefault(tid, set()).add(signer)
        return found

    async def refusals_by(
        self,
        signers: Collection[bytes],
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> tuple[ListedRefusal, ...]:
        """Refusals by ``signers``: stored refusals, then signed refusing decisions not
        already listed; newest first."""
        if not signers:
            return ()
        ours = select(RefusalRow).where(RefusalRow.validator.in_(signers))
        signed = select(DecisionRow).where(
            DecisionRow.signer.in_(signers), DecisionRow.verdict != APPROVED
        )
        if since is not None:
            ours = ours.where(RefusalRow.at >= since)
            signed = signed.where(DecisionRow.received_at >= since)
        if until is not None:
            ours = ours.where(RefusalRow.at < until)
            signed = signed.where(DecisionRow.received_at < until)
        listed: dict[tuple[bytes, bytes], ListedRefusal] = {}
        for r in (await self._exec(ours.order_by(RefusalRow.at.desc()).limit(limit))).scalars():
            policy = None if r.policy_version is None else bytes.fromhex(r.policy_version)
            listed[(r.transfer_id, r.validator)] = ListedRefusal(
                r.transfer_id, r.validator, r.reason_code, r.detail, policy, r.at, False, None
            )
        stmt = signed.order_by(DecisionRow.received_at.desc()).limit(limit)
        for d in (await self._exec(stmt)).scalars():
            listed.setdefault(
                (d.transfer_id, d.signer),
                ListedRefusal(
                    d.transfer_id,
                    d.signer,
                    d.verdict,
                    d.detail,
                    d.policy,
                    d.received_at,
                    True,
                    None,
                ),
            )
        newest = sorted(listed.values(), key=lambda x: x.at, reverse=True)[:limit]
        statuses = await self._statuses(x.transfer_id for x in newest)
        return tuple(
            ListedRefusal(
                x.transfer_id,
                x.validator,
                x.reason,
                x.detail,
                x.policy,
                x.at,
                x.signed,
                statuses.get(x.transfer_id),
            )
            for x in newest
        )

    async def _statuses(self, transfer_ids: Iterable[bytes]) -> dict[bytes, str]:
        ids = list(set(transfer_ids))
        if not ids:
            return {}
        rows = await self._exec(
            select(Transfer.transfer_id, Transfer.status).where(Transfer.transfer_id.in_(ids))
        )
        pairs = (tuple[Any, ...](row) for row in rows.all())
        return {tid: status for tid, status in pairs}

    async def reviews_listed(self, limit: int) -> tuple[ListedReview, ...]:
        """Transfers held for review now, and those a reviewer decided; newest first."""
        held = select(Transfer.transfer_id).where(Transfer.status == "review")
        decided = select(ReviewRow.transfer_id)
        stmt = (
            select(Transfer)
            .where(Transfer.transfer_id.in_(union(held, decided).subquery().select()))
            .order_by(Transfer.observed_at.desc())
            .limit(limit)
        )
        transfers = await self._supervised(list((await self._exec(stmt)).scalars()))
        ids = [t.transfer_id for t in transfers]
        reviews = {
            r.transfer_id: r
            for r in (
                await self._exec(select(ReviewRow).where(ReviewRow.transfer_id.in_(ids)))
            ).scalars()
        }
        out = []
        for t in transfers:
            r = reviews.get(t.transfer_id)
            out.append(
                ListedReview(
                    t,
                    None if r is None else r.approved,
                    None if r is None else r.reviewer,
                    None if r is None else r.reason,
                    None if r is None else r.decided_at,
                )
            )
        return tuple(out)

    async def spends_from(self, since: int) -> tuple[SpendRow, ...]:
        """Every approval counted against a pack's limits from ``since`` (unix s) on."""
        rows = await self._exec(
            select(PolicySpendRow).where(PolicySpendRow.at >= since).order_by(PolicySpendRow.at)
        )
        return tuple(
            SpendRow(r.src_chain_id, r.token, r.amount, r.at, r.pack_hash) for r in rows.scalars()
        )

    async def pack_versions(self) -> dict[bytes, tuple[str, int]]:
        """The packs this validator put in force: content hash -> (jurisdiction, version)."""
        rows = await self._exec(
            select(PolicyPackRow.content_hash, PolicyPackRow.jurisdiction, PolicyPackRow.version)
        )
        triples = (tuple[Any, ...](row) for row in rows.all())
        return {h: (j, int(v)) for h, j, v in triples}

    async def tokens_on(self, chain_id: int) -> frozenset[bytes]:
        """The token addresses on ``chain_id`` that stored transfers moved (source or
        destination side): there, the mirror tokens this relayer has seen."""
        src = select(Transfer.src_token).where(Transfer.src_chain_id == chain_id)
        dst = select(Transfer.dst_token).where(
            Transfer.dst_chain_id == chain_id, Transfer.dst_token.is_not(None)
        )
        rows = await self._exec(union(src, dst))
        return frozenset(row[0] for row in rows.all())
