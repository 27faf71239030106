"""``Store``: the relayer's one writer. Open it from a URL, then use transactions.

store = await Store.open("sqlite+aiosqlite:///relayer.db", migrate=True)
async with store.transaction() as tx:
    scan = await tx.record_scan(chain_id, vault, Direction.TO_ETHEREUM, events, nxt)
    await tx.enqueue_effect(transfer_id, EffectKind.SIGN)
# effects run only after the block above committed
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from relayer.store import migrate
from relayer.store.engine import READ_ONLY_OPTION, make_engine, mapped_errors
from relayer.store.errors import SchemaNotAtHeadError
from relayer.store.ops.base import Clock
from relayer.store.transaction import Transaction


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


async def _require_head(engine: AsyncEngine) -> None:
    status = await migrate.schema_status_engine(engine)
    if not status.at_head:
        raise SchemaNotAtHeadError(
            f"database schema at {status.current or 'nothing'}, code expects "
            f"{status.head}; run `relayer db upgrade`"
        )


class Store:
    """Async access to the relayer database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        migrate_schema: bool = False,
        require_head: bool = True,
        clock: Clock = utc_now,
    ) -> Store:
        """Connect; optionally upgrade the schema; refuse a schema not at head.

        Raises ``SchemaNotAtHeadError`` (fatal) if ``require_head`` and the database
        is behind (or ahead of) this code's migrations, ``StoreError`` if unreachable.
        """
        engine = make_engine(url)
        try:
            if migrate_schema:
                await migrate.upgrade_engine(engine)
            if require_head:
                await _require_head(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, clock)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One database transaction: commit on normal exit, roll back on error.

        Driver failures surface as ``StoreError`` (retry the whole block).
        """
        async with self._sessions() as session:
            with mapped_errors("store transaction"):
                async with session.begin():
                    yield Transaction(session, self._clock)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Transaction]:
        """A read-only transaction for the status API and metrics.

        It sees one consistent snapshot and does not queue behind writers on SQLite;
        PostgreSQL rejects any write attempted through it. Use ``transaction()`` for
        anything that writes.
        """
        async with self._sessions() as session:
            with mapped_errors("store reader"):
                async with session.begin():
                    conn = await session.connection(execution_options={READ_ONLY_OPTION: True})
                    if self.dialect == "postgresql":
                        await conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    yield Transaction(session, self._clock)

    async def ping(self) -> None:
        """Raise ``StoreError`` unless the database answers (for readiness probes)."""
        with mapped_errors("store ping"):
            async with self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._engine.dispose()
