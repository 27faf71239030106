"""Jurisdiction policy packs: the rules a supervisor publishes and signs for its validators.

A pack is a TOML (or JSON) document; its schema is in docs/supervision.md. The bytes of the
file are what the supervisor signs, so nothing about it is re-encoded:

* ``pack_hash(raw)`` is keccak256 of the file's bytes: the hash that travels with every
  decision a validator takes under the pack (attestations, refusals, audit entries);
* ``pack_digest(jurisdiction, version, pack_hash)`` is the EIP-712 digest of
  ``PolicyPack(string jurisdiction,uint64 version,bytes32 contentHash)`` under the domain
  ``EIP712Domain(string name,string version)`` = ("ConfluxBridgePolicy", "1") (no chain:
  a pack is not bound to a chain), so a supervisor can sign it with any wallet
  (``eth_signTypedData_v4``) or with ``relayer pack sign``;
* ``accept_pack`` decides whether a validator takes a new pack: the signature must recover
  to the supervisor configured for the validator's jurisdiction, the pack must name that
  jurisdiction, and its version must be above the one in force (a replayed older pack, or a
  different pack under the same version, is refused).

``parse_pack`` is strict: an unknown key, a missing one, a float where an amount belongs, an
address with a bad checksum, a token listed twice — each is a ``PackError`` naming the
field, because a typo silently ignored in a compliance rule is a compliance failure.
Amounts are integers in the token's smallest unit, written as TOML integers or as decimal
strings (18-decimal amounts exceed TOML's 64-bit integers).
"""

from __future__ import annotations

import enum
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.domain.errors import DomainError, InvalidSignatureError
from relayer.domain.signature import recover_signer
from relayer.domain.types import (
    UINT64_MAX,
    UINT256_MAX,
    Address,
    Hash32,
    checksum,
    parse_address,
)

PACK_SCHEMA = 1
PACK_DOMAIN_NAME = "ConfluxBridgePolicy"
PACK_DOMAIN_VERSION = "1"
PACK_DOMAIN_TYPE = "EIP712Domain(string name,string version)"
PACK_TYPE = "PolicyPack(string jurisdiction,uint64 version,bytes32 contentHash)"
PACK_TYPEHASH = Hash32(keccak(text=PACK_TYPE))
MAX_PACK_BYTES = 4 * 1024 * 1024  # a sanctions list of ~90,000 addresses

TokenKey = tuple[int, Address]  # (source chain id, source token; address(0) = native)


class PackError(DomainError):
    """A policy pack that cannot be read: ``where`` names the field (``tokens[1].token``)."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"policy pack {where}: {detail}" if where else f"policy pack: {detail}")
        self.where = where
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TokenRules:
    """A pack's limits for one token (amounts in its smallest unit; ``None``: no limit)."""

    max_per_transfer: int
    max_per_sender_24h: int | None = None
    max_total_24h: int | None = None
    review_above: int | None = None  # above this, a human decides (``relayer review``)
    symbol: str = ""  # for people; the key is (chain id, address)


@dataclass(frozen=True, slots=True)
class Sanctions:
    """The sanctioned addresses a pack carries, with where the list came from."""

    source: str
    list_version: str
    addresses: frozenset[Address]


@dataclass(frozen=True, slots=True)
class PolicyPack:
    """One parsed, not yet verified pack. ``content_hash`` is keccak256 of its bytes."""

    jurisdiction: str
    version: int
    issued_at: str
    tokens: Mapping[TokenKey, TokenRules]
    sanctions: Sanctions
    content_hash: Hash32

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", MappingProxyType(dict(self.tokens)))

    @property
    def hash_hex(self) -> str:
        """The content hash as 64 hex digits (stored beside every decision)."""
        return self.content_hash.hex()


def pack_hash(raw: bytes) -> Hash32:
    """keccak256 of the pack file's bytes."""
    return Hash32(keccak(raw))


def pack_digest(jurisdiction: str, version: int, content_hash: bytes) -> Hash32:
    """The EIP-712 digest a supervisor signs for a pack (see the module docstring)."""
    if not 0 <= version <= UINT64_MAX:
        raise PackError("version", f"out of uint64 range: {version}")
    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32"],
            [
                keccak(text=PACK_DOMAIN_TYPE),
                keccak(text=PACK_DOMAIN_NAME),
                keccak(text=PACK_DOMAIN_VERSION),
            ],
        )
    )
    struct = keccak(
        encode(
            ["bytes32", "bytes32", "uint64", "bytes32"],
            [PACK_TYPEHASH, keccak(text=jurisdiction), version, content_hash],
        )
    )
    return Hash32(keccak(b"\x19\x01" + separator + struct))


# ------------------------------------------------------------------------ parsing

_TOP_KEYS = {"schema", "jurisdiction", "version", "issued_at", "tokens", "sanctions"}
_TOKEN_KEYS = {
    "chain_id",
    "token",
    "symbol",
    "max_per_transfer",
    "max_per_sender_24h",
    "max_total_24h",
    "review_above",
}
_SANCTION_KEYS = {"source", "list_version", "addresses"}


def _table(value: Any, where: str, keys: set[str], required: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PackError(where, f"must be a table, got {type(value).__name__}")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise PackError(f"{where}.{unknown[0]}" if where else unknown[0], "unknown key")
    missing = sorted(required - set(value))
    if missing:
        raise PackError(f"{where}.{missing[0]}" if where else missing[0], "missing")
    return value


def _int(value: Any, where: str, *, low: int, high: int) -> int:
    """An integer, or a string of decimal digits; never a float or a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PackError(where, f"must be an integer or a decimal string, got {value!r}")
    number: int
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit() or len(value) > 78:
            raise PackError(where, f"must be a decimal string of digits, got {value!r}")
        number = int(value)
    else:
        number = value
    if not low <= number <= high:
        raise PackError(where, f"must be between {low} and {high}, got {number}")
    return number


def _text(value: Any, where: str, *, max_len: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise PackError(where, f"must be a non-empty string of at most {max_len} characters")
    return value


def _address(value: Any, where: str) -> Address:
    if not isinstance(value, str):
        raise PackError(where, f"must be a 0x address string, got {value!r}")
    try:
        return parse_address(value, where, strict_checksum=True)
    except ValueError as err:
        raise PackError(where, str(err)) from err


def _optional_amount(entry: Mapping[str, Any], key: str, where: str) -> int | None:
    if key not in entry:
        return None
    return _int(entry[key], f"{where}.{key}", low=0, high=UINT256_MAX)


def _token(entry: Any, where: str) -> tuple[TokenKey, TokenRules]:
    t = _table(entry, where, _TOKEN_KEYS, {"chain_id", "token", "max_per_transfer"})
    chain_id = _int(t["chain_id"], f"{where}.chain_id", low=1, high=UINT64_MAX)
    token = _address(t["token"], f"{where}.token")
    symbol = _text(t["symbol"], f"{where}.symbol", max_len=32) if "symbol" in t else ""
    rules = TokenRules(
        max_per_transfer=_int(
            t["max_per_transfer"], f"{where}.max_per_transfer", low=0, high=UINT256_MAX
        ),
        max_per_sender_24h=_optional_amount(t, "max_per_sender_24h", where),
        max_total_24h=_optional_amount(t, "max_total_24h", where),
        review_above=_optional_amount(t, "review_above", where),
        symbol=symbol,
    )
    return (chain_id, token), rules


def _sanctions(value: Any) -> Sanctions:
    s = _table(value, "sanctions", _SANCTION_KEYS, _SANCTION_KEYS)
    addresses = s["addresses"]
    if not isinstance(addresses, list):
        raise PackError("sanctions.addresses", "must be a list of addresses")
    parsed = frozenset(_address(a, f"sanctions.addresses[{i}]") for i, a in enumerate(addresses))
    return Sanctions(
        source=_text(s["source"], "sanctions.source"),
        list_version=_text(s["list_version"], "sanctions.list_version", max_len=64),
        addresses=parsed,
    )


def _document(raw: bytes) -> Any:
    if len(raw) > MAX_PACK_BYTES:
        raise PackError("", f"larger than {MAX_PACK_BYTES} bytes ({len(raw)})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PackError("", f"not UTF-8: {err}") from err
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_no_duplicates)
        except PackError:
            raise  # a key given twice: it names the key
        except (ValueError, RecursionError) as err:  # RecursionError: nested too deep
            raise PackError("", f"not valid JSON: {err}") from err
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as err:
        raise PackError("", f"not valid TOML: {err}") from err


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise PackError(key, "given twice")
        out[key] = value
    return out


def parse_pack(raw: bytes) -> PolicyPack:
    """Read a pack (TOML, or JSON when it starts with ``{``); raises ``PackError``."""
    doc = _table(_document(raw), "", _TOP_KEYS, _TOP_KEYS - {"issued_at"})
    schema = doc["schema"]
    if isinstance(schema, bool) or not isinstance(schema, int) or schema != PACK_SCHEMA:
        raise PackError("schema", f"this relayer reads schema {PACK_SCHEMA}, got {schema!r}")
    jurisdiction = doc["jurisdiction"]
    if not (
        isinstance(jurisdiction, str)
        and len(jurisdiction) == 2
        and all("A" <= c <= "Z" for c in jurisdiction)
    ):
        raise PackError("jurisdiction", f"must be two upper-case letters, got {jurisdiction!r}")
    tokens_value = doc["tokens"]
    if not isinstance(tokens_value, list):
        raise PackError("tokens", "must be a list of tables ([[tokens]])")
    tokens: dict[TokenKey, TokenRules] = {}
    for i, entry in enumerate(tokens_value):
        key, rules = _token(entry, f"tokens[{i}]")
        if key in tokens:
            raise PackError(
                f"tokens[{i}]", f"token {checksum(key[1])} on chain {key[0]} listed twice"
            )
        tokens[key] = rules
    issued_at = _text(doc["issued_at"], "issued_at", max_len=64) if "issued_at" in doc else ""
    return PolicyPack(
        jurisdiction=jurisdiction,
        version=_int(doc["version"], "version", low=1, high=UINT64_MAX),
        issued_at=issued_at,
        tokens=tokens,
        sanctions=_sanctions(doc["sanctions"]),
        content_hash=pack_hash(raw),
    )


# ------------------------------------------------------------------------ acceptance


class PackFault(enum.StrEnum):
    """Why a validator refused a pack (an alert's detail and a metric label)."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"  # not a signature the check accepts
    WRONG_SIGNER = "wrong_signer"  # recovers, but not to this jurisdiction's supervisor
    WRONG_JURISDICTION = "wrong_jurisdiction"
    ROLLBACK = "rollback"  # a version below the pack in force
    VERSION_REUSED = "version_reused"  # the version in force, with other content


@dataclass(frozen=True, slots=True)
class PackAccepted:
    """The pack is verified and newer than the one in force: it takes effect."""

    pack: PolicyPack


@dataclass(frozen=True, slots=True)
class PackUnchanged:
    """The same pack as the one in force (same bytes)."""


@dataclass(frozen=True, slots=True)
class PackRefused:
    """The pack does not take effect; the one in force (if any) stays."""

    fault: PackFault
    detail: str


PackDecision = PackAccepted | PackUnchanged | PackRefused


def accept_pack(
    raw: bytes,
    signature: bytes,
    supervisor: Address,
    jurisdiction: str,
    in_force: PolicyPack | None,
) -> PackDecision:
    """Whether a validator of ``jurisdiction`` takes the pack ``raw`` signed by ``signature``."""
    try:
        pack = parse_pack(raw)
    except PackError as err:
        return PackRefused(PackFault.MALFORMED, str(err))
    if in_force is not None and pack.content_hash == in_force.content_hash:
        return PackUnchanged()
    try:
        signer = recover_signer(
            pack_digest(pack.jurisdiction, pack.version, pack.content_hash), signature
        )
    except InvalidSignatureError as err:
        return PackRefused(PackFault.BAD_SIGNATURE, str(err))
    if signer != supervisor:
        return PackRefused(
            PackFault.WRONG_SIGNER,
            f"signed by {checksum(signer)}, not by the supervisor {checksum(supervisor)}",
        )
    if pack.jurisdiction != jurisdiction:
        return PackRefused(
            PackFault.WRONG_JURISDICTION,
            f"the pack is for {pack.jurisdiction}, this validator is in {jurisdiction}",
        )
    if in_force is not None and pack.version < in_force.version:
        return PackRefused(
            PackFault.ROLLBACK, f"version {pack.version} is older than {in_force.version} in force"
        )
    if in_force is not None and pack.version == in_force.version:
        return PackRefused(
            PackFault.VERSION_REUSED,
            f"version {pack.version} is in force with other content ({in_force.hash_hex[:16]}…)",
        )
    return PackAccepted(pack)
