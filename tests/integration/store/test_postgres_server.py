"""A private PostgreSQL server restarts under an open store: the outage is a retryable
``StoreError``, and afterwards new transactions work and committed data is still there.

Uses ``relayer.devnet.postgres`` (never the machine's shared cluster); missing server
binaries fail the test loudly.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from relayer.devnet.postgres import PostgresServer
from relayer.errors import RetryableError, StoreError
from relayer.store import AlertKind, Store

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _is_down(server: PostgresServer) -> bool:
    return not await asyncio.to_thread(server.is_running)


async def _alert_notes(store: Store) -> list[str]:
    async with store.transaction() as tx:
        return [str(alert.detail["note"]) for alert in await tx.open_alerts()]


async def test_store_survives_a_postgres_restart(tmp_path: Path) -> None:
    server = await asyncio.to_thread(PostgresServer.start, tmp_path / "pg")
    try:
        assert server.port != 5432
        assert server.url("x") == f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/x"
        await asyncio.to_thread(server.create_database, "relayer")
        url = server.url("relayer")
        store = await Store.open(url, migrate_schema=True)
        try:
            async with store.transaction() as tx:
                await tx.raise_alert(AlertKind.WARNING, 7, {"note": "before restart"})

            await asyncio.to_thread(server.stop, "fast")  # down until started again
            assert await _is_down(server)
            with pytest.raises(StoreError) as caught:
                await _alert_notes(store)
            assert type(caught.value) is StoreError
            assert isinstance(caught.value, RetryableError)
            assert isinstance(caught.value.__cause__, ConnectionRefusedError)
            await asyncio.to_thread(server.start_again)
            assert await asyncio.to_thread(server.is_running)

            async with store.transaction() as tx:  # the pool drops its dead connections
                await tx.raise_alert(AlertKind.WARNING, 7, {"note": "after restart"})
            fresh = await Store.open(url)  # a brand-new engine and connection
            try:
                assert await _alert_notes(fresh) == ["before restart", "after restart"]
            finally:
                await fresh.close()
        finally:
            await store.close()
    finally:
        await asyncio.to_thread(server.close)
    assert not await asyncio.to_thread(server.is_running)
    assert (tmp_path / "pg" / "postgres.log").exists()
