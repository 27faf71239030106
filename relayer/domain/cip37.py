"""CIP-37 addresses of Conflux Core Space (``cfx:aak…``): base32 with a network prefix and a
40-bit BCH checksum, as conflux-rust's ``cfx_addr`` crate writes and reads them.

- ``encode(address, network_id)`` gives the short form (``cfx:…``, ``cfxtest:…``,
  ``net2029:…``); ``verbose=True`` the upper-case form with the type, as the node answers
  (``NET2029:TYPE.USER:AAR…``).
- ``decode(text, expected_network=…)`` accepts both forms and refuses, naming what is wrong:
  mixed case, an unknown or unexpected network prefix, a character outside the alphabet, a
  wrong length or version byte, a bad checksum, a ``TYPE.`` part that contradicts the address.

Pure functions over bytes and strings; tested against the official vectors (conflux.md).
"""

from __future__ import annotations

from dataclasses import dataclass

ALPHABET = "abcdefghjkmnprstuvwxyz0123456789"  # no i, l, o, q
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
MAINNET, TESTNET = 1029, 1
_GENERATORS = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)
_PAYLOAD_CHARS = 34  # 21 bytes (version 0 + 20-byte address) in 5-bit groups
_CHECKSUM_CHARS = 8  # 40 bits


class Cip37Error(ValueError):
    """Not a valid CIP-37 address; the message says why (prefixed by the caller's field)."""


@dataclass(frozen=True, slots=True)
class CoreAddress:
    """A decoded Core Space address."""

    address: bytes  # 20 bytes; the first nibble is the account type
    network_id: int

    @property
    def kind(self) -> str:
        return address_type(self.address)

    @property
    def hex(self) -> str:
        return "0x" + self.address.hex()


def network_prefix(network_id: int) -> str:
    if network_id == MAINNET:
        return "cfx"
    if network_id == TESTNET:
        return "cfxtest"
    if not 1 <= network_id <= 0xFFFFFFFF:
        raise Cip37Error(f"network id {network_id} out of range")
    return f"net{network_id}"


def _network_of(prefix: str) -> int:
    if prefix == "cfx":
        return MAINNET
    if prefix == "cfxtest":
        return TESTNET
    digits = prefix.removeprefix("net")
    if prefix.startswith("net") and digits.isdigit() and not digits.startswith("0"):
        network_id = int(digits)
        if network_id not in (MAINNET, TESTNET) and network_id <= 0xFFFFFFFF:
            return network_id
    raise Cip37Error(f"unknown network prefix {prefix!r} (cfx, cfxtest or net<id>)")


def address_type(address: bytes) -> str:
    """``user``, ``contract``, ``builtin`` or ``null``, from the first nibble (CIP-37)."""
    if address == bytes(20):
        return "null"
    return {0x1: "user", 0x8: "contract", 0x0: "builtin"}.get(address[0] >> 4, "unknown")


def user_address(key_address: bytes) -> bytes:
    """The Core Space account of a key: its EVM-style address (``keccak(pubkey)[-20:]``)
    with the type nibble set to 0x1 (user). A key's Core and eSpace accounts differ."""
    if len(key_address) != 20:
        raise Cip37Error(f"an address is 20 bytes, not {len(key_address)}")
    return bytes([0x10 | (key_address[0] & 0x0F)]) + key_address[1:]


def _polymod(values: list[int]) -> int:
    c = 1
    for d in values:
        c0 = c >> 35
        c = ((c & 0x07FFFFFFFF) << 5) ^ d
        for bit, generator in enumerate(_GENERATORS):
            if (c0 >> bit) & 1:
                c ^= generator
    return c ^ 1


def _to_5bit(data: bytes) -> list[int]:
    acc, bits, out = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def _from_5bit(groups: list[int]) -> bytes:
    acc, bits, out = 0, 0, bytearray()
    for g in groups:
        acc = (acc << 5) | g
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc & ((1 << bits) - 1)):
        raise Cip37Error("non-zero padding bits")
    return bytes(out)


def _checksum(prefix: str, payload: list[int]) -> list[int]:
    value = _polymod([ord(c) & 31 for c in prefix] + [0] + payload + [0] * _CHECKSUM_CHARS)
    return [(value >> (5 * (7 - i))) & 31 for i in range(_CHECKSUM_CHARS)]


def encode(address: bytes, network_id: int, *, verbose: bool = False) -> str:
    """The CIP-37 form of a 20-byte address on ``network_id``."""
    if len(address) != 20:
        raise Cip37Error(f"an address is 20 bytes, not {len(address)}")
    prefix = network_prefix(network_id)
    payload = _to_5bit(b"\x00" + address)
    body = "".join(ALPHABET[g] for g in payload + _checksum(prefix, payload))
    if not verbose:
        return f"{prefix}:{body}"
    return f"{prefix}:type.{address_type(address)}:{body}".upper()


def decode(text: str, expected_network: int | None = None) -> CoreAddress:
    """Parse a CIP-37 address (short or verbose form); see the module's docstring."""
    if not isinstance(text, str) or not text:
        raise Cip37Error("empty")
    if text != text.lower() and text != text.upper():
        raise Cip37Error("mixed case (CIP-37 addresses are all lower or all upper case)")
    parts = text.lower().split(":")
    if len(parts) not in (2, 3):
        raise Cip37Error("expected <network>:<base32> or <network>:type.<type>:<base32>")
    prefix, body = parts[0], parts[-1]
    network_id = _network_of(prefix)
    if expected_network is not None and network_id != expected_network:
        wanted = network_prefix(expected_network)
        raise Cip37Error(f"network prefix {prefix!r}, expected {wanted!r}")
    if len(body) != _PAYLOAD_CHARS + _CHECKSUM_CHARS:
        wanted_len = _PAYLOAD_CHARS + _CHECKSUM_CHARS
        raise Cip37Error(f"{len(body)} base32 characters, expected {wanted_len}")
    bad = sorted({c for c in body if c not in _INDEX})
    if bad:
        raise Cip37Error(f"characters outside the CIP-37 alphabet: {''.join(bad)!r}")
    groups = [_INDEX[c] for c in body]
    payload, checksum = groups[:_PAYLOAD_CHARS], groups[_PAYLOAD_CHARS:]
    if _checksum(prefix, payload) != checksum:
        raise Cip37Error("bad checksum (a mistyped character?)")
    raw = _from_5bit(payload)
    if raw[0] != 0:
        raise Cip37Error(f"version byte {raw[0]}, expected 0")
    address = raw[1:]
    if len(parts) == 3:
        stated = parts[1].removeprefix("type.")
        if not parts[1].startswith("type.") or stated != address_type(address):
            raise Cip37Error(f"{parts[1]!r} contradicts the address (type.{address_type(address)})")
    return CoreAddress(address, network_id)
