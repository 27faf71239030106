"""Policy packs in force and the spends counted against their rolling limits."""

from __future__ import annotations

from sqlalchemy import select

from relayer.domain.decisions import Decision
from relayer.domain.limits import Spend
from relayer.domain.types import Address, Hash32
from relayer.store.models import DecisionRow, PolicyPackRow, PolicySpendRow, ReviewRow, Transfer
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import (
    DecisionConflict,
    DecisionDuplicate,
    DecisionOutcome,
    DecisionStored,
    ReviewAlreadyDecided,
    ReviewNotHeld,
    ReviewOutcome,
    ReviewRecorded,
    TransferNotFound,
)
from relayer.store.records import Review, StoredDecision, StoredPack, TransferStatus


class PolicyOps(TxBase):
    """Record packs put in force, the transfers approved under their limits, and reviews."""

    async def record_pack(
        self, content_hash: Hash32, jurisdiction: str, version: int, raw: bytes, signature: bytes
    ) -> bool:
        """Keep a pack this validator verified and put in force (audited once); True if new."""
        inserted = await self._insert_ignore(
            PolicyPackRow,
            {
                "content_hash": bytes(content_hash),
                "jurisdiction": jurisdiction,
                "version": version,
                "raw": raw,
                "signature": signature,
                "accepted_at": self._now(),
            },
        )
        if inserted:
            await self._audit(
                "policy_pack",
                None,
                {
                    "jurisdiction": jurisdiction,
                    "version": version,
                    "hash": "0x" + content_hash.hex(),
                },
            )
        return inserted

    async def pack_in_force(self, jurisdiction: str) -> StoredPack | None:
        """The newest pack put in force for ``jurisdiction``, if any (versions compared as
        numbers; only the chosen pack's bytes are read)."""
        rows = await self._exec(
            select(PolicyPackRow.content_hash, PolicyPackRow.version).where(
                PolicyPackRow.jurisdiction == jurisdiction
            )
        )
        newest = max(rows.all(), key=lambda r: int(r.version), default=None)
        if newest is None:
            return None
        row = await self._get(PolicyPackRow, newest.content_hash)
        return None if row is None else convert.stored_pack(row)

    async def record_spend(self, spend: Spend, pack_hash: Hash32) -> bool:
        """Count ``spend`` against the rolling limits (once per transfer); True if new."""
        return await self._insert_ignore(
            PolicySpendRow,
            {
                "transfer_id": bytes(spend.transfer_id),
                "src_chain_id": spend.token[0],
                "token": bytes(spend.token[1]),
                "sender": bytes(spend.sender),
                "amount": spend.amount,
                "at": spend.at,
                "pack_hash": bytes(pack_hash),
            },
        )

    async def spends_since(
        self, src_chain_id: int, token: Address, since: int
    ) -> tuple[Spend, ...]:
        """The spends of one token approved after ``since`` (unix seconds), oldest first."""
        rows = await self._exec(
            select(PolicySpendRow)
            .where(
                PolicySpendRow.src_chain_id == src_chain_id,
                PolicySpendRow.token == bytes(token),
                PolicySpendRow.at > since,
            )
            .order_by(PolicySpendRow.at)
        )
        return tuple(
            Spend(
                transfer_id=Hash32(r.transfer_id),
                token=(r.src_chain_id, Address(r.token)),
                sender=Address(r.sender),
                amount=r.amount,
                at=r.at,
            )
            for r in rows.scalars()
        )

    async def record_review(
        self, transfer_id: Hash32, approved: bool, reviewer: str, reason: str
    ) -> ReviewOutcome:
        """A reviewer's decision on a transfer held for review (the first one stands)."""
        transfer = await self._get(Transfer, bytes(transfer_id), for_update=True)
        if transfer is None:
            return TransferNotFound(transfer_id)
        existing = await self._get(ReviewRow, bytes(transfer_id))
        if existing is not None:
            return ReviewAlreadyDecided(convert.review(existing))
        status = TransferStatus(transfer.status)
        if status is not TransferStatus.REVIEW:
            return ReviewNotHeld(transfer_id, status)
        row = ReviewRow(
            transfer_id=bytes(transfer_id),
            approved=approved,
            reviewer=reviewer,
            reason=reason,
            decided_at=self._now(),
        )
        self._session.add(row)
        await self._flush()
        await self._audit(
            "reviewed",
            transfer_id,
            {"approved": approved, "reviewer": reviewer, "reason": reason},
        )
        return ReviewRecorded(convert.review(row))

    async def review_of(self, transfer_id: Hash32) -> Review | None:
        """The reviewer's decision on a transfer, if one was taken."""
        row = await self._get(ReviewRow, bytes(transfer_id))
        return None if row is None else convert.review(row)

    async def record_decision(
        self, decision: Decision, signer: Address, signature: bytes
    ) -> DecisionOutcome:
        """Keep a validator's signed decision (its signature checked by the caller); the
        first decision of a signer on a transfer stands."""
        now = self._now()
        values: dict[str, object] = {
            "transfer_id": bytes(decision.transfer_id),
            "signer": bytes(signer),
            "digest": bytes(decision.digest),
            "verdict": decision.verdict,
            "detail": decision.detail,
            "policy": bytes(decision.policy),
            "signature": signature,
            "received_at": now,
        }
        if await self._insert_ignore(DecisionRow, values):
            return DecisionStored(StoredDecision(decision, signer, signature, now))
        row = await self._get(DecisionRow, (bytes(decision.transfer_id), bytes(signer)))
        assert row is not None  # the insert found it
        stored = convert.decision(row)
        if stored.decision == decision:
            return DecisionDuplicate(stored)
        return DecisionConflict(stored, StoredDecision(decision, signer, signature, now))

    async def decision_by(self, transfer_id: Hash32, signer: Address) -> StoredDecision | None:
        """``signer``'s signed decision on ``transfer_id``, if stored."""
        row = await self._get(DecisionRow, (bytes(transfer_id), bytes(signer)))
        return None if row is None else convert.decision(row)

    async def decisions_for(self, transfer_id: Hash32) -> tuple[StoredDecision, ...]:
        """Every validator's signed decision on ``transfer_id``, by signer."""
        rows = await self._exec(
            select(DecisionRow)
            .where(DecisionRow.transfer_id == bytes(transfer_id))
            .order_by(DecisionRow.signer)
        )
        return tuple(convert.decision(r) for r in rows.scalars())
