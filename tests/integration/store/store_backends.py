"""Throwaway databases for the store tests: a SQLite file or a fresh PostgreSQL database.

PostgreSQL is required: if it is unreachable these helpers raise, so the tests fail
loudly instead of being skipped. Point ``RELAYER_TEST_PG_DSN`` elsewhere if needed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

PG_DSN = os.environ.get("RELAYER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def _pg_url(database: str) -> str:
    base, _, _ = PG_DSN.rpartition("/")
    return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(PG_DSN, timeout=10)
    except (OSError, asyncpg.PostgresError) as err:
        raise RuntimeError(
            f"PostgreSQL is required for the store tests and is unreachable at {PG_DSN}: {err}"
        ) from err


@asynccontextmanager
async def throwaway_database(backend: str, tmp_dir: Path) -> AsyncIterator[str]:
    """Yield the URL of an empty database that is removed afterwards."""
    if backend == "sqlite":
        path = tmp_dir / f"store-{uuid.uuid4().hex}.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"relayer_store_test_{uuid.uuid4().hex[:16]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _pg_url(name)
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
