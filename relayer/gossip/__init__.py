"""Attestation gossip: the versioned wire format, the topic layout and the MQTT transport.

See docs/gossip.md for the protocol and the operational contract.
"""

from relayer.gossip.config import GossipConfig, TlsFiles, client_id_for
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.stats import GossipStats
from relayer.gossip.topics import (
    Cleared,
    TopicKey,
    attestation_topic,
    decode_inbound,
    key_of,
    parse_topic,
    subscription_filter,
    topic_for,
)
from relayer.gossip.transport import MqttGossip, Received
from relayer.gossip.wire import (
    MAX_PAYLOAD_BYTES,
    WIRE_VERSION,
    AttestationMessage,
    decode,
    encode_attestation,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "WIRE_VERSION",
    "AttestationMessage",
    "Cleared",
    "GossipConfig",
    "GossipStats",
    "GossipWireError",
    "MqttGossip",
    "Reason",
    "Received",
    "TlsFiles",
    "TopicKey",
    "attestation_topic",
    "client_id_for",
    "decode",
    "decode_inbound",
    "encode_attestation",
    "key_of",
    "parse_topic",
    "subscription_filter",
    "topic_for",
]
