"""One real bridge per test session: Conflux dev node, anvil, Mosquitto, five relayers.

Validators 1 and 3 keep their state in PostgreSQL, the others in SQLite. Validator 4
(SG) denies ``DENIED_BY_ONE``; validators 3 and 4 deny ``DENIED_BY_TWO``, so with
threshold 4 of 5 the first still completes and the second is held.
Missing components (PostgreSQL, mosquitto, node binaries) fail the session loudly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils.address import to_checksum_address

from relayer.devnet.databases import drop_postgres_database, ensure_postgres_database
from relayer.devnet.stack import Stack, StackOptions

PG_BASE = os.environ.get("RELAYER_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
DENIED_BY_ONE = to_checksum_address("0x" + "de" * 19 + "01")
DENIED_BY_TWO = to_checksum_address("0x" + "de" * 19 + "02")


@pytest.fixture(scope="package")  # torn down before the other test folders run
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run = uuid.uuid4().hex[:8]
    pg = {i: f"{PG_BASE}/e2e_{run}_v{i}" for i in (1, 3)}
    for url in pg.values():
        ensure_postgres_database(url, fresh=True)
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
    )
    stack = Stack.up(options, workdir)
    try:
        yield stack
    finally:
        stack.stop()
        for url in pg.values():
            drop_postgres_database(url)
