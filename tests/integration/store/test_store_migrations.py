"""Migrations build the models' schema from empty, on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from store_backends import BACKENDS, throwaway_database

from relayer.errors import StoreError
from relayer.store import SchemaNotAtHeadError, Store, is_at_head, schema_status, upgrade
from relayer.store.engine import make_engine
from relayer.store.models import Base

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _describe(connection: Connection) -> dict[str, Any]:
    """Tables, columns (type, nullability), keys, uniques and indexes, comparable."""
    insp = inspect(connection)
    schema: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        if table == "alembic_version":
            continue
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)
            ],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in insp.get_foreign_keys(table)
            ),
            "uniques": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            ),
        }
    return schema


@pytest.mark.parametrize("backend", BACKENDS)
async def test_upgrade_from_empty_reaches_head_and_matches_models(
    backend: str, tmp_path: Path
) -> None:
    async with throwaway_database(backend, tmp_path) as url:
        assert not await is_at_head(url)
        status = await upgrade(url)
        assert status.at_head
        assert await is_at_head(url)
        assert (await upgrade(url)).at_head  # idempotent
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                diff = await conn.run_sync(_diff)
        finally:
            await engine.dispose()
    assert diff == []


@pytest.mark.parametrize("backend", BACKENDS)
async def test_create_all_schema_equals_migrated_schema(backend: str, tmp_path: Path) -> None:
    async with (
        throwaway_database(backend, tmp_path) as migrated_url,
        throwaway_database(backend, tmp_path) as created_url,
    ):
        await upgrade(migrated_url)
        migrated, created = make_engine(migrated_url), make_engine(created_url)
        try:
            async with created.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with migrated.connect() as conn:
                from_migrations = await conn.run_sync(_describe)
            async with created.connect() as conn:
                from_models = await conn.run_sync(_describe)
        finally:
            await migrated.dispose()
            await created.dispose()
    assert from_migrations == from_models
    assert set(from_models) == {t.name for t in Base.metadata.sorted_tables}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_store_open_refuses_schema_not_at_head(backend: str, tmp_path: Path) -> None:
    async with throwaway_database(backend, tmp_path) as url:
        with pytest.raises(SchemaNotAtHeadError):
            await Store.open(url)
        store = await Store.open(url, migrate_schema=True)
        try:
            await store.ping()
            assert (await schema_status(url)).current == (await schema_status(url)).head
        finally:
            await store.close()


async def test_store_open_unreachable_postgres_is_store_error() -> None:
    with pytest.raises(StoreError):
        await Store.open("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")


async def test_store_open_rejects_unsupported_url() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        await Store.open("mysql+aiomysql://localhost/x")


async def test_transaction_connection_killed_is_store_error(tmp_path: Path) -> None:
    """A PostgreSQL backend dying mid-transaction surfaces as retryable StoreError."""
    async with throwaway_database("postgresql", tmp_path) as url:
        store = await Store.open(url, migrate_schema=True)
        try:
            with pytest.raises(StoreError) as caught:
                await _kill_own_backend_mid_transaction(store)
            assert caught.value.__cause__ is not None
            async with store.transaction() as tx:  # the pool recovers
                assert not await tx.chain_halted(1)
        finally:
            await store.close()


async def _kill_own_backend_mid_transaction(store: Store) -> None:
    async with store.transaction() as tx:
        pid = (await tx._exec(text("SELECT pg_backend_pid()"))).scalar_one()
        async with store.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)").bindparams(pid=pid))
        await tx.chain_halted(1)
