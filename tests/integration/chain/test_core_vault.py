"""The bridge's vault on Conflux Core Space (relayer/devnet/core_deploy.py): the same
Solidity as on eSpace, deployed and called with Core transactions on the real dev node; a
lock's ``Locked`` log, read by epoch with the vault's base32 address, decodes with the
relayer's own decoder into the transfer the contract recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from chain_helpers import TEST_RETRY
from eth_account import Account

from relayer.chain.core.answers import CoreLog
from relayer.chain.core.rpc import CoreRpc
from relayer.chain.events import BridgeEvent, EventDecoder
from relayer.chain.rpc import RpcClient, RpcNodeError
from relayer.chain.rpc_types import LogEntry
from relayer.devnet.conflux import ConfluxDevNode, dev_secret
from relayer.devnet.core_deploy import (
    CoreDeployer,
    calldata,
    deploy_core_vault,
    hex_address,
)
from relayer.devnet.deploy import ValidatorSetSpec
from relayer.domain.digest import transfer_id
from relayer.domain.types import Address
from relayer.keys import signer_from_hex

pytestmark = pytest.mark.asyncio(loop_scope="session")
NETWORK_ID = 2029
ETHEREUM = 31337
AMOUNT = 1_250_000


@pytest_asyncio.fixture(loop_scope="session")
async def deployer(conflux_node: ConfluxDevNode) -> AsyncIterator[CoreDeployer]:
    async with RpcClient(conflux_node.core_rpc_url, timeout=10, retry=TEST_RETRY) as rpc:
        yield CoreDeployer(CoreRpc(rpc, NETWORK_ID), signer_from_hex(dev_secret("core", 0)))


def _as_log_entry(log: CoreLog) -> LogEntry:
    """A Core log in the watcher's terms: the epoch is the block number on Core."""
    return LogEntry(
        log.address, log.topics, log.data, log.epoch_number, log.block_hash, log.tx_hash,
        log.log_index,
    )  # fmt: skip


async def test_a_lock_on_the_core_vault_is_the_transfer_the_relayer_decodes(
    deployer: CoreDeployer,
) -> None:
    members = [Account.create().address for _ in range(3)]
    vset = ValidatorSetSpec.from_addresses(members, ["HK", "SG", "AE"], 3, 2)
    vault = await deploy_core_vault(deployer, vset)
    assert vault[0] >> 4 == 0x8  # a Core contract address
    token = await deployer.deploy("TestToken", "Core HKD (test)", "CxHKD", 6)
    gateway = Account.create().address  # the Ethereum side's address; never called here
    await deployer.call(vault, "BridgeVault", "registerToken", hex_address(token))
    await deployer.call(vault, "BridgeVault", "registerChain", ETHEREUM, gateway, False)
    me = hex_address(deployer.account)
    await deployer.call(token, "TestToken", "mint", me, 10 * AMOUNT)
    await deployer.call(token, "TestToken", "approve", hex_address(vault), AMOUNT)
    recipient = Account.create().address
    locked = await deployer.call(
        vault, "BridgeVault", "lock", hex_address(token), AMOUNT, recipient, ETHEREUM
    )

    decoder = EventDecoder(BridgeEvent.LOCKED, Address(vault), NETWORK_ID)
    epoch = locked.epoch_number
    logs = await deployer.rpc.logs(vault, epoch, epoch, [decoder.topic0])
    assert len(logs) == 1
    event = decoder.decode(_as_log_entry(logs[0]))
    assert event.transfer_id == transfer_id(NETWORK_ID, Address(vault), 1)
    assert (event.nonce, event.amount, event.dst_chain_id) == (1, AMOUNT, ETHEREUM)
    assert event.sender == deployer.account and event.src_token == token
    assert hex_address(event.recipient) == recipient
    answer = await deployer.rpc.call(
        vault, calldata("BridgeVault", "lockedBalance", hex_address(token))
    )
    assert int.from_bytes(answer, "big") == AMOUNT


async def test_a_call_the_contract_refuses_is_stopped_at_the_estimate_with_the_reason(
    deployer: CoreDeployer,
) -> None:
    token = await deployer.deploy("TestToken", "Core Test", "CT", 18)
    nonce = await deployer.rpc.next_nonce(deployer.account)
    with pytest.raises(RpcNodeError, match=r"cfx_estimateGasAndCollateral failed .*reverted"):
        await deployer.call(token, "TestToken", "transfer", Account.create().address, 1)
    assert await deployer.rpc.next_nonce(deployer.account) == nonce  # nothing was sent
