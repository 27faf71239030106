"""Engine construction and driver-error mapping.

SQLite: WAL journal, ``synchronous=FULL`` (a committed decision survives power loss),
a busy timeout, foreign keys on, and every write transaction opened with ``BEGIN
IMMEDIATE`` so writers are serialized up front instead of failing when a read lock
cannot be upgraded; reader transactions use a deferred ``BEGIN`` and see a snapshot.
PostgreSQL: plain ``READ COMMITTED``; the repository takes row locks (``SELECT ...
FOR UPDATE``) or advisory locks where it needs serial order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from relayer.errors import StoreError
from relayer.store.errors import StoreIntegrityError

SQLITE_BUSY_TIMEOUT_MS = 15_000
PG_CONNECT_TIMEOUT_S = 10.0
READ_ONLY_OPTION = "relayer_read_only"  # execution option: a reader transaction
PG_COMMAND_TIMEOUT_S = 30.0

# SQLSTATE classes/codes that mean "try again": connection exceptions (08),
# insufficient resources (53), operator intervention such as a restart (57P),
# serialization failure and deadlock (40001, 40P01), lock not available (55P03).
_RETRYABLE_SQLSTATE_PREFIXES = ("08", "53", "57P", "40001", "40P01", "55P03")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.get_driver_name() != "aiosqlite":
            raise ValueError(f"SQLite URLs must use the aiosqlite driver: {url!r}")
        engine = create_async_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise ValueError(f"PostgreSQL URLs must use the asyncpg driver: {url!r}")
        connect_args = {"timeout": PG_CONNECT_TIMEOUT_S, "command_timeout": PG_COMMAND_TIMEOUT_S}
        connect_args.update(kwargs.pop("connect_args", {}))
        return create_async_engine(parsed, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    raise ValueError(f"unsupported database URL (sqlite+aiosqlite or postgresql+asyncpg): {url!r}")


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _sqlstate(err: DBAPIError) -> str | None:
    orig = err.orig
    for attr in ("sqlstate", "pgcode"):
        value = getattr(orig, attr, None)
        if isinstance(value, str):
            return value
    return None


def is_retryable(err: BaseException) -> bool:
    """True when a driver error is transient (connection, restart, lock, busy)."""
    if isinstance(err, IntegrityError):
        return False
    if isinstance(err, DBAPIError):
        if err.connection_invalidated or isinstance(err, InterfaceError):
            return True
        state = _sqlstate(err)
        if state is not None and state.startswith(_RETRYABLE_SQLSTATE_PREFIXES):
            return True
        # SQLite busy/locked/disk I/O and PG operational failures are transient
        return isinstance(err, OperationalError)
    return isinstance(err, (OSError, ConnectionError, TimeoutError))


@contextmanager
def mapped_errors(what: str) -> Iterator[None]:
    """Re-raise driver errors as ``StoreError`` (retryable) or ``StoreIntegrityError``."""
    try:
        yield
    except IntegrityError as err:
        raise StoreIntegrityError(f"{what}: unexpected constraint violation: {err.orig}") from err
    except (DBAPIError, OSError, ConnectionError, TimeoutError) as err:
        if is_retryable(err):
            raise StoreError(f"{what}: database unavailable: {err}") from err
        raise
