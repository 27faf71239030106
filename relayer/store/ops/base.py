"""What every operation group shares: the session, the clock, error mapping, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Executable, Result, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from relayer.store.audit import GENESIS_HASH, canonical_json, link_hash
from relayer.store.engine import mapped_errors
from relayer.store.models import AuditRow

Clock = Callable[[], datetime]
M = TypeVar("M", bound=DeclarativeBase)

# Any constant works; it names the lock that serializes audit appends on PostgreSQL.
_AUDIT_LOCK_KEY = 0x52454C4159455241  # "RELAYERA"


class TxBase:
    """Holds one open transaction; every statement goes through ``_exec``."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._audit_locked = False

    @property
    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def _now(self) -> datetime:
        return self._clock()

    async def _exec(self, statement: Executable) -> Result[Any]:
        with mapped_errors("store statement"):
            return await self._session.execute(statement)

    async def _flush(self) -> None:
        with mapped_errors("store flush"):
            await self._session.flush()

    async def _get(self, model: type[M], key: Any, *, for_update: bool = False) -> M | None:
        """Load one row by primary key, fresh from the database, optionally row-locked."""
        with mapped_errors("store get"):
            return await self._session.get(
                model, key, with_for_update=for_update, populate_existing=True
            )

    async def _insert_ignore(self, model: type[DeclarativeBase], values: dict[str, Any]) -> bool:
        """``INSERT ... ON CONFLICT DO NOTHING``; True if the row was inserted.

        Race-safe on both backends: a concurrent insert of the same key waits for the
        other transaction, then does nothing, instead of aborting this transaction.
        """
        table = model.__table__
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        pk_col = next(iter(table.primary_key.columns))  # type: ignore[attr-defined]
        stmt = (
            dialect_insert(table).values(**values).on_conflict_do_nothing().returning(pk_col)  # type: ignore[arg-type]
        )
        result = await self._exec(stmt)
        return result.first() is not None

    async def _audit(self, event: str, transfer_id: bytes | None, detail: dict[str, Any]) -> None:
        """Append one link to the audit chain inside this transaction."""
        canonical_json(detail)  # refuse non-JSON detail before touching the chain
        if self._dialect == "postgresql" and not self._audit_locked:
            await self._exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_AUDIT_LOCK_KEY))
            self._audit_locked = True
        last = await self._exec(select(AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1))
        prev = last.scalar_one_or_none() or GENESIS_HASH
        at = self._now()
        row = AuditRow(
            at=at,
            transfer_id=transfer_id,
            event=event,
            detail=detail,
            prev_hash=prev,
            hash=link_hash(prev, at, transfer_id, event, detail),
        )
        self._session.add(row)
        await self._flush()
