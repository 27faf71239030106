"""Cancel and Refund signatures on the wire and on their topics: round trip, strict
decoding, the topic naming the payload, fuzzing."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.types import UINT64_MAX, Address, Hash32
from relayer.gossip.codec import MAX_PAYLOAD_BYTES
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.topics import (
    TopicKey,
    decode_inbound,
    veto_subscription_filters,
    veto_topic,
    veto_topic_for,
)
from relayer.gossip.vetoes import VETO_KINDS, VetoMessage, decode_veto, encode_veto

PREFIX = "conflux-bridge/test"
SIGNATURE = b"\x44" * 64 + b"\x1b"


def sample(kind: str = "cancel", **kw: Any) -> VetoMessage:
    fields: dict[str, Any] = {
        "kind": kind,
        "transfer_id": Hash32(b"\x11" * 32),
        "chain_id": 31337,
        "digest": Hash32(b"\x33" * 32),
        "signer": Address(b"\x22" * 20),
        "signature": SIGNATURE,
        "signed_at": 1_700_000_000,
    }
    fields.update(kw)
    return VetoMessage(**fields)


def _reason(payload: bytes, kind: str = "cancel") -> Reason:
    with pytest.raises(GossipWireError) as info:
        decode_veto(payload, kind)
    return info.value.reason


def _body(kind: str = "cancel") -> dict[str, Any]:
    body: dict[str, Any] = json.loads(encode_veto(sample(kind)))
    return body


@pytest.mark.parametrize("kind", VETO_KINDS)
def test_round_trip_is_canonical_and_fits(kind: str) -> None:
    message = sample(kind, chain_id=UINT64_MAX, signed_at=UINT64_MAX)
    payload = encode_veto(message)
    assert decode_veto(payload, kind) == message
    assert encode_veto(decode_veto(payload, kind)) == payload
    assert len(payload) < MAX_PAYLOAD_BYTES
    assert b" " not in payload and json.loads(payload)["kind"] == kind


def test_strict_decoding_names_what_is_wrong() -> None:
    assert _reason(b"not json") is Reason.NOT_JSON
    assert _reason(encode_veto(sample("refund"))) is Reason.WRONG_KIND
    body = _body()
    body["extra"] = 1
    assert _reason(json.dumps(body).encode()) is Reason.UNKNOWN_FIELD
    body = _body()
    del body["digest"]
    assert _reason(json.dumps(body).encode()) is Reason.MISSING_FIELD
    body = _body()
    body["v"] = 2
    assert _reason(json.dumps(body).encode()) is Reason.WRONG_VERSION
    body = _body()
    body["signature"] = "0x" + "44" * 64 + "05"  # v not in {27, 28}
    assert _reason(json.dumps(body).encode()) is Reason.BAD_FIELD
    body = _body()
    body["chain_id"] = True
    assert _reason(json.dumps(body).encode()) is Reason.BAD_FIELD


def test_the_topic_must_name_the_payload() -> None:
    message = sample("refund", chain_id=1030)
    topic = veto_topic(PREFIX, message)
    assert topic == f"{PREFIX}/v1/refund/1030/0x{'11' * 32}/0x{'22' * 20}"
    assert decode_inbound(PREFIX, topic, encode_veto(message)) == message
    assert decode_inbound(PREFIX, topic, b"") is None  # withdrawn
    elsewhere = veto_topic_for(PREFIX, "refund", TopicKey(1, message.transfer_id, message.signer))
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, elsewhere, encode_veto(message))
    assert info.value.reason is Reason.TOPIC_MISMATCH
    key = TopicKey(1030, message.transfer_id, message.signer)
    as_cancel = veto_topic_for(PREFIX, "cancel", key)
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, as_cancel, encode_veto(message))  # a refund on a cancel topic
    assert info.value.reason is Reason.WRONG_KIND
    assert veto_subscription_filters(PREFIX) == (f"{PREFIX}/v1/cancel/#", f"{PREFIX}/v1/refund/#")


def test_a_message_with_a_bad_shape_cannot_be_built() -> None:
    cases = (
        ({"kind": "veto"}, "kind must be one of"),
        ({"signature": b"\x00" * 65}, "signature must be 65 bytes"),
        ({"digest": Hash32(b"\x01")}, "must be 32 bytes"),
    )
    for bad, named in cases:
        with pytest.raises(ValueError, match=named):
            sample(**bad)


@given(st.binary(max_size=400))
def test_random_bytes_never_raise_anything_but_a_wire_error(payload: bytes) -> None:
    for kind in VETO_KINDS:
        with contextlib.suppress(GossipWireError):
            decode_veto(payload, kind)
