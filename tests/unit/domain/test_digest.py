"""The digest code against eth_account's independent EIP-712 implementation."""

from __future__ import annotations

from domain_strategies import addresses, domains, hashes, jurisdictions, releases, uint64s, uint256s
from eth_abi.abi import encode
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.digest import (
    cancel_digest,
    domain_separator,
    refund_digest,
    release_digest,
    release_struct_hash,
    transfer_id,
    validator_set_update_digest,
)
from relayer.domain.types import Address, EvmDomain, Hash32, Release, checksum

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def _domain_data(domain: EvmDomain) -> dict[str, object]:
    return {
        "name": "ConfluxBridge",
        "version": "1",
        "chainId": domain.chain_id,
        "verifyingContract": checksum(domain.verifying_contract),
    }


def _eth_account_digest(signable_header: bytes, signable_body: bytes) -> bytes:
    return keccak(b"\x19\x01" + signable_header + signable_body)


@given(domains, releases)
def test_release_digest_matches_eth_account(domain: EvmDomain, release: Release) -> None:
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": DOMAIN_FIELDS,
                "Release": [
                    {"name": "transferId", "type": "bytes32"},
                    {"name": "srcChainId", "type": "uint64"},
                    {"name": "nonce", "type": "uint64"},
                    {"name": "token", "type": "address"},
                    {"name": "recipient", "type": "address"},
                    {"name": "amount", "type": "uint256"},
                ],
            },
            "primaryType": "Release",
            "domain": _domain_data(domain),
            "message": {
                "transferId": release.transfer_id,
                "srcChainId": release.src_chain_id,
                "nonce": release.nonce,
                "token": checksum(release.token),
                "recipient": checksum(release.recipient),
                "amount": release.amount,
            },
        }
    )
    assert domain_separator(domain) == signable.header
    assert release_struct_hash(release) == signable.body
    assert release_digest(domain, release) == _eth_account_digest(signable.header, signable.body)


@given(
    domains,
    uint64s,
    st.binary(min_size=32, max_size=32),
    uint64s,
    st.lists(st.tuples(addresses, jurisdictions), max_size=8),
    st.integers(0, 255),
    st.integers(0, 255),
)
def test_rotation_digest_matches_eth_account(
    domain: EvmDomain,
    set_id: int,
    replaced_bytes: bytes,
    deadline: int,
    members: list[tuple[Address, str]],
    threshold: int,
    min_jurisdictions: int,
) -> None:
    replaced = Hash32(replaced_bytes)
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": DOMAIN_FIELDS,
                "ValidatorSetUpdate": [
                    {"name": "setId", "type": "uint64"},
                    {"name": "replacedSetHash", "type": "bytes32"},
                    {"name": "deadline", "type": "uint64"},
                    {"name": "members", "type": "address[]"},
                    {"name": "jurisdictions", "type": "bytes2[]"},
                    {"name": "threshold", "type": "uint8"},
                    {"name": "minJurisdictions", "type": "uint8"},
                ],
            },
            "primaryType": "ValidatorSetUpdate",
            "domain": _domain_data(domain),
            "message": {
                "setId": set_id,
                "replacedSetHash": replaced,
                "deadline": deadline,
                "members": [checksum(a) for a, _ in members],
                "jurisdictions": [j.encode() for _, j in members],
                "threshold": threshold,
                "minJurisdictions": min_jurisdictions,
            },
        }
    )
    digest = validator_set_update_digest(
        domain,
        set_id,
        replaced,
        deadline,
        [a for a, _ in members],
        [j for _, j in members],
        threshold,
        min_jurisdictions,
    )
    assert digest == _eth_account_digest(signable.header, signable.body)


@given(st.integers(0, 2**256 - 1), addresses, uint64s)
def test_transfer_id_is_keccak_of_three_words(chain_id: int, contract: Address, nonce: int) -> None:
    words = chain_id.to_bytes(32, "big") + bytes(12) + contract + nonce.to_bytes(32, "big")
    assert transfer_id(chain_id, contract, nonce) == keccak(words)
    assert words == encode(["uint256", "address", "uint64"], [chain_id, contract, nonce])


@given(domains, hashes)
def test_cancel_digest_matches_eth_account(domain: EvmDomain, transfer: Hash32) -> None:
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": DOMAIN_FIELDS,
                "Cancel": [{"name": "transferId", "type": "bytes32"}],
            },
            "primaryType": "Cancel",
            "domain": _domain_data(domain),
            "message": {"transferId": transfer},
        }
    )
    assert cancel_digest(domain, transfer) == _eth_account_digest(signable.header, signable.body)


@given(domains, hashes, uint64s, addresses, addresses, uint256s)
def test_refund_digest_matches_eth_account(
    domain: EvmDomain,
    transfer: Hash32,
    dst_chain_id: int,
    token: Address,
    recipient: Address,
    amount: int,
) -> None:
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": DOMAIN_FIELDS,
                "Refund": [
                    {"name": "transferId", "type": "bytes32"},
                    {"name": "dstChainId", "type": "uint64"},
                    {"name": "token", "type": "address"},
                    {"name": "recipient", "type": "address"},
                    {"name": "amount", "type": "uint256"},
                ],
            },
            "primaryType": "Refund",
            "domain": _domain_data(domain),
            "message": {
                "transferId": transfer,
                "dstChainId": dst_chain_id,
                "token": checksum(token),
                "recipient": checksum(recipient),
                "amount": amount,
            },
        }
    )
    digest = refund_digest(domain, transfer, dst_chain_id, token, recipient, amount)
    assert digest == _eth_account_digest(signable.header, signable.body)


@given(domains, hashes)
def test_cancel_and_refund_digests_differ(domain: EvmDomain, transfer: Hash32) -> None:
    """A veto signature can never serve as a refund signature for the same id (other type)."""
    assert cancel_digest(domain, transfer) != refund_digest(
        domain, transfer, 0, Address(bytes(20)), Address(bytes(20)), 0
    )
