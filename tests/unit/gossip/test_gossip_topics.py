"""Topic layout, topic parsing and the topic/payload consistency check."""

from __future__ import annotations

import pytest
from gossip_samples import messages, sample_message
from hypothesis import given
from hypothesis import strategies as st

from relayer.gossip.config import GossipConfig, TlsFiles, client_id_for
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.topics import (
    Cleared,
    attestation_topic,
    decode_inbound,
    key_of,
    parse_topic,
    subscription_filter,
    topic_for,
    validate_prefix,
)
from relayer.gossip.wire import AttestationMessage, encode_attestation

PREFIX = "conflux-bridge/test"


def test_attestation_topic_layout() -> None:
    message = sample_message()
    assert attestation_topic(PREFIX, message) == (f"{PREFIX}/v1/att/1/0x{'11' * 32}/0x{'22' * 20}")
    assert subscription_filter(PREFIX) == f"{PREFIX}/v1/att/#"


@given(messages)
def test_parse_topic_round_trips(message: AttestationMessage) -> None:
    key = key_of(message)
    assert parse_topic(PREFIX, topic_for(PREFIX, key)) == key


def test_decode_inbound_accepts_matching_topic() -> None:
    message = sample_message()
    topic = attestation_topic(PREFIX, message)
    assert decode_inbound(PREFIX, topic, encode_attestation(message)) == message


def test_decode_inbound_empty_payload_is_cleared() -> None:
    message = sample_message()
    topic = attestation_topic(PREFIX, message)
    assert decode_inbound(PREFIX, topic, b"") == Cleared(key_of(message))


@pytest.mark.parametrize(
    "other",
    [
        sample_message(signer_byte=0x23),
        sample_message(transfer_byte=0x12),
        sample_message(dst_chain_id=2),
    ],
)
def test_decode_inbound_topic_mismatch(other: AttestationMessage) -> None:
    topic = attestation_topic(PREFIX, sample_message())
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, topic, encode_attestation(other))
    assert info.value.reason is Reason.TOPIC_MISMATCH


@pytest.mark.parametrize(
    "topic",
    [
        "elsewhere/v1/att/1/0x" + "11" * 32 + "/0x" + "22" * 20,
        f"{PREFIX}/v2/att/1/0x" + "11" * 32 + "/0x" + "22" * 20,
        f"{PREFIX}/v1/att/1/0x" + "11" * 32,
        f"{PREFIX}/v1/att/1/0x" + "11" * 32 + "/0x" + "22" * 20 + "/extra",
        f"{PREFIX}/v1/att/01/0x" + "11" * 32 + "/0x" + "22" * 20,
        f"{PREFIX}/v1/att/-1/0x" + "11" * 32 + "/0x" + "22" * 20,
        f"{PREFIX}/v1/att/{2**64}/0x" + "11" * 32 + "/0x" + "22" * 20,
        f"{PREFIX}/v1/att/1/0x" + "1" * 63 + "/0x" + "22" * 20,
        f"{PREFIX}/v1/att/1/0x" + "AA" * 32 + "/0x" + "22" * 20,
        f"{PREFIX}/v1/att/1/0x" + "11" * 32 + "/0x" + "2" * 41,
        f"{PREFIX}/v1/att/",
    ],
)
def test_parse_topic_bad_topic(topic: str) -> None:
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, topic, encode_attestation(sample_message()))
    assert info.value.reason is Reason.BAD_TOPIC


@given(st.text(max_size=200), st.binary(max_size=300))
def test_decode_inbound_raises_only_wire_error(suffix: str, payload: bytes) -> None:
    reason: Reason | None = None
    try:
        decode_inbound(PREFIX, f"{PREFIX}/v1/att/{suffix}", payload)
    except GossipWireError as err:
        reason = err.reason
    assert reason is None or isinstance(reason, Reason)


@pytest.mark.parametrize("prefix", ["", "/a", "a/", "a//b", "a/+", "a/#", "a b"])
def test_validate_prefix_refuses(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        validate_prefix(prefix)


def test_gossip_config_validates() -> None:
    assert GossipConfig(client_id=client_id_for(sample_message().signer)).port == 1883
    with pytest.raises(ValueError, match="prefix"):
        GossipConfig(client_id="x", topic_prefix="a/#")
    with pytest.raises(ValueError, match="backoff"):
        GossipConfig(client_id="x", backoff_initial_s=2, backoff_max_s=1)
    with pytest.raises(ValueError, match="mutual TLS"):
        TlsFiles(cert_file="c.pem")
