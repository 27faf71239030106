"""The attestation message on the wire: versioned, size-capped, strictly decoded JSON.

Payload, version 1 (UTF-8 JSON object, at most `MAX_PAYLOAD_BYTES`, exactly these keys)::

    {"v": 1, "kind": "attestation",
     "transfer_id": "0x<64 hex>", "src_chain_id": <uint64>, "dst_chain_id": <uint64>,
     "nonce": <uint64>, "token": "0x<40 hex>", "recipient": "0x<40 hex>",
     "amount": "<decimal uint256>", "set_id": <uint64>, "digest": "0x<64 hex>",
     "signer": "0x<40 hex>", "signature": "0x<130 hex>", "signed_at": <uint64>}

All hex is ``0x``-prefixed lower case (one canonical form per value, so the same
attestation always encodes to the same bytes and a republish is idempotent). Integers
are JSON integers: booleans, floats and strings are refused; ``amount`` is a decimal
string without sign or leading zeros because uint256 does not fit a JSON number.
``signature`` is r || s || v with v in {27, 28}. ``signed_at`` (unix seconds) is
informational only and never used for any decision.

The decoder checks shapes only; it does not recover the signer. The node verifies the
signature against the digest it computes from its own observation of the source chain.
Every failure raises `GossipWireError` (a `relayer.errors.WireError`) with a `Reason`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from relayer.domain.types import (
    UINT64_MAX,
    UINT256_MAX,
    Address,
    Attestation,
    Hash32,
    Release,
    hex32,
)
from relayer.gossip.reasons import GossipWireError, Reason

WIRE_VERSION: Final = 1
KIND_ATTESTATION: Final = "attestation"
KIND_ROOT: Final = "root"
MAX_PAYLOAD_BYTES: Final = 2048
SIGNATURE_BYTES: Final = 65

_FIELDS: Final = (
    "v",
    "kind",
    "transfer_id",
    "src_chain_id",
    "dst_chain_id",
    "nonce",
    "token",
    "recipient",
    "amount",
    "set_id",
    "digest",
    "signer",
    "signature",
    "signed_at",
)
_FIELD_SET: Final = frozenset(_FIELDS)
_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
_SIGNATURE = re.compile(r"0x[0-9a-f]{130}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,77}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationMessage:
    """One validator's signed attestation of one release, as gossiped between relayers."""

    release: Release
    dst_chain_id: int
    set_id: int
    digest: Hash32
    signer: Address
    signature: bytes  # 65 bytes: r || s || v, v in {27, 28}
    signed_at: int = 0  # unix seconds, informational only

    def __post_init__(self) -> None:
        for name in ("dst_chain_id", "set_id", "signed_at"):
            _require_uint64(name, getattr(self, name))
        _require_signed(self.digest, self.signer, self.signature)

    def to_attestation(self) -> Attestation:
        """The domain value the quorum rule works on."""
        return Attestation(
            transfer_id=self.release.transfer_id,
            digest=self.digest,
            signer=self.signer,
            signature=self.signature,
        )


def _require_uint64(name: str, value: object) -> None:
    if type(value) is not int or not 0 <= value <= UINT64_MAX:
        raise ValueError(f"{name} must be a uint64, got {value!r}")


def _require_signed(digest: bytes, signer: bytes, signature: bytes) -> None:
    """A message's digest, signer and signature have the shapes the wire allows."""
    if len(digest) != 32:
        raise ValueError("digest must be 32 bytes")
    if len(signer) != 20:
        raise ValueError("signer must be a 20-byte address")
    if len(signature) != SIGNATURE_BYTES or signature[64] not in (27, 28):
        raise ValueError("signature must be 65 bytes r || s || v with v in {27, 28}")


def encode_attestation(message: AttestationMessage) -> bytes:
    """Canonical version-1 payload (sorted keys, no spaces): same message, same bytes."""
    release = message.release
    body: dict[str, object] = {
        "v": WIRE_VERSION,
        "kind": KIND_ATTESTATION,
        "transfer_id": hex32(release.transfer_id),
        "src_chain_id": release.src_chain_id,
        "dst_chain_id": message.dst_chain_id,
        "nonce": release.nonce,
        "token": hex32(release.token),
        "recipient": hex32(release.recipient),
        "amount": str(release.amount),
        "set_id": message.set_id,
        "digest": hex32(message.digest),
        "signer": hex32(message.signer),
        "signature": hex32(message.signature),
        "signed_at": message.signed_at,
    }
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    if len(payload) > MAX_PAYLOAD_BYTES:  # cannot happen with valid fields; guard anyway
        raise GossipWireError(Reason.OVERSIZED, f"encoded {len(payload)} bytes")
    return payload


def decode(payload: bytes) -> AttestationMessage:
    """Parse and validate a version-1 attestation payload.

    Raises `GossipWireError` (and nothing else) for anything that is not exactly a
    well-formed version-1 attestation.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise GossipWireError(Reason.OVERSIZED, f"{len(payload)} > {MAX_PAYLOAD_BYTES} bytes")
    obj = _parse_object(payload)
    if "v" not in obj:
        raise GossipWireError(Reason.MISSING_FIELD, "v")
    if type(obj["v"]) is not int or obj["v"] != WIRE_VERSION:
        raise GossipWireError(Reason.WRONG_VERSION, f"v={obj['v']!r:.40}")
    if "kind" not in obj:
        raise GossipWireError(Reason.MISSING_FIELD, "kind")
    if obj["kind"] != KIND_ATTESTATION:
        raise GossipWireError(Reason.WRONG_KIND, f"kind={obj['kind']!r:.40}")
    unknown = obj.keys() - _FIELD_SET
    if unknown:
        raise GossipWireError(Reason.UNKNOWN_FIELD, ",".join(sorted(unknown))[:80])
    missing = [name for name in _FIELDS if name not in obj]
    if missing:
        raise GossipWireError(Reason.MISSING_FIELD, ",".join(missing))
    release = Release(
        transfer_id=Hash32(_hex(obj, "transfer_id", _HEX32)),
        src_chain_id=_uint64(obj, "src_chain_id"),
        nonce=_uint64(obj, "nonce"),
        token=Address(_hex(obj, "token", _ADDRESS)),
        recipient=Address(_hex(obj, "recipient", _ADDRESS)),
        amount=_amount(obj),
    )
    signature = _hex(obj, "signature", _SIGNATURE)
    if signature[64] not in (27, 28):
        raise GossipWireError(Reason.BAD_FIELD, "signature v must be 27 or 28")
    return AttestationMessage(
        release=release,
        dst_chain_id=_uint64(obj, "dst_chain_id"),
        set_id=_uint64(obj, "set_id"),
        digest=Hash32(_hex(obj, "digest", _HEX32)),
        signer=Address(_hex(obj, "signer", _ADDRESS)),
        signature=signature,
        signed_at=_uint64(obj, "signed_at"),
    )


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise GossipWireError(Reason.BAD_FIELD, "duplicate key")
    return obj


def _reject_constant(name: str) -> None:
    raise GossipWireError(Reason.NOT_JSON, f"non-standard constant {name}")


def _parse_object(payload: bytes) -> dict[str, Any]:
    try:
        text = payload.decode("utf-8")
        obj = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except GossipWireError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise GossipWireError(Reason.NOT_JSON, type(err).__name__) from err
    if not isinstance(obj, dict):
        raise GossipWireError(Reason.NOT_JSON, f"top level is {type(obj).__name__}")
    return obj


def _hex(obj: dict[str, Any], name: str, pattern: re.Pattern[str]) -> bytes:
    value = obj[name]
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise GossipWireError(Reason.BAD_FIELD, f"{name} is not {pattern.pattern}")
    return bytes.fromhex(value[2:])


def _uint64(obj: dict[str, Any], name: str) -> int:
    value = obj[name]
    if type(value) is not int or not 0 <= value <= UINT64_MAX:
        raise GossipWireError(Reason.BAD_FIELD, f"{name} is not a uint64")
    return value


def _amount(obj: dict[str, Any]) -> int:
    value = obj["amount"]
    if not isinstance(value, str) or _DECIMAL.fullmatch(value) is None:
        raise GossipWireError(Reason.BAD_FIELD, "amount is not a decimal string")
    amount = int(value)
    if amount > UINT256_MAX:
        raise GossipWireError(Reason.BAD_FIELD, "amount exceeds uint256")
    return amount


# ------------------------------------------------------------------ root signatures

_ROOT_FIELDS: Final = (
    "v",
    "kind",
    "dst_chain_id",
    "src_chain_id",
    "first_nonce",
    "last_nonce",
    "root",
    "set_id",
    "digest",
    "signer",
    "signature",
    "signed_at",
)
_ROOT_FIELD_SET: Final = frozenset(_ROOT_FIELDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class RootMessage:
    """One validator's ``ReleaseRoot`` signature over a window of source nonces for one
    destination (committed roots; see relayer.domain.roots), as gossiped between relayers.

    Payload, version 1 (same rules as an attestation: canonical, size-capped, strict)::

        {"v": 1, "kind": "root", "dst_chain_id": <uint64>, "src_chain_id": <uint64>,
         "first_nonce": <uint64>, "last_nonce": <uint64>, "root": "0x<64 hex>",
         "set_id": <uint64>, "digest": "0x<64 hex>", "signer": "0x<40 hex>",
         "signature": "0x<130 hex>", "signed_at": <uint64>}
    """

    dst_chain_id: int
    src_chain_id: int
    first_nonce: int
    last_nonce: int
    root: Hash32
    set_id: int
    digest: Hash32
    signer: Address
    signature: bytes  # 65 bytes: r || s || v, v in {27, 28}
    signed_at: int = 0  # unix seconds, informational only

    def __post_init__(self) -> None:
        names = ("dst_chain_id", "src_chain_id", "first_nonce", "last_nonce", "set_id")
        for name in (*names, "signed_at"):
            _require_uint64(name, getattr(self, name))
        if not 1 <= self.first_nonce <= self.last_nonce:
            raise ValueError(f"not a nonce window: {self.first_nonce}..{self.last_nonce}")
        if len(self.root) != 32:
            raise ValueError("root must be 32 bytes")
        _require_signed(self.digest, self.signer, self.signature)


def encode_root(message: RootMessage) -> bytes:
    """Canonical version-1 root payload (sorted keys, no spaces)."""
    body: dict[str, object] = {
        "v": WIRE_VERSION,
        "kind": KIND_ROOT,
        "dst_chain_id": message.dst_chain_id,
        "src_chain_id": message.src_chain_id,
        "first_nonce": message.first_nonce,
        "last_nonce": message.last_nonce,
        "root": hex32(message.root),
        "set_id": message.set_id,
        "digest": hex32(message.digest),
        "signer": hex32(message.signer),
        "signature": hex32(message.signature),
        "signed_at": message.signed_at,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def decode_root(payload: bytes) -> RootMessage:
    """Parse and validate a version-1 root payload; raises `GossipWireError` only."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise GossipWireError(Reason.OVERSIZED, f"{len(payload)} > {MAX_PAYLOAD_BYTES} bytes")
    obj = _parse_object(payload)
    for name in ("v", "kind"):
        if name not in obj:
            raise GossipWireError(Reason.MISSING_FIELD, name)
    if type(obj["v"]) is not int or obj["v"] != WIRE_VERSION:
        raise GossipWireError(Reason.WRONG_VERSION, f"v={obj['v']!r:.40}")
    if obj["kind"] != KIND_ROOT:
        raise GossipWireError(Reason.WRONG_KIND, f"kind={obj['kind']!r:.40}")
    unknown = obj.keys() - _ROOT_FIELD_SET
    if unknown:
        raise GossipWireError(Reason.UNKNOWN_FIELD, ",".join(sorted(unknown))[:80])
    missing = [name for name in _ROOT_FIELDS if name not in obj]
    if missing:
        raise GossipWireError(Reason.MISSING_FIELD, ",".join(missing))
    signature = _hex(obj, "signature", _SIGNATURE)
    if signature[64] not in (27, 28):
        raise GossipWireError(Reason.BAD_FIELD, "signature v must be 27 or 28")
    first, last = _uint64(obj, "first_nonce"), _uint64(obj, "last_nonce")
    if not 1 <= first <= last:
        raise GossipWireError(Reason.BAD_FIELD, f"not a nonce window: {first}..{last}")
    return RootMessage(
        dst_chain_id=_uint64(obj, "dst_chain_id"),
        src_chain_id=_uint64(obj, "src_chain_id"),
        first_nonce=first,
        last_nonce=last,
        root=Hash32(_hex(obj, "root", _HEX32)),
        set_id=_uint64(obj, "set_id"),
        digest=Hash32(_hex(obj, "digest", _HEX32)),
        signer=Address(_hex(obj, "signer", _ADDRESS)),
        signature=signature,
        signed_at=_uint64(obj, "signed_at"),
    )
