"""Attestations and root signatures on the wire: versioned, size-capped, strict JSON.

Attestation payload (UTF-8 JSON object, at most `MAX_PAYLOAD_BYTES`, exactly these keys)::

    {"v": 1, "kind": "attestation",
     "transfer_id": "0x<64 hex>", "src_chain_id": <uint64>, "dst_chain_id": <uint64>,
     "nonce": <uint64>, "token": "0x<40 hex>", "recipient": "0x<40 hex>",
     "amount": "<decimal uint256>", "set_id": <uint64>, "digest": "0x<64 hex>",
     "signer": "0x<40 hex>", "signature": "0x<130 hex>", "signed_at": <uint64>}

Version 2 is version 1 with ``"v": 2`` and two more keys, both required: the policy the
approval was made under and the signer's signature of that decision
(``relayer.domain.decisions``; the approval of ``digest`` under ``policy``)::

    "policy": "0x<64 hex>", "decision_signature": "0x<130 hex>"

A message without a policy encodes as version 1, byte for byte as before version 2 existed;
in version 1 the two keys are unknown fields. Any other ``v`` is WRONG_VERSION.

All hex is ``0x``-prefixed lower case (one canonical form per value, so the same
attestation always encodes to the same bytes and a republish is idempotent). Integers
are JSON integers: booleans, floats and strings are refused; ``amount`` is a decimal
string without sign or leading zeros because uint256 does not fit a JSON number.
Signatures are r || s || v with v in {27, 28}. ``signed_at`` (unix seconds) is
informational only and never used for any decision.

The decoder checks shapes only; it does not recover any signer. The node verifies the
signature against the digest it computes from its own observation of the source chain
(and the decision signature against ``decision_digest(message.decision())``).
Every failure raises `GossipWireError` (a `relayer.errors.WireError`) with a `Reason`.
The strict-JSON primitives shared with refusals (relayer.gossip.refusals) are in
relayer.gossip.codec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from relayer.domain.decisions import ZERO_DIGEST, Decision, approval
from relayer.domain.types import UINT256_MAX, Address, Attestation, Hash32, Release, hex32
from relayer.gossip.codec import (
    ADDRESS,
    HEX32,
    canonical_json,
    check_envelope,
    hex_field,
    parse_payload,
    require_signature,
    require_signed,
    require_uint64,
    signature_field,
    uint64_field,
)
from relayer.gossip.codec import MAX_PAYLOAD_BYTES as MAX_PAYLOAD_BYTES
from relayer.gossip.codec import SIGNATURE_BYTES as SIGNATURE_BYTES
from relayer.gossip.reasons import GossipWireError, Reason

WIRE_VERSION: Final = 1
DECISION_WIRE_VERSION: Final = 2  # the attestation version that carries the decision
KIND_ATTESTATION: Final = "attestation"
KIND_ROOT: Final = "root"

_V1_FIELDS: Final = frozenset(
    {
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
    }
)
_ATTESTATION_FIELDS: Final = {
    WIRE_VERSION: _V1_FIELDS,
    DECISION_WIRE_VERSION: _V1_FIELDS | {"policy", "decision_signature"},
}
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,77}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationMessage:
    """One validator's signed attestation of one release, as gossiped between relayers.

    With ``policy`` and ``decision_signature`` (both or neither) it is a version-2
    message: it also carries the signer's signed approval (`decision`) under that policy.
    """

    release: Release
    dst_chain_id: int
    set_id: int
    digest: Hash32
    signer: Address
    signature: bytes  # 65 bytes: r || s || v, v in {27, 28}
    signed_at: int = 0  # unix seconds, informational only
    policy: Hash32 | None = None  # v2: hash of the policy pack (or local rules) in force
    decision_signature: bytes | None = None  # v2: the signer's over decision_digest(decision())

    def __post_init__(self) -> None:
        for name in ("dst_chain_id", "set_id", "signed_at"):
            require_uint64(name, getattr(self, name))
        require_signed(self.digest, self.signer, self.signature)
        if (self.policy is None) != (self.decision_signature is None):
            raise ValueError("policy and decision_signature come together (version 2) or not")
        if self.policy is not None:
            if len(self.policy) != 32:
                raise ValueError("policy must be 32 bytes")
            require_signature("decision_signature", self.decision_signature)
            if self.digest == ZERO_DIGEST:
                raise ValueError("digest must not be zero: a version-2 message approves it")

    @property
    def version(self) -> int:
        """The wire version this message encodes as: 2 with a decision, else 1."""
        return WIRE_VERSION if self.policy is None else DECISION_WIRE_VERSION

    def to_attestation(self) -> Attestation:
        """The domain value the quorum rule works on."""
        return Attestation(
            transfer_id=self.release.transfer_id,
            digest=self.digest,
            signer=self.signer,
            signature=self.signature,
        )

    def decision(self) -> Decision | None:
        """The approval ``decision_signature`` signs (version 2), or None (version 1)."""
        if self.policy is None:
            return None
        return approval(self.release.transfer_id, self.digest, self.policy)


def encode_attestation(message: AttestationMessage) -> bytes:
    """Canonical payload (sorted keys, no spaces): same message, same bytes.

    Version 1 without a policy (byte for byte as before version 2), version 2 with one.
    """
    release = message.release
    body: dict[str, object] = {
        "v": message.version,
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
    if message.policy is not None and message.decision_signature is not None:
        body["policy"] = hex32(message.policy)
        body["decision_signature"] = hex32(message.decision_signature)
    return canonical_json(body)


def decode(payload: bytes) -> AttestationMessage:
    """Parse and validate a version-1 or version-2 attestation payload.

    Raises `GossipWireError` (and nothing else) for anything that is not exactly a
    well-formed attestation of one of those versions.
    """
    obj = parse_payload(payload)
    version = check_envelope(obj, KIND_ATTESTATION, _ATTESTATION_FIELDS)
    release = Release(
        transfer_id=Hash32(hex_field(obj, "transfer_id", HEX32)),
        src_chain_id=uint64_field(obj, "src_chain_id"),
        nonce=uint64_field(obj, "nonce"),
        token=Address(hex_field(obj, "token", ADDRESS)),
        recipient=Address(hex_field(obj, "recipient", ADDRESS)),
        amount=_amount(obj),
    )
    digest = Hash32(hex_field(obj, "digest", HEX32))
    policy: Hash32 | None = None
    decision_signature: bytes | None = None
    if version == DECISION_WIRE_VERSION:
        policy = Hash32(hex_field(obj, "policy", HEX32))
        decision_signature = signature_field(obj, "decision_signature")
        if digest == ZERO_DIGEST:
            raise GossipWireError(Reason.BAD_FIELD, "digest is zero in a version-2 attestation")
    return AttestationMessage(
        release=release,
        dst_chain_id=uint64_field(obj, "dst_chain_id"),
        set_id=uint64_field(obj, "set_id"),
        digest=digest,
        signer=Address(hex_field(obj, "signer", ADDRESS)),
        signature=signature_field(obj, "signature"),
        signed_at=uint64_field(obj, "signed_at"),
        policy=policy,
        decision_signature=decision_signature,
    )


def _amount(obj: dict[str, Any]) -> int:
    value = obj["amount"]
    if not isinstance(value, str) or _DECIMAL.fullmatch(value) is None:
        raise GossipWireError(Reason.BAD_FIELD, "amount is not a decimal string")
    amount = int(value)
    if amount > UINT256_MAX:
        raise GossipWireError(Reason.BAD_FIELD, "amount exceeds uint256")
    return amount


# ------------------------------------------------------------------ root signatures

_ROOT_FIELDS: Final = {
    WIRE_VERSION: frozenset(
        {
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
        }
    )
}


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
            require_uint64(name, getattr(self, name))
        if not 1 <= self.first_nonce <= self.last_nonce:
            raise ValueError(f"not a nonce window: {self.first_nonce}..{self.last_nonce}")
        if len(self.root) != 32:
            raise ValueError("root must be 32 bytes")
        require_signed(self.digest, self.signer, self.signature)


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
    return canonical_json(body)


def decode_root(payload: bytes) -> RootMessage:
    """Parse and validate a version-1 root payload; raises `GossipWireError` only."""
    obj = parse_payload(payload)
    check_envelope(obj, KIND_ROOT, _ROOT_FIELDS)
    signature = signature_field(obj, "signature")
    first, last = uint64_field(obj, "first_nonce"), uint64_field(obj, "last_nonce")
    if not 1 <= first <= last:
        raise GossipWireError(Reason.BAD_FIELD, f"not a nonce window: {first}..{last}")
    return RootMessage(
        dst_chain_id=uint64_field(obj, "dst_chain_id"),
        src_chain_id=uint64_field(obj, "src_chain_id"),
        first_nonce=first,
        last_nonce=last,
        root=Hash32(hex_field(obj, "root", HEX32)),
        set_id=uint64_field(obj, "set_id"),
        digest=Hash32(hex_field(obj, "digest", HEX32)),
        signer=Address(hex_field(obj, "signer", ADDRESS)),
        signature=signature,
        signed_at=uint64_field(obj, "signed_at"),
    )
