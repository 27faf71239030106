"""The RPC client's error sorting and retries, through the fault proxy in front of anvil."""

from __future__ import annotations

import asyncio

import pytest

from relayer.chain.rpc import (
    NO_RETRY,
    RetryPolicy,
    RpcClient,
    RpcNodeError,
    RpcRateLimitedError,
    RpcUnavailableError,
)
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.faultproxy import Fault, FaultProxy
from relayer.devnet.processes import free_ports
from relayer.errors import RpcError, RpcResponseError

pytestmark = pytest.mark.asyncio(loop_scope="session")
FAST = RetryPolicy(attempts=4, initial_seconds=0.01, max_seconds=0.05, deadline_seconds=5)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.http(429), RpcUnavailableError),
        (Fault.http(502), RpcUnavailableError),
        (Fault.rpc_error(-32005, "rate limit exceeded"), RpcRateLimitedError),
        (Fault.drop(), RpcUnavailableError),
        (Fault.delay(1.0), RpcUnavailableError),
        (Fault.truncated(), RpcResponseError),
        (Fault.replace_result({"number": "0x1"}), RpcResponseError),
        (Fault.replace_result("0xzz"), RpcResponseError),
        (Fault.rpc_error(-32602, "invalid params"), RpcNodeError),
    ],
)
async def test_faults_are_sorted_into_retryable_or_not(
    anvil_node: AnvilNode, fault: Fault, kind: type[Exception]
) -> None:
    async with FaultProxy.running(anvil_node.rpc_url) as proxy:
        proxy.fail_next("eth_getBlockByNumber", fault)
        async with RpcClient(proxy.url, timeout=0.3, retry=NO_RETRY) as rpc:
            with pytest.raises(kind):
                await rpc.get_block("latest")
        async with RpcClient(proxy.url, timeout=10, retry=NO_RETRY) as rpc:  # not timing-bound
            assert (await rpc.get_block("latest")) is not None  # next call is clean
    if kind in (RpcUnavailableError, RpcRateLimitedError):
        assert issubclass(kind, RpcError)
    else:
        assert not issubclass(kind, RpcError)


async def test_transient_faults_are_retried_then_succeed(anvil_node: AnvilNode) -> None:
    async with FaultProxy.running(anvil_node.rpc_url) as proxy:
        proxy.fail_next("eth_chainId", Fault.http(503), times=3)
        async with RpcClient(proxy.url, timeout=10, retry=FAST) as rpc:
            assert await rpc.chain_id() == anvil_node.chain_id
        assert proxy.calls["eth_chainId"] == 4


async def test_malformed_answers_are_not_retried(anvil_node: AnvilNode) -> None:
    async with FaultProxy.running(anvil_node.rpc_url) as proxy:
        proxy.fail_next("eth_chainId", Fault.truncated(), times=3)
        async with RpcClient(proxy.url, timeout=10, retry=FAST) as rpc:
            with pytest.raises(RpcResponseError):
                await rpc.chain_id()
        assert proxy.calls["eth_chainId"] == 1


async def test_connection_refused_is_retryable_and_gives_up() -> None:
    (port,) = free_ports(1)
    async with RpcClient(f"http://127.0.0.1:{port}", timeout=1, retry=FAST) as rpc:
        with pytest.raises(RpcUnavailableError):
            await rpc.block_number()


async def test_typed_calls_on_anvil(anvil_node: AnvilNode, anvil_rpc: RpcClient) -> None:
    latest = await anvil_rpc.get_block("latest")
    assert latest is not None
    assert await anvil_rpc.get_block(latest.number + 1000) is None
    assert await anvil_rpc.block_number() >= latest.number
    assert await anvil_rpc.base_fee() > 0
    assert await anvil_rpc.get_balance(b"\x00" * 20) >= 0
    assert await anvil_rpc.get_code(b"\x00" * 20) == b""


async def test_requests_share_a_bounded_pool_of_kept_alive_connections(
    anvil_node: AnvilNode,
) -> None:
    """100 requests (50 one after the other, 50 at once) open at most `max_connections`
    TCP connections to the node: kept alive and reused, never one per request."""
    accepted = 0
    host, port = anvil_node.rpc_url.removeprefix("http://").rsplit(":", 1)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def forward(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        node_r, node_w = await asyncio.open_connection(host, int(port))
        async with asyncio.TaskGroup() as group:
            group.create_task(pipe(client_r, node_w))
            group.create_task(pipe(node_r, client_w))

    server = await asyncio.start_server(forward, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with RpcClient(url, timeout=10, retry=NO_RETRY, max_connections=4) as rpc:
            for _ in range(50):
                assert await rpc.block_number() >= 0
            heads = await asyncio.gather(*(rpc.block_number() for _ in range(50)))
            assert len(heads) == 50
        assert 1 <= accepted <= 4
    finally:
        server.close()
        await server.wait_closed()


async def test_an_unavailable_endpoint_hands_over_to_the_fallback(anvil_node: AnvilNode) -> None:
    """A primary that refuses connections: the retried call lands on the fallback, which
    stays in use; the same when the primary stops answering (times out)."""
    (dead_port,) = free_ports(1)
    dead = f"http://127.0.0.1:{dead_port}"
    async with RpcClient(dead, timeout=2, retry=FAST, fallback_urls=[anvil_node.rpc_url]) as rpc:
        assert await rpc.chain_id() == anvil_node.chain_id
        assert rpc.url == anvil_node.rpc_url
        assert await rpc.block_number() >= 0  # no second failure: it stayed there
    async with FaultProxy.running(anvil_node.rpc_url) as proxy:
        proxy.fail_next("eth_chainId", Fault.delay(1.0))
        async with RpcClient(
            proxy.url, timeout=0.3, retry=FAST, fallback_urls=[anvil_node.rpc_url]
        ) as rpc:
            assert await rpc.chain_id() == anvil_node.chain_id
            assert rpc.url == anvil_node.rpc_url


async def test_a_client_refuses_repeated_endpoints() -> None:
    with pytest.raises(ValueError, match="must differ"):
        RpcClient("http://127.0.0.1:1", fallback_urls=["http://127.0.0.1:1/"])
