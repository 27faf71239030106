"""Builders of domain values for the store tests."""

from __future__ import annotations

import os

from relayer.domain.types import Address, Attestation, Hash32, SourceEvent

CONFLUX = 71
ETHEREUM = 11155111
VAULT = Address(bytes.fromhex("11" * 20))


def rand_hash() -> Hash32:
    return Hash32(os.urandom(32))


def rand_address() -> Address:
    return Address(os.urandom(20))


def make_event(
    nonce: int,
    *,
    amount: int = 10**18,
    block_number: int = 100,
    transfer_id: Hash32 | None = None,
    chain_id: int = CONFLUX,
    contract: Address = VAULT,
) -> SourceEvent:
    return SourceEvent(
        transfer_id=transfer_id or rand_hash(),
        src_chain_id=chain_id,
        src_contract=contract,
        nonce=nonce,
        src_token=Address(b"\x00" * 20),
        sender=rand_address(),
        recipient=rand_address(),
        amount=amount,
        dst_chain_id=ETHEREUM,
        block_number=block_number,
        block_hash=rand_hash(),
        tx_hash=rand_hash(),
        log_index=0,
    )


def make_attestation(transfer_id: Hash32, signer: Address, digest: Hash32) -> Attestation:
    return Attestation(
        transfer_id=transfer_id, digest=digest, signer=signer, signature=os.urandom(64) + b"\x1b"
    )
