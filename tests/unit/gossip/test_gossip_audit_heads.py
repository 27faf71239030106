"""Audit heads on the wire: canonical round trip, strict decoding, topic, size, ACL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.audit_heads import GENESIS_HASH, MAX_SEQ, AuditHead, SignedHead
from relayer.domain.types import UINT64_MAX, Address, Hash32, hex32
from relayer.gossip.audit_heads import (
    MAX_WITNESSED,
    AuditHeadMessage,
    decode_audit_head,
    encode_audit_head,
)
from relayer.gossip.codec import MAX_PAYLOAD_BYTES
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.topics import audit_subscription_filter, audit_topic, decode_inbound

SIG = b"\x44" * 64 + b"\x1b"
ACL = Path(__file__).resolve().parents[3] / "ops" / "mosquitto" / "acl"


def _signed(byte: int, seq: int = 5, at: int = 1_765_000_000) -> SignedHead:
    digest = GENESIS_HASH if seq == 0 else Hash32(bytes([byte]) * 32)
    return SignedHead(AuditHead(Address(bytes([byte]) * 20), seq, digest, at), SIG)


def _message(*others: int, own: int = 0x10) -> AuditHeadMessage:
    return AuditHeadMessage(own=_signed(own), witnessed=tuple(_signed(b) for b in others))


heads = st.builds(
    lambda byte, seq, at: _signed(byte, seq, at),
    st.integers(0x20, 0xFF),
    st.integers(0, MAX_SEQ),
    st.integers(0, UINT64_MAX),
)


@given(st.lists(heads, max_size=MAX_WITNESSED, unique_by=lambda s: s.head.validator))
def test_round_trip_is_canonical(witnessed: list[SignedHead]) -> None:
    witnessed.sort(key=lambda s: s.head.validator)
    message = AuditHeadMessage(own=_signed(0x10), witnessed=tuple(witnessed))
    payload = encode_audit_head(message)
    assert decode_audit_head(payload) == message
    assert (
        payload == json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":")).encode()
    )


def test_the_largest_message_fits_the_payload_cap() -> None:
    big = [_signed(b, MAX_SEQ, UINT64_MAX) for b in range(0xF0, 0xF0 + MAX_WITNESSED)]
    message = AuditHeadMessage(own=_signed(0x10, MAX_SEQ, UINT64_MAX), witnessed=tuple(big))
    assert len(encode_audit_head(message)) <= MAX_PAYLOAD_BYTES


def _payload(**changes: object) -> bytes:
    body = json.loads(encode_audit_head(_message(0x21, 0x22)))
    for key, value in changes.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _witness_entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = json.loads(encode_audit_head(_message(0x21)))["witnessed"][0]
    entry.update(changes)
    return entry


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_payload(kind="refusal"), Reason.WRONG_KIND),
        (_payload(v=2), Reason.WRONG_VERSION),
        (_payload(extra=1), Reason.UNKNOWN_FIELD),
        (_payload(witnessed=None), Reason.MISSING_FIELD),
        (_payload(seq=MAX_SEQ + 1), Reason.BAD_FIELD),
        (_payload(seq="5"), Reason.BAD_FIELD),
        (_payload(seq=0), Reason.BAD_FIELD),  # seq 0 goes with the zero hash only
        (_payload(hash="0x" + "AB" * 32), Reason.BAD_FIELD),
        (_payload(signature="0x" + "44" * 64 + "1d"), Reason.BAD_FIELD),
        (_payload(witnessed={}), Reason.BAD_FIELD),
        (_payload(witnessed=[1]), Reason.BAD_FIELD),
        (_payload(witnessed=[_witness_entry(extra=1)]), Reason.UNKNOWN_FIELD),
        (_payload(witnessed=[{"seq": 1}]), Reason.MISSING_FIELD),
        (_payload(witnessed=[_witness_entry(at=-1)]), Reason.BAD_FIELD),
        (_payload(witnessed=[_witness_entry()] * 2), Reason.BAD_FIELD),  # duplicate validator
        (
            _payload(witnessed=[_witness_entry(validator=hex32(bytes([0x10]) * 20))]),
            Reason.BAD_FIELD,
        ),
        (_payload(witnessed=[_witness_entry()] * (MAX_WITNESSED + 1)), Reason.BAD_FIELD),
        (b"\xff", Reason.NOT_JSON),
        (b"x" * (MAX_PAYLOAD_BYTES + 1), Reason.OVERSIZED),
    ],
)
def test_decode_refuses_junk_with_a_reason(payload: bytes, reason: Reason) -> None:
    with pytest.raises(GossipWireError) as caught:
        decode_audit_head(payload)
    assert caught.value.reason is reason


def test_witnessed_heads_must_be_sorted() -> None:
    body = json.loads(encode_audit_head(_message(0x21, 0x22)))
    body["witnessed"].reverse()
    with pytest.raises(GossipWireError, match="sorted"):
        decode_audit_head(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


def test_topic_names_the_signer_and_must_match_the_payload() -> None:
    message = _message(0x21)
    topic = audit_topic("pre", message)
    assert topic == f"pre/v1/audit/{hex32(message.signer)}"
    assert audit_subscription_filter("pre") == "pre/v1/audit/#"
    payload = encode_audit_head(message)
    assert decode_inbound("pre", topic, payload) == message
    assert decode_inbound("pre", topic, b"") is None  # a cleared head
    other = audit_topic("pre", _message(own=0x11))
    with pytest.raises(GossipWireError) as caught:
        decode_inbound("pre", other, payload)
    assert caught.value.reason is Reason.TOPIC_MISMATCH
    for bad in (f"{topic}/x", "pre/v1/audit/0xABC"):
        with pytest.raises(GossipWireError) as caught:
            decode_inbound("pre", bad, payload)
        assert caught.value.reason is Reason.BAD_TOPIC


def test_ops_acl_lets_every_validator_read_heads_and_write_only_its_own() -> None:
    lines = ACL.read_text().splitlines()
    assert "pattern read conflux-bridge/v1/audit/#" in lines
    assert "pattern write conflux-bridge/v1/audit/%u" in lines
    assert audit_topic("conflux-bridge", _message()).rpartition("/")[2] == hex32(bytes([0x10]) * 20)
