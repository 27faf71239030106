"""/readyz and /metrics answer whatever a node does: a node that accepts connections and
never answers (a frozen conflux-rust, a SIGSTOPped process) is reported, never waited for.

The hung node is a real TCP server that reads requests and sends nothing back; the API is
the real aiohttp app over a real SQLite store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from relayer.api.metrics import Metrics
from relayer.api.server import ApiServer, build_app
from relayer.chain.rpc import RpcClient
from relayer.domain.types import Address
from relayer.gossip.config import GossipConfig
from relayer.gossip.transport import MqttGossip
from relayer.service.books import SetBook
from relayer.service.status import NodeStatus
from relayer.store import Store, upgrade

RPC_TIMEOUT_S = 10.0  # the client's own timeout: far longer than any API answer may take
PROBE_TIMEOUT_S = 0.3
ANSWER_WITHIN_S = 2.0  # a liveness bound (the point of the test), not a speed target


@pytest_asyncio.fixture
async def hung_node() -> AsyncIterator[str]:
    """An HTTP endpoint that accepts, reads and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    await upgrade(url)
    opened = await Store.open(url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.mark.asyncio
async def test_readyz_and_metrics_answer_while_a_node_hangs(hung_node: str, store: Store) -> None:
    metrics = Metrics()
    async with RpcClient(hung_node, timeout=RPC_TIMEOUT_S) as rpc:
        status = NodeStatus(
            store=store,
            sets=SetBook(contracts={}),
            metrics=metrics,
            rpcs={"ethereum": rpc},
            watchers={},
            gossip=MqttGossip(GossipConfig(client_id="status-test")),
            submitter_accounts={"ethereum": (rpc, Address(bytes(20)))},
            stall_after_s=60.0,
            probe_timeout_s=PROBE_TIMEOUT_S,
        )
        api = ApiServer(build_app(status, metrics), "127.0.0.1", 0)
        await api.start()
        try:
            base = f"http://127.0.0.1:{api.port}"
            timeout = aiohttp.ClientTimeout(total=ANSWER_WITHIN_S)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                async with http.get(f"{base}/readyz") as answer:
                    assert answer.status == 503
                    body = await answer.json()
                rpc_check = body["checks"]["rpc:ethereum"]
                assert rpc_check == {"ok": False, "detail": f"no answer within {PROBE_TIMEOUT_S}s"}
                assert body["checks"]["database"]["ok"] is True
                assert body["checks"]["broker"] == {"ok": False, "detail": "disconnected"}

                async with http.get(f"{base}/metrics") as answer:
                    assert answer.status == 200
                    text = await answer.text()
                assert "relayer_transfers" in text

                async with http.get(f"{base}/healthz") as answer:
                    assert answer.status == 200
        finally:
            await api.stop()

        # the balance refresh is where a chain is read: in the background, bounded by the
        # client's timeout, and a failure leaves the last value in place
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await status.refresh_balances()
