"""One real bridge per test session: Conflux dev node, anvil, Mosquitto, five relayers.

Validators 1 and 3 keep their state in PostgreSQL, the others in SQLite: validator 1 on
the machine's server, validator 3 on a private server this session starts (so a test can
restart PostgreSQL under a running relayer without touching the shared one). Validator 4
(SG) denies ``DENIED_BY_ONE``; validators 3 and 4 deny ``DENIED_BY_TWO``, so with
threshold 4 of 5 the first still completes and the second is held, then (20 s after the
refusals, ``veto_hold_s``) vetoed by its refusers, cancelled and refunded.
Missing components (PostgreSQL, mosquitto, node binaries) fail the session loudly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_client import DENIED_BY_ONE, DENIED_BY_TWO

from relayer.devnet.databases import drop_postgres_database, ensure_postgres_database
from relayer.devnet.postgres import PostgresServer
from relayer.devnet.stack import Stack, StackOptions

PG_BASE = os.environ.get("RELAYER_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")


@pytest.fixture(scope="package")
def private_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test session only (validator 3's database)."""
    with PostgresServer.start(tmp_path_factory.mktemp("postgres")) as server:
        server.create_database("validator3")
        yield server


@pytest.fixture(scope="package")  # torn down before the other test folders run
def bridge(tmp_path_factory: pytest.TempPathFactory, private_pg: PostgresServer) -> Iterator[Stack]:
    run = uuid.uuid4().hex[:8]
    pg = {1: f"{PG_BASE}/e2e_{run}_v1"}
    for url in pg.values():
        ensure_postgres_database(url, fresh=True)
    pg[3] = private_pg.url("validator3")
    workdir: Path = tmp_path_factory.mktemp("bridge")
    urls = [pg.get(i, f"sqlite+aiosqlite:///{workdir}/v{i}.db") for i in range(5)]
    options = StackOptions(
        validators=5,
        threshold=4,
        min_jurisdictions=2,
        jurisdictions=("HK", "SG", "AE"),
        users=3,
        database_urls=urls,
        deny_lists={4: [DENIED_BY_ONE, DENIED_BY_TWO], 3: [DENIED_BY_TWO]},
        topic_prefix=f"e2e-{run}",
        grace_period_s=2.0,
        veto_hold_s=20.0,  # a transfer refused by two is vetoed 20 s after the refusal
        hsm_validators=(2,),  # validator 2 attests with a key in a SoftHSM2 token
    )
    stack = Stack.up(options, workdir)
    try:
        yield stack
    finally:
        stack.stop()
        drop_postgres_database(pg[1])
