"""Hypothesis strategies and fixed keys shared by the domain tests."""

from __future__ import annotations

from eth_utils.crypto import keccak
from hypothesis import strategies as st

from relayer.domain.signature import address_of_private_key
from relayer.domain.types import (
    UINT64_MAX,
    UINT256_MAX,
    Address,
    EvmDomain,
    Hash32,
    Release,
    SourceEvent,
)

# Deterministic dev keys: keccak("validator-i"); each is a valid secp256k1 scalar.
KEYS: tuple[bytes, ...] = tuple(keccak(text=f"validator-{i}") for i in range(12))
ADDRESSES: tuple[Address, ...] = tuple(address_of_private_key(k) for k in KEYS)
KEY_OF: dict[Address, bytes] = dict(zip(ADDRESSES, KEYS, strict=True))

addresses = st.binary(min_size=20, max_size=20).map(Address)
hashes = st.binary(min_size=32, max_size=32).map(Hash32)
uint64s = st.integers(0, UINT64_MAX)
uint256s = st.integers(0, UINT256_MAX)
jurisdictions = st.sampled_from(["HK", "SG", "CH", "US", "DE", "JP"])

domains = st.builds(EvmDomain, chain_id=uint256s, verifying_contract=addresses)
releases = st.builds(
    Release,
    transfer_id=hashes,
    src_chain_id=uint64s,
    nonce=uint64s,
    token=addresses,
    recipient=addresses,
    amount=uint256s,
)


TRANSFER_ID = Hash32(b"\x01" * 32)
TOKEN = Address(b"\xaa" * 20)
SENDER = Address(b"\x5e" * 20)
RECIPIENT = Address(b"\xbe" * 20)
BLOCK_HASH = Hash32(b"\xb1" * 32)


def source_event(
    *,
    transfer_id: Hash32 = TRANSFER_ID,
    amount: int = 10**18,
    token: Address = TOKEN,
    sender: Address = SENDER,
    recipient: Address = RECIPIENT,
    src_chain_id: int = 1030,
    dst_chain_id: int = 1,
    block_hash: Hash32 = BLOCK_HASH,
) -> SourceEvent:
    return SourceEvent(
        transfer_id=transfer_id,
        src_chain_id=src_chain_id,
        src_contract=Address(b"\xc0" * 20),
        nonce=7,
        src_token=token,
        sender=sender,
        recipient=recipient,
        amount=amount,
        dst_chain_id=dst_chain_id,
        block_number=100,
        block_hash=block_hash,
        tx_hash=Hash32(b"\x7e" * 32),
        log_index=0,
    )
