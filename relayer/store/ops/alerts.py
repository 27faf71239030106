"""Operator alerts; an unacknowledged ``halt`` alert stops signing on its chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from relayer.store.audit import canonical_json
from relayer.store.models import AlertRow
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import (
    AcknowledgeOutcome,
    AlertAcknowledged,
    AlertAlreadyAcknowledged,
    AlertNotFound,
)
from relayer.store.records import Alert, AlertKind


class AlertOps(TxBase):
    """Raise, list and acknowledge alerts."""

    async def raise_alert(
        self, kind: AlertKind | str, chain_id: int | None, detail: dict[str, Any]
    ) -> Alert:
        """Store a new alert. A ``halt`` with ``chain_id=None`` halts every chain."""
        kind = AlertKind(kind)
        canonical_json(detail)
        row = AlertRow(kind=kind.value, chain_id=chain_id, detail=detail, raised_at=self._now())
        self._session.add(row)
        await self._flush()
        await self._audit("alert", None, {"id": row.id, "kind": kind.value, "chain_id": chain_id})
        return convert.alert(row)

    async def acknowledge_alert(self, alert_id: int, by: str) -> AcknowledgeOutcome:
        """An operator acknowledges an alert (lifting a halt once none is left)."""
        row = await self._get(AlertRow, alert_id, for_update=True)
        if row is None:
            return AlertNotFound(alert_id)
        if row.acknowledged_at is not None:
            return AlertAlreadyAcknowledged(convert.alert(row))
        row.acknowledged_at = self._now()
        row.acknowledged_by = by
        await self._flush()
        await self._audit("alert_acknowledged", None, {"id": alert_id, "by": by})
        return AlertAcknowledged(convert.alert(row))

    async def open_alerts(self) -> tuple[Alert, ...]:
        """Alerts nobody has acknowledged yet, oldest first."""
        result = await self._exec(
            select(AlertRow).where(AlertRow.acknowledged_at.is_(None)).order_by(AlertRow.id)
        )
        return tuple(convert.alert(r) for r in result.scalars())

    async def chain_halted(self, chain_id: int) -> bool:
        """True while an unacknowledged halt alert exists for this chain (or all)."""
        result = await self._exec(
            select(AlertRow.id)
            .where(
                AlertRow.kind == AlertKind.HALT.value,
                AlertRow.acknowledged_at.is_(None),
                or_(AlertRow.chain_id == chain_id, AlertRow.chain_id.is_(None)),
            )
            .limit(1)
        )
        return result.first() is not None
