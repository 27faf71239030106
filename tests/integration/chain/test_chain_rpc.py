"""The RPC client's error sorting and retries, through the fault proxy in front of anvil."""

from __future__ import annotations

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
