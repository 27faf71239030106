"""Core Space on the real conflux-rust dev node's Core RPC (relayer/chain/core): a token
deployed with Core transactions and its storage collateral, a transfer that fails for too
little collateral reported clearly, nonces with transactions still in the pool, logs by
epoch with base32 addresses, receipts read by ``outcomeStatus``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from chain_helpers import TEST_RETRY
from eth_utils.crypto import keccak
from web3 import Web3

from relayer.chain.core.answers import Outcome
from relayer.chain.core.rpc import CoreRpc
from relayer.chain.core.transactions import CoreTransaction, sign_core_transaction
from relayer.chain.rpc import RpcClient
from relayer.devnet.conflux import ConfluxDevNode, dev_secret
from relayer.devnet.core_deploy import CoreDeployer, calldata, creation_code
from relayer.domain.cip37 import decode, encode
from relayer.keys import signer_from_hex

pytestmark = pytest.mark.asyncio(loop_scope="session")
NETWORK_ID = 2029  # the dev node's Core network id (ConfluxDevNode's default)
TRANSFER = keccak(text="Transfer(address,address,uint256)")


@pytest_asyncio.fixture(loop_scope="session")
async def core(conflux_node: ConfluxDevNode) -> AsyncIterator[CoreDeployer]:
    async with RpcClient(conflux_node.core_rpc_url, timeout=10, retry=TEST_RETRY) as rpc:
        yield CoreDeployer(CoreRpc(rpc, NETWORK_ID), signer_from_hex(dev_secret("core", 0)))


async def _deploy_token(core: CoreDeployer) -> bytes:
    receipt = await core.submit(None, creation_code("TestToken", "Core Test", "CT", 6))
    assert receipt.outcome is Outcome.SUCCESS, receipt.error
    assert receipt.contract_created is not None and receipt.contract_created[0] >> 4 == 0x8
    return bytes(receipt.contract_created)


async def test_the_node_serves_the_network_and_epochs(core: CoreDeployer) -> None:
    await core.rpc.check_network()
    state = await core.rpc.epoch_number("latest_state")
    assert state > 0
    assert await core.rpc.epoch_number("latest_confirmed") <= state
    me = core.account
    assert me[0] >> 4 == 0x1  # a Core user address
    assert await core.rpc.balance(me) > 10**18
    assert decode(core.rpc.base32(me), expected_network=NETWORK_ID).address == me


async def test_a_token_deploys_with_its_storage_collateral_and_logs_by_epoch(
    core: CoreDeployer,
) -> None:
    me = core.account
    before = await core.rpc.balance(me)
    token = await _deploy_token(core)
    holder = bytes.fromhex("1" + "0" * 38 + "1")
    receipt = await core.submit(
        token, calldata("TestToken", "mint", Web3.to_checksum_address(holder), 7)
    )
    assert receipt.succeeded and receipt.storage_collateralized > 0
    assert await core.rpc.balance(me) < before  # gas and collateral paid
    logs = await core.rpc.logs(token, receipt.epoch_number, receipt.epoch_number, [TRANSFER])
    assert [(log.tx_hash, log.epoch_number) for log in logs] == [
        (receipt.tx_hash, receipt.epoch_number)
    ]
    assert int.from_bytes(logs[0].topics[2], "big") == int.from_bytes(holder, "big")
    assert int.from_bytes(logs[0].data, "big") == 7
    answer = await core.rpc.call(
        token, calldata("TestToken", "balanceOf", Web3.to_checksum_address(holder))
    )
    assert int.from_bytes(answer, "big") == 7


async def test_too_little_storage_collateral_fails_clearly_and_charges_gas(
    core: CoreDeployer,
) -> None:
    token = await _deploy_token(core)
    fresh = bytes.fromhex("1" + "0" * 37 + "42")
    receipt = await core.submit(
        token, calldata("TestToken", "mint", Web3.to_checksum_address(fresh), 1), storage_limit=0
    )
    assert receipt.outcome is Outcome.FAILURE
    assert "ExceedStorageLimit" in receipt.error
    assert receipt.gas_fee > 0 and receipt.storage_collateralized == 0


async def test_nonces_count_transactions_still_in_the_pool(core: CoreDeployer) -> None:
    token = await _deploy_token(core)
    me = core.account
    first = await core.rpc.next_nonce(me)
    price, epoch = await core.rpc.gas_price(), await core.rpc.epoch_number("latest_state")
    sent = []
    for i in range(3):  # back to back: each next_nonce sees the ones before in the pool
        data = calldata("TestToken", "mint", Web3.to_checksum_address(me), i + 1)
        nonce = await core.rpc.next_nonce(me)
        assert nonce == first + i
        tx = CoreTransaction(nonce, price, 200_000, token, 0, 1024, epoch, NETWORK_ID, data)
        signed = sign_core_transaction(core.signer, tx)
        sent.append(await core.rpc.send_raw_transaction(signed.raw))
    receipts = [await core.mined(h) for h in sent]
    assert all(r.succeeded for r in receipts), [r.error for r in receipts]
    assert await core.rpc.next_nonce(me) == first + 3


async def test_a_hex_address_is_not_a_core_log_filter(core: CoreDeployer) -> None:
    token = await _deploy_token(core)
    # the client always sends base32 (the node refuses hex); the network prefix is the node's
    assert core.rpc.base32(token) == encode(token, NETWORK_ID)
    assert core.rpc.base32(token).startswith("net2029:")
