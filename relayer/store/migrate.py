"""Alembic migrations, run programmatically (no alembic.ini needed).

``upgrade(url)`` brings a database to the newest revision (``relayer db upgrade`` and
startup with migration enabled call it); ``is_at_head(url)`` / ``schema_status(url)``
tell whether the schema matches this code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from relayer.store.engine import make_engine, mapped_errors

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database's schema stands against this code's migrations."""

    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.head)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_sync(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _status_sync(connection: Connection) -> SchemaStatus:
    context = MigrationContext.configure(connection)
    script = ScriptDirectory.from_config(alembic_config())
    return SchemaStatus(current=tuple(context.get_current_heads()), head=tuple(script.get_heads()))


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade through an existing engine (in one transaction where the backend allows)."""
    with mapped_errors("schema upgrade"):
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_sync, revision)


async def schema_status_engine(engine: AsyncEngine) -> SchemaStatus:
    with mapped_errors("schema status"):
        async with engine.connect() as conn:
            return await conn.run_sync(_status_sync)


def _revision_sync(connection: Connection, message: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.revision(config, message=message, autogenerate=True)


async def autogenerate_revision(url: str, message: str) -> None:
    """Write a new revision file from the models' difference to the database at ``url``.

    A developer tool: point it at a scratch database already at head, then review the
    generated file (replace ``relayer.store.coltypes`` types by frozen plain types, as
    in ``0001_initial``).
    """
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_revision_sync, message)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> SchemaStatus:
    """Migrate the database at ``url`` to ``revision``; return where it now stands."""
    engine = make_engine(url)
    try:
        await upgrade_engine(engine, revision)
        return await schema_status_engine(engine)
    finally:
        await engine.dispose()


async def schema_status(url: str) -> SchemaStatus:
    engine = make_engine(url)
    try:
        return await schema_status_engine(engine)
    finally:
        await engine.dispose()


async def is_at_head(url: str) -> bool:
    """True when the database at ``url`` is at this code's newest revision."""
    return (await schema_status(url)).at_head
