"""The outbox: effects decided in a transaction, run by the node after it commits."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC
from typing import Any

from sqlalchemy import select

from relayer.domain.types import Hash32
from relayer.store.audit import canonical_json
from relayer.store.models import OutboxRow
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import (
    EffectAlreadyDone,
    EffectAlreadyPending,
    EffectDone,
    EffectEnqueued,
    EffectNotFound,
    EnqueueOutcome,
    MarkDoneOutcome,
)
from relayer.store.records import Effect, EffectKind


class EffectOps(TxBase):
    """One pending effect per (transfer, kind); marking done is idempotent."""

    async def enqueue_effect(
        self,
        transfer_id: Hash32,
        kind: EffectKind | str,
        payload: dict[str, Any] | None = None,
        *,
        rearm: bool = False,
    ) -> EnqueueOutcome:
        """Queue an effect; a pending one for the same (transfer, kind) is kept as is.

        A done one stays done unless ``rearm`` is set (e.g. a release that must be
        submitted again after its transaction failed): then it is pending again with
        the new payload.
        """
        kind = EffectKind(kind)
        body = payload or {}
        canonical_json(body)  # plain JSON, never secrets or objects
        stored = json.loads(json.dumps(body))  # as the database gives it back
        created_at = self._now().astimezone(UTC)  # as the database gives it back
        effect_id = await self._insert_ignore_key(
            OutboxRow,
            {
                "transfer_id": bytes(transfer_id),
                "kind": kind.value,
                "payload": body,
                "created_at": created_at,
                "done_at": None,
            },
        )
        if effect_id is not None:  # new: the row is what was just written
            return EffectEnqueued(Effect(effect_id, transfer_id, kind, stored, created_at, None))
        result = await self._exec(
            select(OutboxRow)
            .where(OutboxRow.transfer_id == bytes(transfer_id), OutboxRow.kind == kind.value)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = result.scalar_one()
        if row.done_at is None:
            return EffectAlreadyPending(convert.effect(row))
        if not rearm:
            return EffectAlreadyDone(convert.effect(row))
        row.done_at = None
        row.payload = body
        row.created_at = self._now()
        await self._flush()
        return EffectEnqueued(convert.effect(row))

    async def pending_effects(
        self, kinds: Collection[EffectKind] | None = None, limit: int = 100
    ) -> tuple[Effect, ...]:
        """Effects not yet done, oldest first."""
        stmt = select(OutboxRow).where(OutboxRow.done_at.is_(None))
        if kinds is not None:
            stmt = stmt.where(OutboxRow.kind.in_([EffectKind(k).value for k in kinds]))
        result = await self._exec(stmt.order_by(OutboxRow.id).limit(limit))
        return tuple(convert.effect(r) for r in result.scalars())

    async def mark_effect_done(self, effect_id: int) -> MarkDoneOutcome:
        """Mark an effect done; doing so twice is ``EffectAlreadyDone``."""
        row = await self._get(OutboxRow, effect_id, for_update=True)
        if row is None:
            return EffectNotFound(effect_id)
        if row.done_at is not None:
            return EffectAlreadyDone(convert.effect(row))
        row.done_at = self._now()
        await self._flush()
        return EffectDone(convert.effect(row))
