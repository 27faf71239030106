"""Frozen values shared by every layer: addresses, hashes, transfers, releases, sets.

Everything here is pure data with validation at construction; nothing does I/O.
Addresses are 20-byte ``bytes`` values (``Address``), hashes 32-byte ``bytes``
(``Hash32``); the helpers below convert from and to the hex forms seen on the wire.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import NewType

from eth_utils.address import to_checksum_address

Address = NewType("Address", bytes)
Hash32 = NewType("Hash32", bytes)

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1
ZERO_ADDRESS = Address(b"\x00" * 20)


def _hex_body(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise ValueError(f"{what} must be a 0x-prefixed hex string, got {value!r}")
    body = value[2:]
    # bytes.fromhex skips whitespace, so check the digits themselves: "0x" + "aa"*9 + "  " +
    # "bb"*10 has 40 characters but only 19 bytes.
    if len(body) % 2 or not all(c in "0123456789abcdefABCDEF" for c in body):
        raise ValueError(f"{what} is not valid hex: {value!r}")
    return body


def parse_address(
    value: str | bytes, what: str = "address", *, strict_checksum: bool = False
) -> Address:
    """Turn ``0x…`` (or 20 raw bytes) into an ``Address``.

    With ``strict_checksum`` a mixed-case string must carry a valid EIP-55 checksum;
    all-lower or all-upper strings carry none and are accepted.
    """
    if isinstance(value, bytes):
        if len(value) != 20:
            raise ValueError(f"{what} must be 20 bytes, got {len(value)}")
        return Address(value)
    body = _hex_body(value, what)
    if len(body) != 40:
        raise ValueError(f"{what} must be 20 bytes (40 hex digits), got {value!r}")
    mixed_case = body not in (body.lower(), body.upper())
    if strict_checksum and mixed_case and to_checksum_address(value) != "0x" + body:
        raise ValueError(f"{what} has a bad EIP-55 checksum: {value!r}")
    return Address(bytes.fromhex(body))


def parse_hash32(value: str | bytes, what: str = "hash") -> Hash32:
    """Turn ``0x…`` (64 hex digits) or 32 raw bytes into a ``Hash32``."""
    if isinstance(value, bytes):
        if len(value) != 32:
            raise ValueError(f"{what} must be 32 bytes, got {len(value)}")
        return Hash32(value)
    body = _hex_body(value, what)
    if len(body) != 64:
        raise ValueError(f"{what} must be 32 bytes (64 hex digits), got {value!r}")
    return Hash32(bytes.fromhex(body))


@functools.lru_cache(maxsize=4096)
def checksum(address: bytes) -> str:
    """EIP-55 form of an address, for logs, the API and web3 calls (remembered: the same
    few contract and signer addresses are spelled on every poll and every message)."""
    return to_checksum_address(address)


def hex32(value: bytes) -> str:
    """``0x``-prefixed lower-case hex of a hash or signature."""
    return "0x" + value.hex()


class Direction(enum.StrEnum):
    """Which way a transfer travels."""

    TO_ETHEREUM = "to_ethereum"  # Locked on the Conflux vault, released by the gateway
    TO_CONFLUX = "to_conflux"  # Burned on the gateway, unlocked by the vault


@dataclass(frozen=True, slots=True)
class EvmDomain:
    """The EIP-712 domain of the contract that executes a release."""

    chain_id: int
    verifying_contract: Address


@dataclass(frozen=True, slots=True)
class Release:
    """The attested message, exactly as the contracts' ``Release`` struct."""

    transfer_id: Hash32
    src_chain_id: int
    nonce: int
    token: Address  # the token delivered on the executing (destination) chain
    recipient: Address
    amount: int

    def __post_init__(self) -> None:
        if len(self.transfer_id) != 32:
            raise ValueError("transfer_id must be 32 bytes")
        if not 0 <= self.src_chain_id <= UINT64_MAX:
            raise ValueError(f"src_chain_id out of uint64 range: {self.src_chain_id}")
        if not 0 <= self.nonce <= UINT64_MAX:
            raise ValueError(f"nonce out of uint64 range: {self.nonce}")
        if len(self.token) != 20 or len(self.recipient) != 20:
            raise ValueError("token and recipient must be 20-byte addresses")
        if not 0 <= self.amount <= UINT256_MAX:
            raise ValueError(f"amount out of uint256 range: {self.amount}")


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """A ``Locked`` or ``Burned`` event as observed on its source chain.

    ``src_token`` is the token as the source contract reported it (address(0) for
    native CFX). Block coordinates say where it was seen; idempotency is keyed on
    ``transfer_id`` (the contract's nonce), never on block number or hash.
    """

    transfer_id: Hash32
    src_chain_id: int
    src_contract: Address
    nonce: int
    src_token: Address
    sender: Address
    recipient: Address
    amount: int
    dst_chain_id: int
    block_number: int
    block_hash: Hash32
    tx_hash: Hash32
    log_index: int


@dataclass(frozen=True, slots=True)
class Validator:
    """One member of a validator set."""

    address: Address
    jurisdiction: str  # ISO 3166-1 alpha-2, e.g. "HK"

    def __post_init__(self) -> None:
        j = self.jurisdiction
        if len(j) != 2 or not ("A" <= j[0] <= "Z" and "A" <= j[1] <= "Z"):
            raise ValueError(f"jurisdiction must be two upper-case letters, got {j!r}")


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """A validator set as a destination contract holds it."""

    set_id: int
    members: tuple[Validator, ...]  # sorted by ascending address
    threshold: int
    min_jurisdictions: int

    def jurisdiction_of(self, address: Address) -> str | None:
        for member in self.members:
            if member.address == address:
                return member.jurisdiction
        return None


@dataclass(frozen=True, slots=True)
class Attestation:
    """One validator's signature over one release digest."""

    transfer_id: Hash32
    digest: Hash32
    signer: Address
    signature: bytes  # 65 bytes: r || s || v, v in {27, 28}
