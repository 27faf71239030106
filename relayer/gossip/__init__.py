"""Gossip between relayers: the versioned wire formats (attestations, refusals, root
signatures), the topic layout and the MQTT transport.

See docs/gossip.md for the protocol and the operational contract.
"""

from relayer.gossip.config import GossipConfig, TlsFiles, client_id_for
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.refusals import RefusalMessage, decode_refusal, encode_refusal
from relayer.gossip.stats import GossipStats
from relayer.gossip.topics import (
    Cleared,
    ClearedRefusal,
    TopicKey,
    attestation_topic,
    decode_inbound,
    key_of,
    parse_refusal_topic,
    parse_topic,
    refusal_subscription_filter,
    refusal_topic,
    refusal_topic_for,
    subscription_filter,
    topic_for,
)
from relayer.gossip.transport import MqttGossip, Received
from relayer.gossip.wire import (
    DECISION_WIRE_VERSION,
    MAX_PAYLOAD_BYTES,
    WIRE_VERSION,
    AttestationMessage,
    decode,
    encode_attestation,
)

__all__ = [
    "DECISION_WIRE_VERSION",
    "MAX_PAYLOAD_BYTES",
    "WIRE_VERSION",
    "AttestationMessage",
    "Cleared",
    "ClearedRefusal",
    "GossipConfig",
    "GossipStats",
    "GossipWireError",
    "MqttGossip",
    "Reason",
    "Received",
    "RefusalMessage",
    "TlsFiles",
    "TopicKey",
    "attestation_topic",
    "client_id_for",
    "decode",
    "decode_inbound",
    "decode_refusal",
    "encode_attestation",
    "encode_refusal",
    "key_of",
    "parse_refusal_topic",
    "parse_topic",
    "refusal_subscription_filter",
    "refusal_topic",
    "refusal_topic_for",
    "subscription_filter",
    "topic_for",
]
