"""Deployment and signing helpers for benchmarks, the devnet and tests (synchronous web3).

Deploys the vault / gateway with a validator set, registers chains and tokens on both sides,
deploys the test tokens, and signs Releases and ValidatorSetUpdates into the bundle the
contracts expect (65-byte r || s || v signatures, ascending signer address).

Signing goes through eth_account's ``encode_typed_data``, independent of the contracts' own
hashing, so tests that use these helpers check the contracts against a second implementation.
Transactions are signed locally, so the helpers work on nodes without unlocked accounts
(the Conflux eSpace dev node).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from relayer.chain.artifacts import load_artifact
from relayer.chain.transactions import contract_at, send
from relayer.domain.types import Release

EIP712_NAME = "ConfluxBridge"
EIP712_VERSION = "1"

_EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_RELEASE_TYPE = [
    {"name": "transferId", "type": "bytes32"},
    {"name": "srcChainId", "type": "uint64"},
    {"name": "nonce", "type": "uint64"},
    {"name": "token", "type": "address"},
    {"name": "recipient", "type": "address"},
    {"name": "amount", "type": "uint256"},
]
_CANCEL_TYPE = [{"name": "transferId", "type": "bytes32"}]
_RELEASE_ROOT_TYPE = [
    {"name": "root", "type": "bytes32"},
    {"name": "srcChainId", "type": "uint64"},
    {"name": "firstNonce", "type": "uint64"},
    {"name": "lastNonce", "type": "uint64"},
]
_REFUND_TYPE = [
    {"name": "transferId", "type": "bytes32"},
    {"name": "dstChainId", "type": "uint64"},
    {"name": "token", "type": "address"},
    {"name": "recipient", "type": "address"},
    {"name": "amount", "type": "uint256"},
]
_SET_UPDATE_TYPE = [
    {"name": "setId", "type": "uint64"},
    {"name": "replacedSetHash", "type": "bytes32"},
    {"name": "deadline", "type": "uint64"},
    {"name": "members", "type": "address[]"},
    {"name": "jurisdictions", "type": "bytes2[]"},
    {"name": "threshold", "type": "uint8"},
    {"name": "minJurisdictions", "type": "uint8"},
]


class DeployError(RuntimeError):
    """A deployment returned no contract address."""


@dataclass(frozen=True)
class ValidatorSetSpec:
    """A validator set as the contracts take it: members ascending, codes aligned."""

    members: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    threshold: int
    min_jurisdictions: int

    @classmethod
    def from_accounts(
        cls,
        accounts: Iterable[LocalAccount],
        jurisdictions: Sequence[str],
        threshold: int | None = None,
        min_jurisdictions: int = 1,
    ) -> ValidatorSetSpec:
        """Sorts (account, jurisdiction) pairs by address; threshold defaults to floor(2n/3)+1."""
        pairs = sorted(
            zip(accounts, jurisdictions, strict=True), key=lambda p: int(p[0].address, 16)
        )
        n = len(pairs)
        return cls(
            members=tuple(to_checksum_address(a.address) for a, _ in pairs),
            jurisdictions=tuple(j for _, j in pairs),
            threshold=threshold if threshold is not None else (2 * n) // 3 + 1,
            min_jurisdictions=min_jurisdictions,
        )

    def constructor_args(self) -> tuple[list[str], list[bytes], int, int]:
        """(members, jurisdictions as bytes2, threshold, minJurisdictions)."""
        return (
            list(self.members),
            [j.encode("ascii") for j in self.jurisdictions],
            self.threshold,
            self.min_jurisdictions,
        )


# ---------------------------------------------------------------------- deployment


def deploy(w3: Web3, account: LocalAccount, name: str, *args: Any) -> Contract:
    """Deploys the shipped artifact ``name`` with constructor ``args``."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send(w3, account, factory.constructor(*args))
    address = receipt["contractAddress"]
    if address is None:
        raise DeployError(f"{name} deployment returned no contract address")
    return contract_at(w3, name, address)


def deploy_vault(
    w3: Web3, account: LocalAccount, admin: str, vset: ValidatorSetSpec, admin_delay: int = 0
) -> Contract:
    """Deploys a BridgeVault (Conflux eSpace side) with validator set 1.

    ``admin_delay`` (seconds) is the wait of an admin transfer and of every loosening change
    (governor, delay, grace period); 0 suits a devnet only.
    """
    module = deploy_admin_module(w3, account)
    return deploy(
        w3, account, "BridgeVault", admin, admin_delay, module.address, *vset.constructor_args()
    )


def deploy_gateway(
    w3: Web3, account: LocalAccount, admin: str, vset: ValidatorSetSpec, admin_delay: int = 0
) -> Contract:
    """Deploys a BridgeGateway (Ethereum side) with validator set 1.

    ``admin_delay``: as for deploy_vault.
    """
    module = deploy_admin_module(w3, account)
    return deploy(
        w3, account, "BridgeGateway", admin, admin_delay, module.address, *vset.constructor_args()
    )


def deploy_admin_module(w3: Web3, account: LocalAccount) -> Contract:
    """Deploys a BridgeAdmin, the governance module a vault or gateway runs by delegatecall.

    A separate transaction: the vault with the module inside would need more than the
    15,000,000 gas a Conflux transaction may use.
    """
    return deploy(w3, account, "BridgeAdmin")


def set_governor(
    w3: Web3,
    admin: LocalAccount,
    bridge: Contract,
    token: str,
    capacity: int,
    refill_per_second: int,
    large_transfer_threshold: int,
) -> TxReceipt:
    """Sets the governor of ``token``, the token ``bridge`` delivers (capacity 0 = no limit)."""
    return send(
        w3,
        admin,
        bridge.functions.setGovernor(
            to_checksum_address(token), capacity, refill_per_second, large_transfer_threshold
        ),
    )


def set_delay(w3: Web3, admin: LocalAccount, bridge: Contract, seconds: int) -> TxReceipt:
    """Sets the delay of large or over-limit transfers (shorter: after the admin delay)."""
    return send(w3, admin, bridge.functions.setDelay(seconds))


def configure_governor(
    w3: Web3,
    admin: LocalAccount,
    bridge: Contract,
    token: str,
    capacity: int,
    refill_per_second: int,
    large_transfer_threshold: int,
) -> bool:
    """``set_governor``, then ``applyGovernor`` if the change was a loosening already due
    (an admin delay of 0, as on a devnet). True when the governor is in force now."""
    set_governor(w3, admin, bridge, token, capacity, refill_per_second, large_transfer_threshold)
    checksummed = to_checksum_address(token)
    effective_at = int(bridge.functions.pendingGovernorOf(checksummed).call()[3])
    if effective_at == 0:
        return True
    if effective_at > int(w3.eth.get_block("latest")["timestamp"]):
        return False
    send(w3, admin, bridge.functions.applyGovernor(checksummed))
    return True


def configure_delay(w3: Web3, admin: LocalAccount, bridge: Contract, seconds: int) -> bool:
    """``set_delay``, then ``applyParameter("delay")`` if a shortening is already due.
    True when ``delay()`` is ``seconds`` now."""
    set_delay(w3, admin, bridge, seconds)
    if int(bridge.functions.delay().call()) == seconds:
        return True
    parameter = bridge.functions.DELAY_PARAMETER().call()
    effective_at = int(bridge.functions.pendingParameterOf(parameter).call()[1])
    if effective_at == 0 or effective_at > int(w3.eth.get_block("latest")["timestamp"]):
        return False
    send(w3, admin, bridge.functions.applyParameter(parameter))
    return int(bridge.functions.delay().call()) == seconds


def deploy_test_token(
    w3: Web3, account: LocalAccount, name: str, symbol: str, decimals: int
) -> Contract:
    """Deploys a TestToken (plain ERC-20, anyone can mint)."""
    return deploy(w3, account, "TestToken", name, symbol, decimals)


def deploy_fee_token(
    w3: Web3, account: LocalAccount, name: str, symbol: str, decimals: int, fee_bps: int
) -> Contract:
    """Deploys a FeeOnTransferToken that burns ``fee_bps`` / 10,000 of every transfer."""
    return deploy(w3, account, "FeeOnTransferToken", name, symbol, decimals, fee_bps)


def register_chain(
    w3: Web3, admin: LocalAccount, bridge: Contract, chain_id: int, remote: str
) -> TxReceipt:
    """Registers the peer chain ``chain_id`` and its bridge contract on vault or gateway."""
    return send(
        w3, admin, bridge.functions.registerChain(chain_id, to_checksum_address(remote), False)
    )


def register_vault_token(w3: Web3, admin: LocalAccount, vault: Contract, token: str) -> TxReceipt:
    """Allows locking ``token`` on the vault (zero address = native CFX)."""
    return send(w3, admin, vault.functions.registerToken(to_checksum_address(token)))


def register_gateway_token(
    w3: Web3,
    admin: LocalAccount,
    gateway: Contract,
    src_chain_id: int,
    src_token: str,
    name: str,
    symbol: str,
    decimals: int,
) -> Contract:
    """Deploys the mirror of ``src_token`` through the gateway; returns the MirroredToken."""
    send(
        w3,
        admin,
        gateway.functions.registerToken(
            src_chain_id, to_checksum_address(src_token), name, symbol, decimals
        ),
    )
    mirror = gateway.functions.mirrorOf(src_chain_id, to_checksum_address(src_token)).call()
    return contract_at(w3, "MirroredToken", mirror)


def connect_bridges(
    w3_vault: Web3,
    vault_admin: LocalAccount,
    vault: Contract,
    vault_chain_id: int,
    w3_gateway: Web3,
    gateway_admin: LocalAccount,
    gateway: Contract,
    gateway_chain_id: int,
) -> None:
    """Registers each side as the other's peer chain."""
    register_chain(w3_vault, vault_admin, vault, gateway_chain_id, gateway.address)
    register_chain(w3_gateway, gateway_admin, gateway, vault_chain_id, vault.address)


# --------------------------------------------------------------------------- signing


def domain(chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The EIP-712 domain of the contract that executes the message."""
    return {
        "name": EIP712_NAME,
        "version": EIP712_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(verifying_contract),
    }


def release_typed_data(release: Release, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """EIP-712 typed data of a Release for ``encode_typed_data(full_message=...)``."""
    return {
        "types": {"EIP712Domain": _EIP712_DOMAIN, "Release": _RELEASE_TYPE},
        "primaryType": "Release",
        "domain": domain(chain_id, verifying_contract),
        "message": {
            "transferId": release.transfer_id,
            "srcChainId": release.src_chain_id,
            "nonce": release.nonce,
            "token": to_checksum_address(release.token),
            "recipient": to_checksum_address(release.recipient),
            "amount": release.amount,
        },
    }


def set_update_typed_data(
    set_id: int,
    vset: ValidatorSetSpec,
    chain_id: int,
    verifying_contract: str,
    replaced_set_hash: bytes,
    deadline: int,
) -> dict[str, Any]:
    """EIP-712 typed data of a ValidatorSetUpdate replacing the set whose
    ``validatorSetHash()`` is ``replaced_set_hash``, valid until ``deadline`` (unix s)."""
    return {
        "types": {"EIP712Domain": _EIP712_DOMAIN, "ValidatorSetUpdate": _SET_UPDATE_TYPE},
        "primaryType": "ValidatorSetUpdate",
        "domain": domain(chain_id, verifying_contract),
        "message": {
            "setId": set_id,
            "replacedSetHash": bytes(replaced_set_hash),
            "deadline": deadline,
            "members": list(vset.members),
            "jurisdictions": [j.encode("ascii") for j in vset.jurisdictions],
            "threshold": vset.threshold,
            "minJurisdictions": vset.min_jurisdictions,
        },
    }


def sign_bundle(typed_data: dict[str, Any], accounts: Iterable[LocalAccount]) -> bytes:
    """Signs ``typed_data`` with every account; concatenates r || s || v by ascending signer."""
    signable = encode_typed_data(full_message=typed_data)
    ordered = sorted(accounts, key=lambda a: int(a.address, 16))
    return b"".join(bytes(Account.sign_message(signable, a.key).signature) for a in ordered)


def cancel_typed_data(transfer_id: bytes, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """EIP-712 typed data of ``Cancel(bytes32 transferId)`` (same domain as a Release)."""
    return {
        "types": {"EIP712Domain": _EIP712_DOMAIN, "Cancel": _CANCEL_TYPE},
        "primaryType": "Cancel",
        "domain": domain(chain_id, verifying_contract),
        "message": {"transferId": transfer_id},
    }


def release_root_typed_data(
    root: bytes,
    src_chain_id: int,
    first_nonce: int,
    last_nonce: int,
    chain_id: int,
    verifying_contract: str,
) -> dict[str, Any]:
    """EIP-712 typed data of a ReleaseRoot (``commitRoot``), same domain as a Release."""
    return {
        "types": {"EIP712Domain": _EIP712_DOMAIN, "ReleaseRoot": _RELEASE_ROOT_TYPE},
        "primaryType": "ReleaseRoot",
        "domain": domain(chain_id, verifying_contract),
        "message": {
            "root": bytes(root),
            "srcChainId": src_chain_id,
            "firstNonce": first_nonce,
            "lastNonce": last_nonce,
        },
    }


def refund_typed_data(
    transfer_id: bytes,
    dst_chain_id: int,
    token: str,
    recipient: str,
    amount: int,
    chain_id: int,
    verifying_contract: str,
) -> dict[str, Any]:
    """EIP-712 typed data of a Refund on the contract where the transfer began."""
    return {
        "types": {"EIP712Domain": _EIP712_DOMAIN, "Refund": _REFUND_TYPE},
        "primaryType": "Refund",
        "domain": domain(chain_id, verifying_contract),
        "message": {
            "transferId": transfer_id,
            "dstChainId": dst_chain_id,
            "token": to_checksum_address(token),
            "recipient": to_checksum_address(recipient),
            "amount": amount,
        },
    }


def sign_release(
    release: Release, chain_id: int, verifying_contract: str, accounts: Iterable[LocalAccount]
) -> bytes:
    """The signature bundle of ``accounts`` over a Release for the given executing contract."""
    return sign_bundle(release_typed_data(release, chain_id, verifying_contract), accounts)


def release_args(release: Release) -> tuple[bytes, int, int, str, str, int]:
    """A Release as the contracts' ``Release`` tuple argument."""
    return (
        release.transfer_id,
        release.src_chain_id,
        release.nonce,
        to_checksum_address(release.token),
        to_checksum_address(release.recipient),
        release.amount,
    )


def transfer_id(chain_id: int, contract: str, nonce: int) -> bytes:
    """keccak256(abi.encode(uint256 chainid, address contract, uint64 nonce))."""
    return bytes(
        Web3.keccak(
            chain_id.to_bytes(32, "big")
            + bytes(12)
            + bytes.fromhex(to_checksum_address(contract)[2:])
            + nonce.to_bytes(32, "big")
        )
    )
