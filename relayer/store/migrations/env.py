"""Alembic environment for the relayer store.

Programmatic use (``relayer.store.migrate``) hands a live connection in
``config.attributes["connection"]``; the ``alembic`` command line instead gets a URL
in ``sqlalchemy.url`` (or ``RELAYER_DATABASE_URL``) and runs on an async engine.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from relayer.store.engine import make_engine
from relayer.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("RELAYER_DATABASE_URL")
    if not url:
        raise RuntimeError("set sqlalchemy.url or RELAYER_DATABASE_URL")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(url))


_main()
