"""What every operation group shares: the session, the clock, error mapping, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Executable, Result, Select, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import UpdateBase

from relayer.store.audit import GENESIS_HASH, canonical_json, link_hash
from relayer.store.engine import mapped_errors
from relayer.store.models import AuditRow

Clock = Callable[[], datetime]
M = TypeVar("M", bound=DeclarativeBase)

# Any constant works; it names the lock that serializes audit appends on PostgreSQL.
_AUDIT_LOCK_KEY = 0x52454C4159455241  # "RELAYERA"


class TxBase:
    """Holds one open transaction; every statement goes through ``_exec``.

    Two things are read once per transaction instead of once per use, because within one
    transaction only this session writes them:

    - a row ``_get`` loaded is taken again from the session's identity map (where every
      change made through this transaction already is) until a statement other than a
      ``SELECT`` runs through ``_exec`` (a core insert, update or delete could change rows
      behind the ORM's back: after one, the next ``_get`` reads afresh);
    - the audit chain's last hash: only ``_audit`` appends links, under the transaction's
      write lock (SQLite's ``BEGIN IMMEDIATE``; PostgreSQL's advisory lock, taken before the
      first read of the tip).
    """

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._audit_locked = False
        self._audit_tip: bytes | None = None  # the hash of the newest link, once read
        self._loaded: dict[tuple[type[Any], Any], tuple[Any, bool]] = {}  # row, row-locked

    @property
    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def _now(self) -> datetime:
        return self._clock()

    async def _exec(self, statement: Executable) -> Result[Any]:
        if not isinstance(statement, Select):
            self._forget_rows_of(statement)
        with mapped_errors("store statement"):
            return await self._session.execute(statement)

    def _forget_rows_of(self, statement: Executable) -> None:
        """Drop the loaded rows a core statement may change: its table's (by name: an ORM
        statement's table is an annotated copy of the model's), all of them for SQL text."""
        target = getattr(statement, "table", None) if isinstance(statement, UpdateBase) else None
        name = getattr(target, "name", None)
        if not isinstance(name, str):
            self._loaded.clear()
            return
        for model, key in [k for k in self._loaded if k[0].__table__.name == name]:
            del self._loaded[(model, key)]

    async def _flush(self) -> None:
        with mapped_errors("store flush"):
            await self._session.flush()

    async def _get(self, model: type[M], key: Any, *, for_update: bool = False) -> M | None:
        """One row by primary key, optionally row-locked: read from the database the first
        time in this transaction, then as this transaction left it (see the class)."""
        held = self._loaded.get((model, key))
        if held is not None and (held[1] or not for_update):
            row: M = held[0]
            return row
        with mapped_errors("store get"):
            found = await self._session.get(
                model, key, with_for_update=for_update, populate_existing=True
            )
        if found is not None:
            # SQLite: the transaction holds the database's write lock from BEGIN IMMEDIATE,
            # so every row it read is as good as locked (SQLite has no FOR UPDATE)
            self._loaded[(model, key)] = (found, for_update or self._dialect == "sqlite")
        return found

    async def _insert_ignore(self, model: type[DeclarativeBase], values: dict[str, Any]) -> bool:
        """``INSERT ... ON CONFLICT DO NOTHING``; True if the row was inserted.

        Race-safe on both backends: a concurrent insert of the same key waits for the
        other transaction, then does nothing, instead of aborting this transaction.
        """
        return await self._insert_ignore_key(model, values) is not None

    async def _insert_ignore_key(
        self, model: type[DeclarativeBase], values: dict[str, Any]
    ) -> Any | None:
        """``_insert_ignore``, answering the inserted row's primary key (the first column of a
        composite key: use it only as "inserted or not" there), or None: not inserted."""
        table = model.__table__
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        pk_col = next(iter(table.primary_key.columns))  # type: ignore[attr-defined]
        stmt = (
            dialect_insert(table).values(**values).on_conflict_do_nothing().returning(pk_col)  # type: ignore[arg-type]
        )
        result = await self._exec(stmt)
        inserted = result.first()
        return None if inserted is None else inserted[0]

    async def _audit(self, event: str, transfer_id: bytes | None, detail: dict[str, Any]) -> None:
        """Append one link to the audit chain inside this transaction."""
        canonical_json(detail)  # refuse non-JSON detail before touching the chain
        if self._dialect == "postgresql" and not self._audit_locked:
            await self._exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_AUDIT_LOCK_KEY))
            self._audit_locked = True
        prev = self._audit_tip
        if prev is None:
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
        self._audit_tip = row.hash
