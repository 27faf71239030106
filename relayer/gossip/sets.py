"""Validator-set rotation on the wire: a proposal and a validator's approval of it, kinds
``"set_proposal"`` and ``"set_approval"``, version 1.

Proposal payload (UTF-8 JSON object, at most `SET_MAX_PAYLOAD_BYTES`, exactly these keys)::

    {"v": 1, "kind": "set_proposal", "proposal_id": "0x<64 hex>",
     "set_id": <uint64>, "deadline": <uint64>,
     "members": ["0x<40 hex>", ...], "jurisdictions": ["HK", ...],
     "threshold": <uint8>, "min_jurisdictions": <uint8>,
     "chains": [{"chain_id": <uint64>, "contract": "0x<40 hex>",
                 "replaced_set_hash": "0x<64 hex>"}, ...]}

An approval is the same body with ``"kind": "set_approval"`` and three more keys: the
signer, its signature of each chain's ``ValidatorSetUpdate`` digest (one per chain of the
proposal, in the proposal's order) and an informational time::

    "signer": "0x<40 hex>", "signed_at": <uint64>,
    "signatures": [{"chain_id": <uint64>, "digest": "0x<64 hex>",
                    "signature": "0x<130 hex>"}, ...]

The body travels with every approval, so a relayer that missed the proposal can still
check what it is asked to count. The decoder refuses (`GossipWireError`, BAD_FIELD) a body
the contracts would refuse (``relayer.domain.rotation.SetProposal``), a ``proposal_id``
that is not the hash of the body, and a ``digest`` that is not the body's digest for its
chain (both recomputed here); it does not recover signers: the receiver does, and checks
the signer is a member of the chain's CURRENT set. Same strict JSON as every other kind
(relayer.gossip.codec). Retained topics::

    {prefix}/v1/set/{proposal_id_hex}                 the proposal
    {prefix}/v1/set/{proposal_id_hex}/{signer_hex}    one validator's approval
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from relayer.domain.rotation import ChainTarget, SetProposal, proposal_to_json
from relayer.domain.types import Address, Hash32, Validator, hex32
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

SET_WIRE_VERSION: Final = 1
KIND_SET_PROPOSAL: Final = "set_proposal"
KIND_SET_APPROVAL: Final = "set_approval"
# 32 members and two chains encode to about 2.6 kB; other kinds keep MAX_PAYLOAD_BYTES
SET_MAX_PAYLOAD_BYTES: Final = 6144
MAX_CHAINS: Final = 8

_BODY: Final = frozenset(
    {
        "v",
        "kind",
        "proposal_id",
        "set_id",
        "deadline",
        "members",
        "jurisdictions",
        "threshold",
        "min_jurisdictions",
        "chains",
    }
)
_APPROVAL: Final = _BODY | {"signer", "signatures", "signed_at"}
_CHAIN_KEYS: Final = frozenset({"chain_id", "contract", "replaced_set_hash"})
_SIGNATURE_KEYS: Final = frozenset({"chain_id", "digest", "signature"})


@dataclass(frozen=True, slots=True)
class ChainSignature:
    """A signer's signature of the proposal's digest for one chain."""

    chain_id: int
    digest: Hash32
    signature: bytes  # 65 bytes r || s || v

    def __post_init__(self) -> None:
        require_uint64("chain_id", self.chain_id)
        if len(self.digest) != 32:
            raise ValueError("digest must be 32 bytes")
        require_signature("signature", self.signature)


@dataclass(frozen=True, slots=True)
class SetProposalMessage:
    """A proposal, published by the validator whose operator proposed it."""

    proposal: SetProposal


@dataclass(frozen=True, slots=True, kw_only=True)
class SetApprovalMessage:
    """One validator's approval: its signature of the proposal for each chain."""

    proposal: SetProposal
    signer: Address
    signatures: tuple[ChainSignature, ...]  # one per chain of the proposal, in its order
    signed_at: int = 0  # unix seconds, informational only

    def __post_init__(self) -> None:
        if len(self.signer) != 20:
            raise ValueError("signer must be a 20-byte address")
        require_uint64("signed_at", self.signed_at)
        _check_signatures(self.proposal, self.signatures, ValueError)


def _check_signatures(
    proposal: SetProposal,
    signatures: tuple[ChainSignature, ...],
    error: Callable[[str], Exception],
) -> None:
    digests = proposal.digests()
    if [s.chain_id for s in signatures] != list(digests):
        raise error("one signature per chain of the proposal, in its order")
    for s in signatures:
        if s.digest != digests[s.chain_id]:
            raise error(f"digest for chain {s.chain_id} is not the proposal's")


# --------------------------------------------------------------------- encoding


def _body(proposal: SetProposal, kind: str) -> dict[str, object]:
    return {"v": SET_WIRE_VERSION, "kind": kind, **proposal_to_json(proposal)}


def encode_set_proposal(message: SetProposalMessage) -> bytes:
    """Canonical version-1 proposal payload."""
    return canonical_json(_body(message.proposal, KIND_SET_PROPOSAL), SET_MAX_PAYLOAD_BYTES)


def encode_set_approval(message: SetApprovalMessage) -> bytes:
    """Canonical version-1 approval payload."""
    body = _body(message.proposal, KIND_SET_APPROVAL)
    body["signer"] = hex32(message.signer)
    body["signed_at"] = message.signed_at
    body["signatures"] = [
        {"chain_id": s.chain_id, "digest": hex32(s.digest), "signature": hex32(s.signature)}
        for s in message.signatures
    ]
    return canonical_json(body, SET_MAX_PAYLOAD_BYTES)


# --------------------------------------------------------------------- decoding


def _list_field(obj: Mapping[str, Any], name: str, most: int) -> list[Any]:
    value = obj[name]
    if not isinstance(value, list) or not 1 <= len(value) <= most:
        raise GossipWireError(Reason.BAD_FIELD, f"{name} is not a list of 1..{most}")
    return value


def _object(value: Any, keys: frozenset[str], name: str) -> dict[str, Any]:
    if not isinstance(value, dict) or value.keys() != keys:
        raise GossipWireError(Reason.BAD_FIELD, f"{name} entries need exactly {sorted(keys)}")
    return value


def _uint8_field(obj: Mapping[str, Any], name: str) -> int:
    value = uint64_field(obj, name)
    if value > 255:
        raise GossipWireError(Reason.BAD_FIELD, f"{name} is not a uint8")
    return value


def proposal_from_json(obj: Mapping[str, Any]) -> SetProposal:
    """The proposal in a decoded body (its ``proposal_id`` checked); `GossipWireError`."""
    members = _list_field(obj, "members", 32)
    codes = _list_field(obj, "jurisdictions", 32)
    if len(codes) != len(members):
        raise GossipWireError(Reason.BAD_FIELD, "members and jurisdictions differ in length")
    chains = [_object(c, _CHAIN_KEYS, "chains") for c in _list_field(obj, "chains", MAX_CHAINS)]
    if not all(isinstance(j, str) for j in codes):
        raise GossipWireError(Reason.BAD_FIELD, "jurisdictions are not strings")
    addresses = [Address(hex_field({"members": m}, "members", ADDRESS)) for m in members]
    try:
        validators = tuple(Validator(a, j) for a, j in zip(addresses, codes, strict=True))
        proposal = SetProposal(
            set_id=uint64_field(obj, "set_id"),
            members=validators,
            threshold=_uint8_field(obj, "threshold"),
            min_jurisdictions=_uint8_field(obj, "min_jurisdictions"),
            deadline=uint64_field(obj, "deadline"),
            chains=tuple(
                ChainTarget(
                    uint64_field(c, "chain_id"),
                    Address(hex_field(c, "contract", ADDRESS)),
                    Hash32(hex_field(c, "replaced_set_hash", HEX32)),
                )
                for c in chains
            ),
        )
    except ValueError as err:
        raise GossipWireError(Reason.BAD_FIELD, str(err)[:120]) from err
    if hex_field(obj, "proposal_id", HEX32) != proposal.proposal_id:
        raise GossipWireError(Reason.BAD_FIELD, "proposal_id is not the hash of the proposal")
    return proposal


def decode_set_proposal(payload: bytes) -> SetProposalMessage:
    """Parse and check a version-1 proposal payload; raises `GossipWireError` only."""
    obj = parse_payload(payload, SET_MAX_PAYLOAD_BYTES)
    check_envelope(obj, KIND_SET_PROPOSAL, {SET_WIRE_VERSION: _BODY})
    return SetProposalMessage(proposal_from_json(obj))


def decode_set_approval(payload: bytes) -> SetApprovalMessage:
    """Parse and check a version-1 approval payload; raises `GossipWireError` only."""
    obj = parse_payload(payload, SET_MAX_PAYLOAD_BYTES)
    check_envelope(obj, KIND_SET_APPROVAL, {SET_WIRE_VERSION: _APPROVAL})
    proposal = proposal_from_json(obj)
    entries = [
        _object(s, _SIGNATURE_KEYS, "signatures")
        for s in _list_field(obj, "signatures", MAX_CHAINS)
    ]
    signatures = tuple(
        ChainSignature(
            uint64_field(s, "chain_id"),
            Hash32(hex_field(s, "digest", HEX32)),
            signature_field(s, "signature"),
        )
        for s in entries
    )
    _check_signatures(proposal, signatures, _bad_field)
    return SetApprovalMessage(
        proposal=proposal,
        signer=Address(hex_field(obj, "signer", ADDRESS)),
        signatures=signatures,
        signed_at=uint64_field(obj, "signed_at"),
    )


def _bad_field(detail: str) -> GossipWireError:
    return GossipWireError(Reason.BAD_FIELD, detail)
