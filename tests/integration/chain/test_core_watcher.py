"""The relayer's EventWatcher on Conflux Core Space (relayer/chain/core/reader.py) over the
real dev node: locks on a Core vault are found by epoch through small windows, exactly
once and in order, across a restart of the watcher, with the depth rule counted in epochs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from chain_helpers import TEST_RETRY, nonces, scan_until
from eth_account import Account

from relayer.chain.confirmation import ConfirmationRule
from relayer.chain.core.reader import CoreReader
from relayer.chain.core.rpc import CoreRpc
from relayer.chain.events import BridgeEvent
from relayer.chain.rpc import RpcClient
from relayer.chain.scan import InMemorySink
from relayer.chain.watcher import EventWatcher, WatcherConfig
from relayer.devnet.conflux import ConfluxDevNode, dev_secret
from relayer.devnet.core_deploy import CoreDeployer, deploy_core_vault, hex_address
from relayer.devnet.deploy import ValidatorSetSpec
from relayer.domain.types import Address
from relayer.keys import signer_from_hex

pytestmark = pytest.mark.asyncio(loop_scope="session")
NETWORK_ID = 2029
ETHEREUM = 31337


@pytest_asyncio.fixture(loop_scope="session")
async def deployer(conflux_node: ConfluxDevNode) -> AsyncIterator[CoreDeployer]:
    async with RpcClient(conflux_node.core_rpc_url, timeout=10, retry=TEST_RETRY) as rpc:
        yield CoreDeployer(CoreRpc(rpc, NETWORK_ID), signer_from_hex(dev_secret("core", 0)))


async def _vault_with_token(deployer: CoreDeployer) -> tuple[bytes, bytes]:
    members = [Account.create().address for _ in range(3)]
    vset = ValidatorSetSpec.from_addresses(members, ["HK", "SG", "AE"], 3, 2)
    vault = await deploy_core_vault(deployer, vset)
    token = await deployer.deploy("TestToken", "Core HKD (test)", "CxHKD", 6)
    await deployer.call(vault, "BridgeVault", "registerToken", hex_address(token))
    gateway = Account.create().address
    await deployer.call(vault, "BridgeVault", "registerChain", ETHEREUM, gateway, False)
    await deployer.call(token, "TestToken", "mint", hex_address(deployer.account), 10**12)
    await deployer.call(token, "TestToken", "approve", hex_address(vault), 10**12)
    return vault, token


async def _lock(deployer: CoreDeployer, vault: bytes, token: bytes, amount: int) -> int:
    receipt = await deployer.call(
        vault, "BridgeVault", "lock", hex_address(token), amount, Account.create().address, ETHEREUM
    )
    return receipt.epoch_number


def _watcher(reader: CoreReader, vault: bytes, start: int, sink: InMemorySink) -> EventWatcher:
    config = WatcherConfig(
        contract=Address(vault),
        event=BridgeEvent.LOCKED,
        chain_id=NETWORK_ID,
        rule=ConfirmationRule.parse("depth:3"),
        start_block=start,
        max_window=4,  # small windows: many of them between the locks
        poll_interval=0.1,
    )
    return EventWatcher(reader, config, sink)


async def test_locks_on_core_are_seen_once_in_order_across_a_restart(
    deployer: CoreDeployer,
) -> None:
    vault, token = await _vault_with_token(deployer)
    reader = CoreReader(deployer.rpc)
    start = await reader.block_number()
    sink = InMemorySink()
    epochs = [await _lock(deployer, vault, token, 1_000 + i) for i in range(3)]
    await scan_until(_watcher(reader, vault, start, sink), sink, max(epochs), limit=60)
    assert nonces(sink.events) == [1, 2, 3]
    assert [e.amount for e in sink.events] == [1_000, 1_001, 1_002]
    assert [e.block_number for e in sink.events] == epochs
    for event in sink.events:  # each log's block is its epoch's pivot
        pivot = await reader.get_block(event.block_number)
        assert pivot is not None and pivot.hash == event.block_hash

    restarted = _watcher(reader, vault, start, sink)  # a new process: the cursor is stored
    more = [await _lock(deployer, vault, token, 2_000 + i) for i in range(2)]
    await scan_until(restarted, sink, max(more), limit=60)
    assert nonces(sink.events) == [1, 2, 3, 4, 5]  # no gap, no duplicate
    assert sink.reorgs == [] and sink.anomalies == []


async def test_the_confirmation_rule_counts_epochs_and_tags_map_to_core_heads(
    deployer: CoreDeployer,
) -> None:
    reader = CoreReader(deployer.rpc)
    state = await reader.block_number()
    latest = await reader.get_block("latest")
    assert latest is not None and latest.number >= state
    block = await reader.get_block(state)
    parent = await reader.get_block(state - 1)
    assert block is not None and parent is not None
    assert block.parent_hash == parent.hash  # pivots chain epoch to epoch
    assert await reader.get_block(state + 10_000) is None  # not executed: no block yet
    confirmed = await reader.get_block("safe")
    assert confirmed is not None and confirmed.number <= state
