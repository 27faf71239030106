"""A validator's refusal of a transfer on the wire: kind ``"refusal"``, version 1.

Payload (UTF-8 JSON object, at most `MAX_PAYLOAD_BYTES`, exactly these keys)::

    {"v": 1, "kind": "refusal",
     "transfer_id": "0x<64 hex>", "src_chain_id": <uint64>, "dst_chain_id": <uint64>,
     "reason": "<code>", "detail": "<text>", "policy": "0x<64 hex>",
     "signer": "0x<40 hex>", "signature": "0x<130 hex>", "signed_at": <uint64>}

``reason`` is a lower-case code (``[a-z][a-z0-9_]{0,39}``, never ``"approved"``), for
example ``"sender_sanctioned"``; ``detail`` is printable text for humans, at most
`MAX_DETAIL_CHARS` characters (empty allowed); ``policy`` is the hash of the policy pack
(or local rules) the refusal was made under. ``signature`` is the signer's signature of
``decision_digest(message.decision())`` (relayer.domain.decisions), r || s || v with v in
{27, 28}. ``signed_at`` (unix seconds) is informational only.

Same rules as an attestation (relayer.gossip.wire): canonical (sorted keys, no spaces,
lower-case hex), strict decoding, `GossipWireError` with a `Reason` and nothing else.
``detail`` is encoded as UTF-8 as is, never ``\\u``-escaped: a printable character is at
most 4 bytes (``"`` and ``\\`` escape to 2), so a full 300-character detail takes at most
1,200 bytes and every valid refusal fits `MAX_PAYLOAD_BYTES` with room to spare; no
separate byte cap on ``detail`` is needed. (A peer that sends an escaped encoding instead
may exceed the cap and is refused as OVERSIZED.)

The decoder checks shapes only, not the signature; the receiver recovers the signer from
``decision_digest(message.decision())``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

from relayer.domain.decisions import APPROVED, MAX_DETAIL_CHARS, ZERO_DIGEST, Decision
from relayer.domain.types import Address, Hash32, hex32
from relayer.gossip.codec import (
    ADDRESS,
    HEX32,
    canonical_json,
    check_envelope,
    hex_field,
    parse_payload,
    require_signature,
    require_uint64,
    signature_field,
    uint64_field,
)
from relayer.gossip.reasons import GossipWireError, Reason

REFUSAL_WIRE_VERSION: Final = 1
KIND_REFUSAL: Final = "refusal"
REASON_CODE: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")

_REFUSAL_FIELDS: Final = {
    REFUSAL_WIRE_VERSION: frozenset(
        {
            "v",
            "kind",
            "transfer_id",
            "src_chain_id",
            "dst_chain_id",
            "reason",
            "detail",
            "policy",
            "signer",
            "signature",
            "signed_at",
        }
    )
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusalMessage:
    """One validator's signed refusal of one transfer, under one policy."""

    transfer_id: Hash32
    src_chain_id: int
    dst_chain_id: int
    reason: str  # lower-case code, the refusal's verdict
    detail: str  # printable, at most MAX_DETAIL_CHARS characters
    policy: Hash32  # hash of the policy pack (or local rules) in force
    signer: Address
    signature: bytes  # 65 bytes r || s || v over decision_digest(self.decision())
    signed_at: int = 0  # unix seconds, informational only

    def __post_init__(self) -> None:
        for name in ("src_chain_id", "dst_chain_id", "signed_at"):
            require_uint64(name, getattr(self, name))
        if len(self.transfer_id) != 32:
            raise ValueError("transfer_id must be 32 bytes")
        if not is_reason_code(self.reason):
            raise ValueError(f"reason must be a lower-case refusal code, got {self.reason!r:.60}")
        if not is_detail(self.detail):
            raise ValueError(f"detail must be printable, at most {MAX_DETAIL_CHARS} characters")
        if len(self.policy) != 32:
            raise ValueError("policy must be 32 bytes")
        if len(self.signer) != 20:
            raise ValueError("signer must be a 20-byte address")
        require_signature("signature", self.signature)

    def decision(self) -> Decision:
        """The refusal decision ``signature`` signs (digest zero, verdict = reason)."""
        return Decision(self.transfer_id, ZERO_DIGEST, self.reason, self.detail, self.policy)


def is_reason_code(value: object) -> TypeGuard[str]:
    """True for a refusal code: ``[a-z][a-z0-9_]{0,39}`` and not ``"approved"``."""
    return isinstance(value, str) and REASON_CODE.fullmatch(value) is not None and value != APPROVED


def is_detail(value: object) -> TypeGuard[str]:
    """True for printable text of at most `MAX_DETAIL_CHARS` characters (empty allowed)."""
    return isinstance(value, str) and len(value) <= MAX_DETAIL_CHARS and value.isprintable()


def encode_refusal(message: RefusalMessage) -> bytes:
    """Canonical version-1 refusal payload (sorted keys, no spaces, UTF-8)."""
    body: dict[str, object] = {
        "v": REFUSAL_WIRE_VERSION,
        "kind": KIND_REFUSAL,
        "transfer_id": hex32(message.transfer_id),
        "src_chain_id": message.src_chain_id,
        "dst_chain_id": message.dst_chain_id,
        "reason": message.reason,
        "detail": message.detail,
        "policy": hex32(message.policy),
        "signer": hex32(message.signer),
        "signature": hex32(message.signature),
        "signed_at": message.signed_at,
    }
    return canonical_json(body)


def decode_refusal(payload: bytes) -> RefusalMessage:
    """Parse and validate a version-1 refusal payload; raises `GossipWireError` only."""
    obj = parse_payload(payload)
    check_envelope(obj, KIND_REFUSAL, _REFUSAL_FIELDS)
    return RefusalMessage(
        transfer_id=Hash32(hex_field(obj, "transfer_id", HEX32)),
        src_chain_id=uint64_field(obj, "src_chain_id"),
        dst_chain_id=uint64_field(obj, "dst_chain_id"),
        reason=_reason(obj),
        detail=_detail(obj),
        policy=Hash32(hex_field(obj, "policy", HEX32)),
        signer=Address(hex_field(obj, "signer", ADDRESS)),
        signature=signature_field(obj, "signature"),
        signed_at=uint64_field(obj, "signed_at"),
    )


def _reason(obj: dict[str, Any]) -> str:
    value = obj["reason"]
    if not is_reason_code(value):
        raise GossipWireError(Reason.BAD_FIELD, "reason is not a lower-case refusal code")
    return value


def _detail(obj: dict[str, Any]) -> str:
    value = obj["detail"]
    if not is_detail(value):
        raise GossipWireError(
            Reason.BAD_FIELD, f"detail is not printable text of at most {MAX_DETAIL_CHARS} chars"
        )
    return value
