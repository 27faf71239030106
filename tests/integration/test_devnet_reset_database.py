"""A devnet start empties a PostgreSQL database given by --database-url-template.

Against the machine's PostgreSQL (RELAYER_TEST_PG_URL, default 127.0.0.1:5432), in a
database of this test only; it is dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg

from relayer.devnet.databases import drop_postgres_database, reset_database

PG_BASE = os.environ.get("RELAYER_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")


async def _sql(url: str, statement: str) -> object:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


def test_reset_database_drops_the_previous_runs_postgres_state() -> None:
    url = f"{PG_BASE}/devnet_reset_{uuid.uuid4().hex[:8]}"
    try:
        reset_database(url)  # missing: created
        asyncio.run(_sql(url, "CREATE TABLE cursors (head bigint)"))
        asyncio.run(_sql(url, "INSERT INTO cursors VALUES (250)"))
        reset_database(url)  # the previous run's tables are gone, the database is there
        assert asyncio.run(_sql(url, "SELECT to_regclass('cursors') IS NULL")) is True
    finally:
        drop_postgres_database(url)
