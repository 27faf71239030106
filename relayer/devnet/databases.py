"""Databases for devnet validators: SQLite files, or PostgreSQL databases made on demand."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg

from relayer.devnet.processes import DevnetError


def _admin_dsn(url: str) -> tuple[str, str]:
    parts = urlparse(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        raise DevnetError(f"database name must be letters, digits and _: {url!r}")
    return urlunparse(parts._replace(path="/postgres")), name


async def _run(url: str, drop_first: bool) -> None:
    dsn, name = _admin_dsn(url)
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as err:
        raise DevnetError(f"PostgreSQL unreachable for {url}: {err}") from err
    try:
        if drop_first:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def ensure_postgres_database(url: str, *, fresh: bool = False) -> None:
    """Create the PostgreSQL database named in ``url`` if missing (``fresh``: recreate it)."""
    asyncio.run(_run(url, fresh))


SQLITE_SIDECARS = ("", "-wal", "-shm", "-journal")


def reset_database(url: str) -> None:
    """Empty a validator's database before a devnet starts it on new chains.

    PostgreSQL: dropped and created again. SQLite: the file and its -wal, -shm and
    -journal files are removed when the path is absolute; a relative path lies in the
    validator's own folder (relayers run there), which the devnet removes as a whole.
    """
    if url.startswith("postgresql"):
        ensure_postgres_database(url, fresh=True)
        return
    if not url.startswith("sqlite"):
        raise DevnetError(f"unsupported database URL for the devnet: {url!r}")
    path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
    if not path.startswith("/"):
        return
    for suffix in SQLITE_SIDECARS:
        Path(path + suffix).unlink(missing_ok=True)


async def _drop(url: str) -> None:
    dsn, name = _admin_dsn(url)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def drop_postgres_database(url: str) -> None:
    """Drop the database named in ``url`` (tests clean up with this)."""
    asyncio.run(_drop(url))
