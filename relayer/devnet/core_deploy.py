"""Deploying and calling the bridge's contracts on Conflux Core Space with Core transactions
(relayer/chain/core): the same Solidity as on eSpace (compiled for paris), with the storage
collateral each transaction needs estimated by the node (docs/contracts.md, "Core Space").

Devnet and test code only; a relayer never deploys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3

from relayer.chain.artifacts import load_artifact
from relayer.chain.core.answers import CoreReceipt
from relayer.chain.core.rpc import CoreRpc
from relayer.chain.core.transactions import CoreTransaction, sign_core_transaction
from relayer.devnet.deploy import ValidatorSetSpec
from relayer.devnet.processes import DevnetError
from relayer.devnet.waiting import eventually
from relayer.domain.cip37 import user_address
from relayer.keys import Signer

RECEIPT_TIMEOUT_S = 60.0
_ABI = Web3()  # encoding only: no provider


class CoreTransactionFailed(DevnetError):
    """A Core transaction executed and failed (``outcomeStatus`` 1): its node's reason."""


def calldata(contract: str, function: str, *args: Any) -> bytes:
    """ABI calldata of ``function`` of the shipped artifact ``contract``."""
    encoder = _ABI.eth.contract(abi=load_artifact(contract).abi)
    return bytes.fromhex(encoder.encode_abi(function, list(args))[2:])


def creation_code(contract: str, *args: Any) -> bytes:
    artifact = load_artifact(contract)
    factory = _ABI.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    return bytes.fromhex(factory.constructor(*args).data_in_transaction[2:])


@dataclass
class CoreDeployer:
    """Sends Core transactions from ``signer``'s Core account on ``rpc``."""

    rpc: CoreRpc
    signer: Signer

    @property
    def account(self) -> bytes:
        return user_address(bytes(self.signer.address))

    async def submit(
        self, to: bytes | None, data: bytes, value: int = 0, *, storage_limit: int | None = None
    ) -> CoreReceipt:
        """Estimate gas and collateral (``storage_limit`` overrides the estimate's), sign,
        send, wait; the receipt, whatever its outcome."""
        estimate = await self.rpc.estimate(self.account, to, data, value)
        tx = CoreTransaction(
            nonce=await self.rpc.next_nonce(self.account),
            gas_price=await self.rpc.gas_price(),
            gas=estimate.gas_limit,
            to=to,
            value=value,
            storage_limit=estimate.storage_collateralized
            if storage_limit is None
            else storage_limit,
            epoch_height=await self.rpc.epoch_number("latest_state"),
            chain_id=self.rpc.network_id,
            data=data,
        )
        signed = sign_core_transaction(self.signer, tx)
        sent = await self.rpc.send_raw_transaction(signed.raw)
        if sent != signed.hash:
            raise DevnetError(
                f"the node names the transaction 0x{sent.hex()}, not 0x{signed.hash.hex()}"
            )
        return await self.mined(signed.hash)

    async def mined(self, tx_hash: bytes) -> CoreReceipt:
        """The transaction's receipt, once it is executed."""
        return await eventually(lambda: self.rpc.receipt(tx_hash), RECEIPT_TIMEOUT_S, 0.25)

    async def send(self, to: bytes | None, data: bytes, value: int = 0) -> CoreReceipt:
        """:meth:`submit`, raising unless the transaction succeeded."""
        receipt = await self.submit(to, data, value)
        if not receipt.succeeded:
            raise CoreTransactionFailed(
                f"Core transaction 0x{receipt.tx_hash.hex()} failed: "
                f"{receipt.error or receipt.outcome}"
            )
        return receipt

    async def deploy(self, contract: str, *args: Any) -> bytes:
        receipt = await self.send(None, creation_code(contract, *args))
        if receipt.contract_created is None:
            raise DevnetError(f"{contract}: the receipt names no contract created")
        return bytes(receipt.contract_created)

    async def call(self, to: bytes, contract: str, function: str, *args: Any) -> CoreReceipt:
        return await self.send(to, calldata(contract, function, *args))


def hex_address(address: bytes) -> str:
    """The ABI form of a Core address (checksummed hex: users 0x1…, contracts 0x8…)."""
    return to_checksum_address(address)


async def deploy_core_vault(
    deployer: CoreDeployer, vset: ValidatorSetSpec, admin_delay: int = 0
) -> bytes:
    """A BridgeVault on Core Space with validator set 1; the deployer is its admin."""
    module = await deployer.deploy("BridgeAdmin")
    admin = hex_address(deployer.account)
    args: Sequence[Any] = vset.constructor_args()
    return await deployer.deploy("BridgeVault", admin, admin_delay, hex_address(module), *args)
