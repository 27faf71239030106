"""MQTT topic layout of gossip, and the check that a topic matches its payload.

Attestations (version 1 layout, carrying payload versions 1 and 2)::

    {prefix}/v1/att/{dst_chain_id}/{transfer_id_hex}/{signer_hex}

``dst_chain_id`` is decimal without leading zeros; ``transfer_id_hex`` (64 digits) and
``signer_hex`` (40 digits) are ``0x``-prefixed lower case. One retained message per
(destination, transfer, signer): a republish replaces it, an empty retained payload
clears it. Subscribers use `subscription_filter` (``{prefix}/v1/att/#``) and receive
every outstanding attestation on (re)subscribe. See docs/gossip.md.

Refusals have the same levels under their own kind, also retained, one per (destination,
transfer, signer), cleared the same way, under `refusal_subscription_filter`
(``{prefix}/v1/refusal/#``)::

    {prefix}/v1/refusal/{dst_chain_id}/{transfer_id_hex}/{signer_hex}

Cancel and Refund signatures (veto and refund) have the same levels under their kind,
retained, one per (chain where used, transfer, signer), under `veto_subscription_filters`
(``{prefix}/v1/cancel/#`` and ``{prefix}/v1/refund/#``); see relayer.gossip.vetoes::

    {prefix}/v1/cancel/{dst_chain_id}/{transfer_id_hex}/{signer_hex}
    {prefix}/v1/refund/{src_chain_id}/{transfer_id_hex}/{signer_hex}

Root signatures (committed roots) have their own layout, one topic per (destination,
window, signer), not retained (republished by their signer while the window is in play),
under `root_subscription_filter` (``{prefix}/v1/root/#``)::

    {prefix}/v1/root/{dst_chain_id}/{src_chain_id}/{first_nonce}/{signer_hex}

Audit chain heads (relayer.gossip.audit_heads), one retained topic per validator (its
latest head replaces the previous one), under `audit_subscription_filter`
(``{prefix}/v1/audit/#``)::

    {prefix}/v1/audit/{signer_hex}

Validator-set rotation (relayer.gossip.sets), retained, under `set_subscription_filter`
(``{prefix}/v1/set/#``): a proposal under its id, and each validator's approval of it
under the id and its signer::

    {prefix}/v1/set/{proposal_id_hex}
    {prefix}/v1/set/{proposal_id_hex}/{signer_hex}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from relayer.domain.types import UINT64_MAX, Address, Hash32, hex32
from relayer.gossip.audit_heads import AuditHeadMessage, decode_audit_head
from relayer.gossip.codec import ADDRESS, HEX32
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.refusals import RefusalMessage, decode_refusal
from relayer.gossip.sets import (
    SetApprovalMessage,
    SetProposalMessage,
    decode_set_approval,
    decode_set_proposal,
)
from relayer.gossip.vetoes import VETO_KINDS, VetoMessage, decode_veto
from relayer.gossip.wire import AttestationMessage, RootMessage, decode, decode_root

TOPIC_VERSION: Final = "v1"
_ATT: Final = "att"
_REFUSAL: Final = "refusal"
_ROOT: Final = "root"
_AUDIT: Final = "audit"
_SET: Final = "set"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_PREFIX_LEVEL = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class TopicKey:
    """What an attestation or refusal topic names: one signer's message on one transfer."""

    dst_chain_id: int
    transfer_id: Hash32
    signer: Address


@dataclass(frozen=True, slots=True)
class Cleared:
    """An empty retained payload: the attestation at ``key`` was withdrawn (released)."""

    key: TopicKey


@dataclass(frozen=True, slots=True)
class ClearedRefusal:
    """An empty retained payload on a refusal topic: the refusal at ``key`` was withdrawn."""

    key: TopicKey


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is one or more ``/``-separated plain levels, else raise.

    Levels may hold letters, digits, ``_``, ``.`` and ``-``; wildcards, empty levels
    and leading/trailing slashes are refused (ValueError).
    """
    levels = prefix.split("/")
    if not prefix or any(_PREFIX_LEVEL.fullmatch(level) is None for level in levels):
        raise ValueError(f"bad gossip topic prefix {prefix!r}")
    return prefix


def _head(prefix: str, kind: str) -> str:
    return f"{prefix}/{TOPIC_VERSION}/{kind}/"


def _filter(prefix: str, kind: str) -> str:
    return f"{_head(validate_prefix(prefix), kind)}#"


def _keyed_topic(prefix: str, kind: str, key: TopicKey) -> str:
    return (
        f"{_head(validate_prefix(prefix), kind)}{key.dst_chain_id}/"
        f"{hex32(key.transfer_id)}/{hex32(key.signer)}"
    )


# -------------------------------------------------------------------- level checks


def _levels(topic: str, head: str, count: int) -> list[str]:
    """The ``count`` levels after ``head``; BAD_TOPIC if not under it or another count."""
    if not topic.startswith(head):
        raise GossipWireError(Reason.BAD_TOPIC, f"not under {head}")
    levels = topic[len(head) :].split("/")
    if len(levels) != count:
        raise GossipWireError(Reason.BAD_TOPIC, f"{len(levels)} levels after {head}")
    return levels


def _uint64_level(level: str, name: str) -> int:
    if _DECIMAL.fullmatch(level) is None or int(level) > UINT64_MAX:
        raise GossipWireError(Reason.BAD_TOPIC, f"{name} level")
    return int(level)


def _hex_level(level: str, pattern: re.Pattern[str], name: str) -> bytes:
    if pattern.fullmatch(level) is None:
        raise GossipWireError(Reason.BAD_TOPIC, f"{name} level")
    return bytes.fromhex(level[2:])


def _parse_key(topic: str, head: str) -> TopicKey:
    """The (destination, transfer, signer) levels after ``head``."""
    chain, transfer, signer = _levels(topic, head, 3)
    return TopicKey(
        _uint64_level(chain, "dst_chain_id"),
        Hash32(_hex_level(transfer, HEX32, "transfer_id")),
        Address(_hex_level(signer, ADDRESS, "signer")),
    )


# -------------------------------------------------------------------- attestations


def subscription_filter(prefix: str) -> str:
    """The filter that receives every attestation under ``prefix``."""
    return _filter(prefix, _ATT)


def topic_for(prefix: str, key: TopicKey) -> str:
    """The topic of one signer's attestation of one transfer."""
    return _keyed_topic(prefix, _ATT, key)


def key_of(message: AttestationMessage | RefusalMessage) -> TopicKey:
    """The topic key an attestation or a refusal is published under."""
    if isinstance(message, RefusalMessage):
        return TopicKey(message.dst_chain_id, message.transfer_id, message.signer)
    return TopicKey(message.dst_chain_id, message.release.transfer_id, message.signer)


def attestation_topic(prefix: str, message: AttestationMessage) -> str:
    """The topic ``message`` is published under."""
    return topic_for(prefix, key_of(message))


def parse_topic(prefix: str, topic: str) -> TopicKey:
    """Parse an attestation topic; raise `GossipWireError` (BAD_TOPIC) if it is not one."""
    return _parse_key(topic, _head(prefix, _ATT))


# ------------------------------------------------------------------------ refusals


def refusal_subscription_filter(prefix: str) -> str:
    """The filter that receives every refusal under ``prefix``."""
    return _filter(prefix, _REFUSAL)


def refusal_topic_for(prefix: str, key: TopicKey) -> str:
    """The topic of one signer's refusal of one transfer."""
    return _keyed_topic(prefix, _REFUSAL, key)


def refusal_topic(prefix: str, message: RefusalMessage) -> str:
    """The topic a refusal is published under."""
    return refusal_topic_for(prefix, key_of(message))


def parse_refusal_topic(prefix: str, topic: str) -> TopicKey:
    """Parse a refusal topic; raise `GossipWireError` (BAD_TOPIC) if it is not one."""
    return _parse_key(topic, _head(prefix, _REFUSAL))


# ------------------------------------------------------------- cancels and refunds


def veto_subscription_filters(prefix: str) -> tuple[str, ...]:
    """The filters that receive every Cancel and Refund signature under ``prefix``."""
    return tuple(_filter(prefix, kind) for kind in VETO_KINDS)


def veto_topic_for(prefix: str, kind: str, key: TopicKey) -> str:
    """The topic of one signer's ``kind`` signature on one transfer (``key.dst_chain_id``:
    the chain where it is used)."""
    if kind not in VETO_KINDS:
        raise ValueError(f"unknown veto kind {kind!r}")
    return _keyed_topic(prefix, kind, key)


def veto_topic(prefix: str, message: VetoMessage) -> str:
    """The topic a Cancel or Refund signature is published under."""
    key = TopicKey(message.chain_id, message.transfer_id, message.signer)
    return veto_topic_for(prefix, message.kind, key)


def _decode_veto_inbound(prefix: str, kind: str, topic: str, payload: bytes) -> VetoMessage | None:
    key = _parse_key(topic, _head(prefix, kind))
    if not payload:
        return None  # withdrawn
    message = decode_veto(payload, kind)
    if TopicKey(message.chain_id, message.transfer_id, message.signer) != key:
        raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
    return message


# ----------------------------------------------------------------- root signatures


def root_subscription_filter(prefix: str) -> str:
    """The filter that receives every version-1 root signature under ``prefix``."""
    return _filter(prefix, _ROOT)


def root_topic(prefix: str, message: RootMessage) -> str:
    """The topic a root signature is published under."""
    return (
        f"{_head(validate_prefix(prefix), _ROOT)}{message.dst_chain_id}/"
        f"{message.src_chain_id}/{message.first_nonce}/{hex32(message.signer)}"
    )


def _decode_root_inbound(prefix: str, topic: str, payload: bytes) -> RootMessage | None:
    """A root signature, or None for an empty (cleared) payload; the topic must name the
    payload's destination, source chain, window and signer."""
    dst, src, first, signer = _levels(topic, _head(prefix, _ROOT), 4)
    _uint64_level(dst, "dst_chain_id")
    _uint64_level(src, "src_chain_id")
    _uint64_level(first, "first_nonce")
    _hex_level(signer, ADDRESS, "signer")
    if not payload:
        return None
    message = decode_root(payload)
    if root_topic(prefix, message) != topic:
        raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
    return message


# --------------------------------------------------------------------- audit heads


def audit_subscription_filter(prefix: str) -> str:
    """The filter that receives every validator's audit chain head under ``prefix``."""
    return _filter(prefix, _AUDIT)


def audit_topic(prefix: str, message: AuditHeadMessage) -> str:
    """The topic a validator's audit head is published under (one per validator)."""
    return f"{_head(validate_prefix(prefix), _AUDIT)}{hex32(message.signer)}"


def _decode_audit_inbound(prefix: str, topic: str, payload: bytes) -> AuditHeadMessage | None:
    """An audit head, or None for an empty (cleared) payload; the topic names its signer."""
    (signer,) = _levels(topic, _head(prefix, _AUDIT), 1)
    _hex_level(signer, ADDRESS, "signer")
    if not payload:
        return None
    message = decode_audit_head(payload)
    if audit_topic(prefix, message) != topic:
        raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
    return message


# --------------------------------------------------------------- set rotation


def set_subscription_filter(prefix: str) -> str:
    """The filter that receives every set proposal and approval under ``prefix``."""
    return _filter(prefix, _SET)


def set_proposal_topic(prefix: str, proposal_id: Hash32) -> str:
    """The topic of a proposal."""
    return f"{_head(validate_prefix(prefix), _SET)}{hex32(proposal_id)}"


def set_approval_topic(prefix: str, proposal_id: Hash32, signer: Address) -> str:
    """The topic of one validator's approval of a proposal."""
    return f"{set_proposal_topic(prefix, proposal_id)}/{hex32(signer)}"


def _decode_set_inbound(
    prefix: str, topic: str, payload: bytes
) -> SetProposalMessage | SetApprovalMessage | None:
    """A proposal (one level: its id) or an approval (two: id and signer), or None for an
    empty payload; the topic must name the payload's proposal id (and signer)."""
    head = _head(prefix, _SET)
    levels = topic[len(head) :].split("/") if topic.startswith(head) else []
    if len(levels) not in (1, 2):
        raise GossipWireError(Reason.BAD_TOPIC, f"{len(levels)} levels after {head}")
    pid = Hash32(_hex_level(levels[0], HEX32, "proposal_id"))
    signer = Address(_hex_level(levels[1], ADDRESS, "signer")) if len(levels) == 2 else None
    if not payload:
        return None
    message: SetProposalMessage | SetApprovalMessage
    if signer is None:
        message = decode_set_proposal(payload)
    else:
        message = decode_set_approval(payload)
        if message.signer != signer:
            raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
    if message.proposal.proposal_id != pid:
        raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
    return message


# ------------------------------------------------------------------------- inbound


Inbound = (
    AttestationMessage
    | RefusalMessage
    | RootMessage
    | VetoMessage
    | AuditHeadMessage
    | SetProposalMessage
    | SetApprovalMessage
)


def decode_inbound(
    prefix: str, topic: str, payload: bytes
) -> Inbound | Cleared | ClearedRefusal | None:
    """Turn one received MQTT message into an attestation, a refusal, a root signature, a
    Cancel or Refund signature, a validator's `AuditHeadMessage`, a withdrawal (`Cleared`
    of an attestation, `ClearedRefusal` of a refusal), or None (a cleared root, Cancel,
    Refund signature or audit head), a validator-set `SetProposalMessage` or
    `SetApprovalMessage` (None when cleared).

    The topic must follow the layout and name the same destination chain, transfer (or
    window) and signer as the payload (else TOPIC_MISMATCH). Raises only `GossipWireError`.
    """
    if topic.startswith(_head(prefix, _ROOT)):
        return _decode_root_inbound(prefix, topic, payload)
    for kind in VETO_KINDS:
        if topic.startswith(_head(prefix, kind)):
            return _decode_veto_inbound(prefix, kind, topic, payload)
    if topic.startswith(_head(prefix, _AUDIT)):
        return _decode_audit_inbound(prefix, topic, payload)
    if topic.startswith(_head(prefix, _SET)):
        return _decode_set_inbound(prefix, topic, payload)
    if topic.startswith(_head(prefix, _REFUSAL)):
        key = parse_refusal_topic(prefix, topic)
        if not payload:
            return ClearedRefusal(key)
        refusal = decode_refusal(payload)
        if key_of(refusal) != key:
            raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
        return refusal
    key = parse_topic(prefix, topic)
    if not payload:
        return Cleared(key)
    message = decode(payload)
    if key_of(message) != key:
        raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
    return message
