"""Core Space transactions (the native, pre-CIP-1559 form), signed through any ``Signer``
(keystore, PKCS#11, KMS): the key never needs to leave its backend.

    unsigned = rlp([nonce, gasPrice, gas, to, value, storageLimit, epochHeight, chainId, data])
    signed   = rlp([unsigned, v, r, s])       v = 0 or 1 (the recovery id)
    hash     = keccak(signed)

``to`` is empty for a contract creation. ``storageLimit`` is in bytes of storage the sender
agrees to collateralize (1 CFX per 1,024 bytes); ``epochHeight`` must lie within 100,000
epochs of the epoch that executes it; ``chainId`` is the network id (1029, 1, a devnet's).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.crypto import keccak

from relayer.domain.types import Hash32
from relayer.keys import Signer

Item = int | bytes | list["Item"]


def rlp_encode(item: Item) -> bytes:
    """Recursive Length Prefix encoding (integers big-endian, no leading zeros)."""
    if isinstance(item, list):
        body = b"".join(rlp_encode(i) for i in item)
        return _length_prefix(len(body), 0xC0) + body
    if isinstance(item, int):
        if item < 0:
            raise ValueError("RLP encodes non-negative integers only")
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if len(item) == 1 and item[0] < 0x80:
        return item
    return _length_prefix(len(item), 0x80) + item


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size


@dataclass(frozen=True, slots=True)
class CoreTransaction:
    """An unsigned Core transaction."""

    nonce: int
    gas_price: int
    gas: int
    to: bytes | None  # 20 bytes, or None to create a contract
    value: int
    storage_limit: int
    epoch_height: int
    chain_id: int
    data: bytes

    def __post_init__(self) -> None:
        if self.to is not None and len(self.to) != 20:
            raise ValueError("to: 20 bytes or None")
        for name in ("nonce", "gas_price", "gas", "value", "storage_limit", "epoch_height"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.chain_id <= 0:
            raise ValueError("chain_id must be positive")

    def fields(self) -> list[Item]:
        return [
            self.nonce,
            self.gas_price,
            self.gas,
            self.to or b"",
            self.value,
            self.storage_limit,
            self.epoch_height,
            self.chain_id,
            self.data,
        ]

    def signing_hash(self) -> Hash32:
        return Hash32(keccak(rlp_encode(self.fields())))


@dataclass(frozen=True, slots=True)
class SignedCoreTransaction:
    raw: bytes
    hash: Hash32


def sign_core_transaction(signer: Signer, tx: CoreTransaction) -> SignedCoreTransaction:
    """Sign ``tx`` with ``signer`` (65-byte r || s || v, v 27/28, low s)."""
    signature = signer.sign_digest(tx.signing_hash())
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64] - 27
    raw = rlp_encode([tx.fields(), v, r, s])
    return SignedCoreTransaction(raw, Hash32(keccak(raw)))
