"""Sign an Ethereum transaction through any ``Signer``: no raw key needed.

eth-account builds and hashes the unsigned transaction and encodes the signed one, exactly
as its ``Account.sign_transaction`` does; the signature in between comes from
``Signer.sign_digest``. For the same key and a deterministic (RFC 6979) signer the bytes
are identical to eth-account's own (tests/unit/keys/test_transaction_signing.py checks it for
legacy and EIP-1559 transactions; tests/integration/keys/ signs in a real SoftHSM2 token).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account._utils.legacy_transactions import (
    Transaction,
    UnsignedTransaction,
    encode_transaction,
    serializable_unsigned_transaction_from_dict,
)
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak

from relayer.domain.types import Hash32
from relayer.keys.signer import Signer

EIP155_V_OFFSET = 35  # v = recovery id + 35 + 2 * chainId for a chain-aware legacy transaction


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """What a node's ``eth_sendRawTransaction`` takes, and the hash it will know it by."""

    raw: bytes
    hash: Hash32


def sign_transaction(signer: Signer, tx: Mapping[str, Any]) -> SignedTransaction:
    """Sign ``tx`` (an eth-account transaction dict: typed with ``type``, legacy without)
    by ``signer``. A ``from`` field must name the signer."""
    fields = dict(tx)
    sender = fields.pop("from", None)
    if sender is not None and bytes(to_canonical_address(sender)) != signer.address:
        raise ValueError(f"from is {sender}, the signer is 0x{signer.address.hex()}")
    unsigned = serializable_unsigned_transaction_from_dict(fields)
    signature = signer.sign_digest(unsigned.hash())
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    recovery_id = signature[64] - 27
    if isinstance(unsigned, TypedTransaction):
        v = recovery_id  # typed transactions carry the bare recovery id (y parity)
    elif isinstance(unsigned, Transaction):  # EIP-155: the chain id sits in v
        v = recovery_id + EIP155_V_OFFSET + 2 * unsigned.v
    elif isinstance(unsigned, UnsignedTransaction):  # no chain id: replayable anywhere
        v = recovery_id + 27
    else:  # pragma: no cover - eth-account returns one of the three
        raise TypeError(f"unknown transaction object {type(unsigned).__name__}")
    raw = encode_transaction(unsigned, vrs=(v, r, s))
    return SignedTransaction(raw, Hash32(keccak(raw)))
