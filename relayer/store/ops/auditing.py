"""Reading and verifying the audit chain; free-form audit entries for the node."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from relayer.domain.types import Hash32
from relayer.store import audit
from relayer.store.models import AuditRow
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import AuditVerdict
from relayer.store.records import AuditEntry


class AuditOps(TxBase):
    """The store appends audit links itself on every decision; these read them."""

    async def append_audit(
        self, event: str, transfer_id: Hash32 | None, detail: dict[str, Any]
    ) -> None:
        """Append a link for an event the store does not see (e.g. published)."""
        await self._audit(event, transfer_id, detail)

    async def audit_entries(
        self, transfer_id: Hash32 | None = None, limit: int | None = None
    ) -> tuple[AuditEntry, ...]:
        """Audit links in order, optionally only those of one transfer."""
        stmt = select(AuditRow).order_by(AuditRow.seq)
        if transfer_id is not None:
            stmt = stmt.where(AuditRow.transfer_id == bytes(transfer_id))
        if limit is not None:
            stmt = stmt.limit(limit)
        result = await self._exec(stmt)
        return tuple(convert.audit_entry(r) for r in result.scalars())

    async def audit_slice(self, start: datetime, end: datetime) -> tuple[AuditEntry, ...]:
        """The links dated in ``[start, end]``, in order, with any others between them.

        The slice runs from the lowest to the highest ``seq`` dated in the range, so it is a
        piece of the chain whose links can be checked (``audit_export``). With a clock that
        never went back, every link in it is dated in the range.
        """
        bounds = await self._exec(
            select(func.min(AuditRow.seq), func.max(AuditRow.seq)).where(
                AuditRow.at >= start, AuditRow.at <= end
            )
        )
        first, last = tuple[Any, ...](bounds.one())
        if first is None:
            return ()
        stmt = select(AuditRow).where(AuditRow.seq.between(first, last)).order_by(AuditRow.seq)
        result = await self._exec(stmt)
        return tuple(convert.audit_entry(r) for r in result.scalars())

    async def verify_audit_chain(self) -> AuditVerdict:
        """Recompute every link; report the first edited, deleted or reordered one."""
        return audit.verify_links(await self.audit_entries())
