"""A validator's ``Cancel`` or ``Refund`` signature on the wire: kinds ``"cancel"`` and
``"refund"``, version 1.

Payload (UTF-8 JSON object, at most `MAX_PAYLOAD_BYTES`, exactly these keys)::

    {"v": 1, "kind": "cancel" | "refund",
     "transfer_id": "0x<64 hex>", "chain_id": <uint64>, "digest": "0x<64 hex>",
     "signer": "0x<40 hex>", "signature": "0x<130 hex>", "signed_at": <uint64>}

``chain_id`` is where the signature is used: the destination for a ``cancel`` (its
``hashCancel(transferId)``), the source for a ``refund`` (its ``hashRefund(refund)``).
``signature`` is r || s || v over ``digest`` (v in {27, 28}). The decoder checks shapes
only; the receiver recovers the signer, computes the digest itself (from the destination's
domain, or from its own record of the transfer for a refund) and counts the signature only
when the two agree and the signer is a member of the set that checks it.

Same rules as an attestation (relayer.gossip.wire): canonical JSON (sorted keys, no
spaces, lower-case hex), strict decoding, `GossipWireError` with a `Reason` and nothing
else. Retained, one per (kind, chain, transfer, signer)::

    {prefix}/v1/cancel/{chain_id}/{transfer_id_hex}/{signer_hex}
    {prefix}/v1/refund/{chain_id}/{transfer_id_hex}/{signer_hex}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

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

VETO_WIRE_VERSION: Final = 1
KIND_CANCEL: Final = "cancel"
KIND_REFUND: Final = "refund"
VETO_KINDS: Final = (KIND_CANCEL, KIND_REFUND)

_FIELDS: Final = frozenset(
    {"v", "kind", "transfer_id", "chain_id", "digest", "signer", "signature", "signed_at"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VetoMessage:
    """One validator's Cancel (or Refund) signature on one transfer."""

    kind: str  # "cancel" or "refund"
    transfer_id: Hash32
    chain_id: int  # where it is used: the destination (cancel) or the source (refund)
    digest: Hash32
    signer: Address
    signature: bytes  # 65 bytes r || s || v over ``digest``
    signed_at: int = 0  # unix seconds, informational only

    def __post_init__(self) -> None:
        if self.kind not in VETO_KINDS:
            raise ValueError(f"kind must be one of {VETO_KINDS}, got {self.kind!r:.20}")
        for name in ("chain_id", "signed_at"):
            require_uint64(name, getattr(self, name))
        if len(self.transfer_id) != 32 or len(self.digest) != 32:
            raise ValueError("transfer_id and digest must be 32 bytes")
        if len(self.signer) != 20:
            raise ValueError("signer must be a 20-byte address")
        require_signature("signature", self.signature)


def encode_veto(message: VetoMessage) -> bytes:
    """Canonical version-1 payload (sorted keys, no spaces, UTF-8)."""
    body: dict[str, object] = {
        "v": VETO_WIRE_VERSION,
        "kind": message.kind,
        "transfer_id": hex32(message.transfer_id),
        "chain_id": message.chain_id,
        "digest": hex32(message.digest),
        "signer": hex32(message.signer),
        "signature": hex32(message.signature),
        "signed_at": message.signed_at,
    }
    return canonical_json(body)


def decode_veto(payload: bytes, kind: str) -> VetoMessage:
    """Parse and validate a version-1 ``kind`` payload (shapes only); raises
    `GossipWireError` only."""
    obj = parse_payload(payload)
    check_envelope(obj, kind, {VETO_WIRE_VERSION: _FIELDS})
    return VetoMessage(
        kind=kind,
        transfer_id=Hash32(hex_field(obj, "transfer_id", HEX32)),
        chain_id=uint64_field(obj, "chain_id"),
        digest=Hash32(hex_field(obj, "digest", HEX32)),
        signer=Address(hex_field(obj, "signer", ADDRESS)),
        signature=signature_field(obj, "signature"),
        signed_at=uint64_field(obj, "signed_at"),
    )
