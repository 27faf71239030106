"""A validator's audit chain head on the wire: kind ``"audit_head"``, version 1.

Payload (UTF-8 JSON object, at most `MAX_PAYLOAD_BYTES`, exactly these keys)::

    {"v": 1, "kind": "audit_head",
     "validator": "0x<40 hex>", "seq": <int>, "hash": "0x<64 hex>", "at": <uint64>,
     "signature": "0x<130 hex>",
     "witnessed": [{"validator": ..., "seq": ..., "hash": ..., "at": ..., "signature": ...},
                   ...]}

The top level is the sender's own head (relayer.domain.audit_heads.AuditHead) and its
signature over ``audit_head_digest``. ``witnessed`` holds at most `MAX_WITNESSED` heads of
OTHER validators exactly as the sender received them, each with its own validator's
signature: a witness relays heads, it cannot make one up. The entries have distinct
validators, none the sender, and are sorted by validator (one message, one encoding). A
sender that holds more heads than fit relays a rotating subset (relayer.service.audit_heads).

``seq`` is in ``[0, 2**63)`` (the audit log's key), ``seq`` 0 goes with the zero hash (an
empty chain). Same strictness as every gossip kind (relayer.gossip.codec): canonical
encoding, strict decoding, `GossipWireError` with a `Reason` and nothing else. The decoder
checks shapes only; the receiver recovers each signer.

With `MAX_WITNESSED` = 4 and every number at its largest the payload is about 1.7 KB, under
the 2,048-byte cap shared by every kind (tests/unit/gossip/test_gossip_audit_heads.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from relayer.domain.audit_heads import MAX_SEQ, AuditHead, SignedHead
from relayer.domain.types import Address, Hash32, hex32
from relayer.gossip.codec import (
    ADDRESS,
    HEX32,
    canonical_json,
    check_envelope,
    hex_field,
    parse_payload,
    require_signature,
    signature_field,
    uint64_field,
)
from relayer.gossip.reasons import GossipWireError, Reason

AUDIT_HEAD_WIRE_VERSION: Final = 1
KIND_AUDIT_HEAD: Final = "audit_head"
MAX_WITNESSED: Final = 4
_HEAD_FIELDS: Final = frozenset({"validator", "seq", "hash", "at", "signature"})
_FIELDS: Final = {
    AUDIT_HEAD_WIRE_VERSION: frozenset({"v", "kind", "witnessed"}) | _HEAD_FIELDS,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditHeadMessage:
    """One validator's signed head, and the signed heads of others it relays."""

    own: SignedHead
    witnessed: tuple[SignedHead, ...] = ()

    def __post_init__(self) -> None:
        require_signature("signature", self.own.signature)
        if len(self.witnessed) > MAX_WITNESSED:
            raise ValueError(f"at most {MAX_WITNESSED} witnessed heads")
        validators = [s.head.validator for s in self.witnessed]
        if validators != sorted(set(validators)) or self.signer in validators:
            raise ValueError("witnessed heads: distinct validators, sorted, not the sender")
        for signed in self.witnessed:
            require_signature("witnessed signature", signed.signature)

    @property
    def signer(self) -> Address:
        """The validator whose head this is (and whose topic it goes to)."""
        return self.own.head.validator


def encode_audit_head(message: AuditHeadMessage) -> bytes:
    """Canonical version-1 payload (sorted keys, no spaces)."""
    body: dict[str, object] = {
        "v": AUDIT_HEAD_WIRE_VERSION,
        "kind": KIND_AUDIT_HEAD,
        **_head_body(message.own),
        "witnessed": [_head_body(s) for s in message.witnessed],
    }
    return canonical_json(body)


def decode_audit_head(payload: bytes) -> AuditHeadMessage:
    """Parse and validate a version-1 payload; raises `GossipWireError` only."""
    obj = parse_payload(payload)
    check_envelope(obj, KIND_AUDIT_HEAD, _FIELDS)
    own = _signed_head(obj, "")
    entries = obj["witnessed"]
    if not isinstance(entries, list) or len(entries) > MAX_WITNESSED:
        raise GossipWireError(
            Reason.BAD_FIELD, f"witnessed is not a list of at most {MAX_WITNESSED}"
        )
    witnessed = tuple(_witnessed(entry, i) for i, entry in enumerate(entries))
    try:
        return AuditHeadMessage(own=own, witnessed=witnessed)
    except ValueError as err:
        raise GossipWireError(Reason.BAD_FIELD, str(err)) from err


def _head_body(signed: SignedHead) -> dict[str, object]:
    head = signed.head
    return {
        "validator": hex32(head.validator),
        "seq": head.seq,
        "hash": hex32(head.hash),
        "at": head.at,
        "signature": hex32(signed.signature),
    }


def _witnessed(entry: object, index: int) -> SignedHead:
    where = f"witnessed[{index}]"
    if not isinstance(entry, dict):
        raise GossipWireError(Reason.BAD_FIELD, f"{where} is not an object")
    unknown = entry.keys() - _HEAD_FIELDS
    if unknown:
        raise GossipWireError(Reason.UNKNOWN_FIELD, f"{where}: " + ",".join(sorted(unknown))[:60])
    missing = sorted(_HEAD_FIELDS - entry.keys())
    if missing:
        raise GossipWireError(Reason.MISSING_FIELD, f"{where}: " + ",".join(missing))
    return _signed_head(entry, f"{where}.")


def _signed_head(obj: Mapping[str, Any], where: str) -> SignedHead:
    try:
        validator = Address(hex_field(obj, "validator", ADDRESS))
        digest = Hash32(hex_field(obj, "hash", HEX32))
        seq, at = uint64_field(obj, "seq"), uint64_field(obj, "at")
        signature = signature_field(obj, "signature")
    except GossipWireError as err:
        raise GossipWireError(err.reason, f"{where}{err.detail}") from err
    if seq > MAX_SEQ:
        raise GossipWireError(Reason.BAD_FIELD, f"{where}seq is above 2**63 - 1")
    try:
        head = AuditHead(validator, seq, digest, at)
    except ValueError as err:
        raise GossipWireError(Reason.BAD_FIELD, f"{where}{err}") from err
    return SignedHead(head, signature)
