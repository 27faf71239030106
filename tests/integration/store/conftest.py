"""The same store suite runs against SQLite and PostgreSQL (one database per session)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import text
from store_backends import BACKENDS, throwaway_database

from relayer.store import Store, upgrade
from relayer.store.models import Base

_nonces = itertools.count(1)


@pytest_asyncio.fixture(scope="session", params=BACKENDS, loop_scope="session")
async def session_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Store]:
    """A migrated database per backend, shared by the session."""
    async with throwaway_database(request.param, tmp_path_factory.mktemp("store")) as url:
        await upgrade(url)
        store = await Store.open(url)
        try:
            yield store
        finally:
            await store.close()


@pytest_asyncio.fixture(loop_scope="session")
async def store(session_store: Store) -> AsyncIterator[Store]:
    """The session's store with every table emptied first."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with session_store.engine.begin() as conn:
        if session_store.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 (fixed names)
    yield session_store


@pytest.fixture
def nonce() -> int:
    """A source nonce no other test used."""
    return next(_nonces)
