"""The local node launchers: start, answer, stop without leaving a process behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from relayer.devnet import anvil
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.devnet.processes import DevnetError, live_group_members, rpc_call
from relayer.devnet.waiting import eventually


def _alive(pgid: int) -> bool:
    return bool(live_group_members(pgid))


@pytest.mark.asyncio(loop_scope="session")
async def test_anvil_start_sub_second_blocks_and_stop() -> None:
    async with AnvilNode.start(chain_id=777, block_time=0.2) as node:
        assert int(await node.request("eth_chainId"), 16) == 777
        first = int(await node.request("eth_blockNumber"), 16)
        pid = node.process.pid

        async def advanced() -> bool:
            return int(await node.request("eth_blockNumber"), 16) >= first + 3

        await eventually(advanced, limit=15)
        print(f"anvil ready in {node.startup_seconds:.2f}s")  # a figure, not a timed test
    assert not _alive(pid)
    assert not node.workdir.exists()


@pytest.mark.asyncio(loop_scope="session")
async def test_anvil_funded_keys_match_node(anvil_node: AnvilNode) -> None:
    accounts = await anvil_node.request("eth_accounts")
    derived = [Account.from_key(k).address.lower() for k in anvil_node.funded_keys]
    assert [a.lower() for a in accounts] == derived


@pytest.mark.asyncio(loop_scope="session")
async def test_conflux_node_serves_funded_espace_accounts(conflux_node: ConfluxDevNode) -> None:
    url = conflux_node.rpc_url
    assert int(await rpc_call(url, "eth_chainId", []), 16) == conflux_node.chain_id
    address = Account.from_key(conflux_node.funded_keys[0]).address
    balance = int(await rpc_call(url, "eth_getBalance", [address, "latest"]), 16)
    assert balance == 10_000 * 10**18
    status = await rpc_call(conflux_node.core_rpc_url, "cfx_getStatus", [])
    assert int(status["chainId"], 16) == conflux_node.core_chain_id
    print(f"conflux ready in {conflux_node.startup_seconds:.2f}s")  # a figure, not a check


def test_missing_binary_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anvil, "ANVIL_BIN", Path("/nonexistent/anvil"))
    with pytest.raises(DevnetError, match="binary missing"):
        AnvilNode.launch()


@pytest.mark.asyncio(loop_scope="session")
async def test_second_conflux_node_runs_beside_first_and_stops_clean(
    conflux_node: ConfluxDevNode,
) -> None:
    async with ConfluxDevNode.start(chain_id=4242, core_chain_id=4241) as node:
        assert set(node.ports.values()).isdisjoint(conflux_node.ports.values())
        assert int(await rpc_call(node.rpc_url, "eth_chainId", []), 16) == 4242
        pid = node.process.pid
    assert not _alive(pid)
    assert not node.workdir.exists()
