"""Validator signatures for the benchmarks and the tests: EIP-712 typed data of a Release,
Cancel, ReleaseRoot, Refund and ValidatorSetUpdate, signed by every account into the bundle
the contracts expect (65-byte r || s || v signatures, ascending signer address), plus a
Release as the contracts' tuple argument and a transfer id.

Signing goes through eth_account's ``encode_typed_data``, independent of the relayer's own
hashing (relayer.domain.digest) and of the contracts', so tests that use these helpers check
both against a second implementation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3

from relayer.devnet.deploy import ValidatorSetSpec
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
