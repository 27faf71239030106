"""MQTT topic layout for attestations, and the check that a topic matches its payload.

Layout (version 1)::

    {prefix}/v1/att/{dst_chain_id}/{transfer_id_hex}/{signer_hex}

``dst_chain_id`` is decimal without leading zeros; ``transfer_id_hex`` (64 digits) and
``signer_hex`` (40 digits) are ``0x``-prefixed lower case. One retained message per
(destination, transfer, signer): a republish replaces it, an empty retained payload
clears it. Subscribers use `subscription_filter` (``{prefix}/v1/att/#``) and receive
every outstanding attestation on (re)subscribe. See docs/gossip.md.

Root signatures (committed roots) have their own layout, one topic per (destination,
window, signer), not retained (republished by their signer while the window is in play),
under `root_subscription_filter` (``{prefix}/v1/root/#``)::

    {prefix}/v1/root/{dst_chain_id}/{src_chain_id}/{first_nonce}/{signer_hex}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from relayer.domain.types import UINT64_MAX, Address, Hash32, hex32
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.wire import AttestationMessage, RootMessage, decode, decode_root

TOPIC_VERSION: Final = "v1"
_ATT: Final = "att"
_ROOT: Final = "root"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_HEX32 = re.compile(r"0x[0-9a-f]{64}")
_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
_PREFIX_LEVEL = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class TopicKey:
    """What an attestation topic names: one signer's attestation of one transfer."""

    dst_chain_id: int
    transfer_id: Hash32
    signer: Address


@dataclass(frozen=True, slots=True)
class Cleared:
    """An empty retained payload: the attestation at ``key`` was withdrawn (released)."""

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


def subscription_filter(prefix: str) -> str:
    """The filter that receives every version-1 attestation under ``prefix``."""
    return f"{validate_prefix(prefix)}/{TOPIC_VERSION}/{_ATT}/#"


def topic_for(prefix: str, key: TopicKey) -> str:
    """The topic of one signer's attestation of one transfer."""
    return (
        f"{validate_prefix(prefix)}/{TOPIC_VERSION}/{_ATT}/{key.dst_chain_id}/"
        f"{hex32(key.transfer_id)}/{hex32(key.signer)}"
    )


def key_of(message: AttestationMessage) -> TopicKey:
    """The topic key an attestation message is published under."""
    return TopicKey(message.dst_chain_id, message.release.transfer_id, message.signer)


def attestation_topic(prefix: str, message: AttestationMessage) -> str:
    """The topic ``message`` is published under."""
    return topic_for(prefix, key_of(message))


def parse_topic(prefix: str, topic: str) -> TopicKey:
    """Parse an attestation topic; raise `GossipWireError` (BAD_TOPIC) if it is not one."""
    head = f"{prefix}/{TOPIC_VERSION}/{_ATT}/"
    if not topic.startswith(head):
        raise GossipWireError(Reason.BAD_TOPIC, f"not under {head}")
    levels = topic[len(head) :].split("/")
    if len(levels) != 3:
        raise GossipWireError(Reason.BAD_TOPIC, f"{len(levels)} levels after {head}")
    chain, transfer, signer = levels
    if _DECIMAL.fullmatch(chain) is None or int(chain) > UINT64_MAX:
        raise GossipWireError(Reason.BAD_TOPIC, "dst_chain_id level")
    if _HEX32.fullmatch(transfer) is None:
        raise GossipWireError(Reason.BAD_TOPIC, "transfer_id level")
    if _ADDRESS.fullmatch(signer) is None:
        raise GossipWireError(Reason.BAD_TOPIC, "signer level")
    return TopicKey(
        int(chain), Hash32(bytes.fromhex(transfer[2:])), Address(bytes.fromhex(signer[2:]))
    )


def root_subscription_filter(prefix: str) -> str:
    """The filter that receives every version-1 root signature under ``prefix``."""
    return f"{validate_prefix(prefix)}/{TOPIC_VERSION}/{_ROOT}/#"


def root_topic(prefix: str, message: RootMessage) -> str:
    """The topic a root signature is published under."""
    return (
        f"{validate_prefix(prefix)}/{TOPIC_VERSION}/{_ROOT}/{message.dst_chain_id}/"
        f"{message.src_chain_id}/{message.first_nonce}/{hex32(message.signer)}"
    )


def _decode_root_inbound(prefix: str, topic: str, payload: bytes) -> RootMessage | None:
    """A root signature, or None for an empty (cleared) payload; the topic must name the
    payload's destination, source chain, window and signer."""
    levels = topic[len(f"{prefix}/{TOPIC_VERSION}/{_ROOT}/") :].split("/")
    if len(levels) != 4:
        raise GossipWireError(Reason.BAD_TOPIC, f"{len(levels)} levels after the root prefix")
    *numbers, signer = levels
    if any(_DECIMAL.fullmatch(n) is None or int(n) > UINT64_MAX for n in numbers):
        raise GossipWireError(Reason.BAD_TOPIC, "root topic number level")
    if _ADDRESS.fullmatch(signer) is None:
        raise GossipWireError(Reason.BAD_TOPIC, "signer level")
    if not payload:
        return None
    message = decode_root(payload)
    if root_topic(prefix, message) != topic:
        raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
    return message


def decode_inbound(
    prefix: str, topic: str, payload: bytes
) -> AttestationMessage | RootMessage | Cleared | None:
    """Turn one received MQTT message into an attestation, a withdrawal, a root signature,
    or None (a cleared root signature).

    The topic must follow the layout and name the same destination chain, transfer (or
    window) and signer as the payload (else TOPIC_MISMATCH). Raises only `GossipWireError`.
    """
    if topic.startswith(f"{prefix}/{TOPIC_VERSION}/{_ROOT}/"):
        return _decode_root_inbound(prefix, topic, payload)
    key = parse_topic(prefix, topic)
    if not payload:
        return Cleared(key)
    message = decode(payload)
    if key_of(message) != key:
        raise GossipWireError(Reason.TOPIC_MISMATCH, topic[-120:])
    return message
