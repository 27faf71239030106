"""Session-wide local chains: ONE anvil and ONE conflux-rust dev node per test session.

Both launchers live in ``relayer.devnet`` so these fixtures can move to
``tests/conftest.py`` unchanged. A missing node binary makes the fixture raise
``DevnetError``: the tests fail loudly, they are never skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from chain_helpers import TEST_RETRY

from relayer.chain.rpc import RpcClient
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode

ANVIL_CHAIN_ID = 31337
CONFLUX_CHAIN_ID = 2030


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def anvil_node() -> AsyncIterator[AnvilNode]:
    """Automine anvil (one block per transaction; tests mine extra blocks on demand)."""
    async with AnvilNode.start(chain_id=ANVIL_CHAIN_ID) as node:
        yield node


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def conflux_node() -> AsyncIterator[ConfluxDevNode]:
    """A conflux-rust dev node producing a block every 250 ms."""
    async with ConfluxDevNode.start(chain_id=CONFLUX_CHAIN_ID, dev_block_interval_ms=250) as node:
        yield node


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def anvil_rpc(anvil_node: AnvilNode) -> AsyncIterator[RpcClient]:
    """An RPC client on the session anvil."""
    async with RpcClient(anvil_node.rpc_url, timeout=5, retry=TEST_RETRY) as rpc:
        yield rpc


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def conflux_rpc(conflux_node: ConfluxDevNode) -> AsyncIterator[RpcClient]:
    """An RPC client on the session conflux node's eSpace endpoint."""
    async with RpcClient(conflux_node.rpc_url, timeout=5, retry=TEST_RETRY) as rpc:
        yield rpc
