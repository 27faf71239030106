"""Refusals on the wire and on their topics: round trip, every refusal reason, fuzzing."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from gossip_samples import POLICY, refusals, sample_message, sample_refusal
from hypothesis import given, settings
from hypothesis import strategies as st

from relayer.domain.decisions import MAX_DETAIL_CHARS, ZERO_DIGEST, Decision, decision_digest
from relayer.domain.signature import address_of_private_key, recover_signer, sign_digest
from relayer.domain.types import UINT64_MAX, Address, Hash32
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.refusals import RefusalMessage, decode_refusal, encode_refusal
from relayer.gossip.topics import (
    ClearedRefusal,
    TopicKey,
    attestation_topic,
    decode_inbound,
    key_of,
    parse_refusal_topic,
    refusal_subscription_filter,
    refusal_topic,
    refusal_topic_for,
    root_subscription_filter,
    subscription_filter,
)
from relayer.gossip.wire import MAX_PAYLOAD_BYTES, decode, encode_attestation

PREFIX = "conflux-bridge/test"
TRANSFER_HEX = "0x" + "11" * 32
SIGNER_HEX = "0x" + "22" * 20

CANONICAL = (
    '{"detail":"sender 0xdead… is on the EU list","dst_chain_id":1,"kind":"refusal",'
    '"policy":"0x'
    + "66" * 32
    + '","reason":"sender_sanctioned","signature":"0x'
    + "44" * 64
    + '1b","signed_at":1700000000,"signer":"0x'
    + "22" * 20
    + '","src_chain_id":1030,"transfer_id":"0x'
    + "11" * 32
    + '","v":1}'
).encode()


def _body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(encode_refusal(sample_refusal()))
    return body


def _reason_of(payload: bytes) -> Reason:
    with pytest.raises(GossipWireError) as info:
        decode_refusal(payload)
    return info.value.reason


def _reason_of_body(body: object) -> Reason:
    return _reason_of(json.dumps(body).encode())


def _largest(detail: str) -> RefusalMessage:
    """A refusal with every field at its longest encoding."""
    return RefusalMessage(
        transfer_id=Hash32(b"\xff" * 32),
        src_chain_id=UINT64_MAX,
        dst_chain_id=UINT64_MAX,
        reason="z" * 40,
        detail=detail,
        policy=Hash32(b"\xff" * 32),
        signer=Address(b"\xff" * 20),
        signature=b"\xff" * 64 + b"\x1c",
        signed_at=UINT64_MAX,
    )


# ------------------------------------------------------------------------ the wire


def test_encode_refusal_is_the_canonical_bytes() -> None:
    assert encode_refusal(sample_refusal()) == CANONICAL  # UTF-8 as is: "…" not escaped
    assert decode_refusal(CANONICAL) == sample_refusal()


@given(refusals)
def test_decode_refusal_round_trips_any_message(message: RefusalMessage) -> None:
    payload = encode_refusal(message)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    canonical = json.dumps(
        json.loads(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert payload == canonical.encode()
    assert decode_refusal(payload) == message


@pytest.mark.parametrize(
    "detail",
    [
        "\U0001d11e" * MAX_DETAIL_CHARS,  # 4 bytes of UTF-8 each: the longest
        '"' * MAX_DETAIL_CHARS,  # escaped as \"
        "\\" * MAX_DETAIL_CHARS,
        "é" * MAX_DETAIL_CHARS,
        "",
    ],
)
def test_the_longest_refusal_fits_the_payload_cap(detail: str) -> None:
    message = _largest(detail)
    payload = encode_refusal(message)
    assert len(payload) <= 1755 < MAX_PAYLOAD_BYTES  # the bound docs/gossip.md states
    assert decode_refusal(payload) == message


def test_an_escaped_detail_is_accepted_and_re_encoded_as_utf8() -> None:
    escaped = json.dumps(_body()).encode()  # ensure_ascii: "…" as \u2026
    assert b"\\u2026" in escaped
    assert decode_refusal(escaped) == sample_refusal()
    assert encode_refusal(decode_refusal(escaped)) == CANONICAL


def test_an_escaped_long_detail_can_exceed_the_cap() -> None:
    message = _largest("\U0001d11e" * MAX_DETAIL_CHARS)
    escaped = json.dumps(json.loads(encode_refusal(message))).encode()  # 12 bytes a character
    assert _reason_of(escaped) is Reason.OVERSIZED


def test_decision_is_the_refusal_under_the_policy() -> None:
    message = sample_refusal()
    assert message.decision() == Decision(
        message.transfer_id, ZERO_DIGEST, "sender_sanctioned", message.detail, POLICY
    )
    assert not message.decision().approved


@given(refusals)
def test_any_refusal_has_a_decision(message: RefusalMessage) -> None:
    decision = message.decision()
    assert (decision.transfer_id, decision.verdict, decision.detail, decision.policy) == (
        message.transfer_id,
        message.reason,
        message.detail,
        message.policy,
    )
    assert decision.digest == ZERO_DIGEST


def test_signature_recovers_to_the_signer() -> None:
    key = b"\x02" * 32
    unsigned = replace(sample_refusal(), signer=address_of_private_key(key))
    signed = replace(unsigned, signature=sign_digest(key, decision_digest(unsigned.decision())))
    received = decode_refusal(encode_refusal(signed))
    assert recover_signer(decision_digest(received.decision()), received.signature) == (
        received.signer
    )


def test_decode_refusal_oversized_refused_before_parsing() -> None:
    assert _reason_of(b"{" * (MAX_PAYLOAD_BYTES + 1)) is Reason.OVERSIZED
    at_cap = CANONICAL + b" " * (MAX_PAYLOAD_BYTES - len(CANONICAL))
    assert decode_refusal(at_cap) == sample_refusal()
    assert _reason_of(at_cap + b" ") is Reason.OVERSIZED


@pytest.mark.parametrize(
    "payload",
    [b"", b"\xff\xfe{}", b"not json", b"[1,2]", b"42", b'"x"', b"{", b"[" * 2000, b"NaN"],
)
def test_decode_refusal_not_json(payload: bytes) -> None:
    assert _reason_of(payload) is Reason.NOT_JSON


def test_decode_refusal_utf16_and_nan_refused() -> None:
    assert _reason_of(json.dumps(_body()).encode("utf-16")) is Reason.NOT_JSON
    text = json.dumps(_body()).replace('"signed_at": 1700000000', '"signed_at": Infinity')
    assert "Infinity" in text
    assert _reason_of(text.encode()) is Reason.NOT_JSON


@pytest.mark.parametrize("version", [2, 0, "1", True, 1.0, None])
def test_decode_refusal_wrong_version(version: object) -> None:
    assert _reason_of_body({**_body(), "v": version}) is Reason.WRONG_VERSION


@pytest.mark.parametrize("kind", ["attestation", "root", "refusals", "", None, 1])
def test_decode_refusal_wrong_kind(kind: object) -> None:
    assert _reason_of_body({**_body(), "kind": kind}) is Reason.WRONG_KIND


def test_an_attestation_is_not_a_refusal_and_a_refusal_is_not_an_attestation() -> None:
    assert _reason_of(encode_attestation(sample_message())) is Reason.WRONG_KIND
    with pytest.raises(GossipWireError) as info:
        decode(CANONICAL)
    assert info.value.reason is Reason.WRONG_KIND


@pytest.mark.parametrize("name", sorted(_body()))
def test_decode_refusal_missing_field(name: str) -> None:
    body = _body()
    del body[name]
    assert _reason_of_body(body) is Reason.MISSING_FIELD


@pytest.mark.parametrize("name", ["extra", "digest", "nonce", "decision_signature"])
def test_decode_refusal_unknown_field(name: str) -> None:
    assert _reason_of_body({**_body(), name: 1}) is Reason.UNKNOWN_FIELD


def test_decode_refusal_duplicate_key_refused() -> None:
    text = json.dumps(_body())[:-1] + ', "reason": "other"}'
    assert _reason_of(text.encode()) is Reason.BAD_FIELD


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("transfer_id", "0x" + "11" * 31),
        ("transfer_id", "0x" + "AB" * 32),  # upper case is not canonical
        ("transfer_id", None),
        ("policy", "66" * 32),
        ("policy", "0x" + "66" * 33),
        ("signer", "0x" + "Aa" * 20),
        ("signer", "0x" + "22" * 19),
        ("signature", "0x" + "44" * 64),
        ("signature", "0x" + "44" * 64 + "1d"),  # v = 29
        ("signature", "0x" + "44" * 64 + "00"),  # v = 0
        ("src_chain_id", -1),
        ("src_chain_id", 2**64),
        ("dst_chain_id", "1"),
        ("dst_chain_id", True),
        ("signed_at", 1.5),
        ("reason", "approved"),  # an approval is an attestation, never a refusal
        ("reason", ""),
        ("reason", "Sender_sanctioned"),
        ("reason", "1abc"),
        ("reason", "_abc"),
        ("reason", "a" * 41),
        ("reason", "sender-sanctioned"),
        ("reason", "sender sanctioned"),
        ("reason", "sänder"),
        ("reason", "abc\n"),
        ("reason", None),
        ("reason", 5),
        ("detail", "x" * (MAX_DETAIL_CHARS + 1)),
        ("detail", "line\nbreak"),
        ("detail", "tab\there"),
        ("detail", "nul\u0000"),
        ("detail", "line\u2028separator"),
        ("detail", "no\u00a0break"),  # a separator other than the ASCII space
        ("detail", "bidi\u202eoverride"),  # a format character
        ("detail", "\ud800"),  # a lone surrogate
        ("detail", None),
        ("detail", 5),
        ("detail", ["x"]),
    ],
)
def test_decode_refusal_bad_field(name: str, value: object) -> None:
    assert _reason_of_body({**_body(), name: value}) is Reason.BAD_FIELD


def test_decode_refusal_counts_characters_not_bytes() -> None:
    def payload(detail: str) -> bytes:
        return json.dumps({**_body(), "detail": detail}, ensure_ascii=False).encode()

    longest = "\U0001d11e" * MAX_DETAIL_CHARS
    assert decode_refusal(payload(longest)).detail == longest
    assert _reason_of(payload(longest + "\U0001d11e")) is Reason.BAD_FIELD


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("reason", "a"),
        ("reason", "z" * 40),
        ("reason", "a_1"),
        ("detail", ""),
        ("detail", " " * MAX_DETAIL_CHARS),
        ("detail", "日本語の説明"),
    ],
)
def test_decode_refusal_edge_values_accepted(name: str, value: str) -> None:
    message = decode_refusal(json.dumps({**_body(), name: value}).encode())
    assert getattr(message, name) == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("transfer_id", b"\x11" * 31),
        ("src_chain_id", -1),
        ("dst_chain_id", 2**64),
        ("signed_at", True),
        ("reason", "approved"),
        ("reason", "Bad"),
        ("detail", "x" * (MAX_DETAIL_CHARS + 1)),
        ("detail", "a\nb"),
        ("policy", b"\x66" * 31),
        ("signer", b"x"),
        ("signature", b"\x44" * 65),
        ("signature", b"\x44" * 64),
    ],
)
def test_refusal_message_validates_construction(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        replace(sample_refusal(), **{field: value})


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.binary(max_size=3000))
def test_decode_refusal_arbitrary_bytes_raise_only_wire_error(payload: bytes) -> None:
    with pytest.raises(GossipWireError):
        decode_refusal(payload)


@settings(max_examples=300)
@given(_json_values)
def test_decode_refusal_arbitrary_json_raise_only_wire_error(value: object) -> None:
    with pytest.raises(GossipWireError):
        decode_refusal(json.dumps(value).encode())


@settings(max_examples=500)
@given(
    st.dictionaries(st.sampled_from(sorted(_body())) | st.text(max_size=8), _json_values),
    st.booleans(),
)
def test_decode_refusal_mutated_fields_raise_only_wire_error_or_round_trip(
    overrides: dict[str, object], keep_rest: bool
) -> None:
    body = {**_body(), **overrides} if keep_rest else overrides
    reason: Reason | None = None
    try:
        message = decode_refusal(json.dumps(body).encode())
    except GossipWireError as err:
        reason = err.reason
    else:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert encode_refusal(message) == canonical.encode()
        assert message.decision().verdict == message.reason
    assert reason is None or isinstance(reason, Reason)


# ---------------------------------------------------------------------- the topics


def test_refusal_topic_layout() -> None:
    message = sample_refusal()
    topic = f"{PREFIX}/v1/refusal/1/{TRANSFER_HEX}/{SIGNER_HEX}"
    assert refusal_topic(PREFIX, message) == topic
    assert refusal_topic_for(PREFIX, key_of(message)) == topic
    assert key_of(message) == TopicKey(1, message.transfer_id, message.signer)
    assert refusal_subscription_filter(PREFIX) == f"{PREFIX}/v1/refusal/#"
    filters = {
        subscription_filter(PREFIX),
        refusal_subscription_filter(PREFIX),
        root_subscription_filter(PREFIX),
    }
    assert len(filters) == 3  # three kinds, three disjoint subtrees
    with pytest.raises(ValueError, match="prefix"):
        refusal_subscription_filter("a/#")
    with pytest.raises(ValueError, match="prefix"):
        refusal_topic("a//b", message)


def test_a_refusal_and_an_attestation_of_one_transfer_have_one_key_two_topics() -> None:
    refusal, attestation = sample_refusal(), sample_message()
    assert key_of(refusal) == key_of(attestation)
    assert refusal_topic(PREFIX, refusal) != attestation_topic(PREFIX, attestation)


@given(refusals)
def test_parse_refusal_topic_and_decode_inbound_round_trip(message: RefusalMessage) -> None:
    topic = refusal_topic(PREFIX, message)
    assert parse_refusal_topic(PREFIX, topic) == key_of(message)
    assert decode_inbound(PREFIX, topic, encode_refusal(message)) == message


def test_decode_inbound_empty_refusal_payload_is_cleared_refusal() -> None:
    message = sample_refusal()
    decoded = decode_inbound(PREFIX, refusal_topic(PREFIX, message), b"")
    assert decoded == ClearedRefusal(key_of(message))


@pytest.mark.parametrize(
    "other",
    [
        sample_refusal(signer_byte=0x23),
        sample_refusal(transfer_byte=0x12),
        sample_refusal(dst_chain_id=2),
    ],
)
def test_decode_inbound_refusal_topic_mismatch(other: RefusalMessage) -> None:
    topic = refusal_topic(PREFIX, sample_refusal())
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, topic, encode_refusal(other))
    assert info.value.reason is Reason.TOPIC_MISMATCH


def test_decode_inbound_refusal_topic_does_not_name_the_source_chain() -> None:
    other = replace(sample_refusal(), src_chain_id=1031)
    topic = refusal_topic(PREFIX, sample_refusal())
    assert decode_inbound(PREFIX, topic, encode_refusal(other)) == other


_HEAD = f"{PREFIX}/v1/refusal/"


@pytest.mark.parametrize(
    "topic",
    [
        f"elsewhere/v1/refusal/1/{TRANSFER_HEX}/{SIGNER_HEX}",
        f"{PREFIX}/v2/refusal/1/{TRANSFER_HEX}/{SIGNER_HEX}",
        _HEAD,
        _HEAD + f"1/{TRANSFER_HEX}",
        _HEAD + f"1/{TRANSFER_HEX}/{SIGNER_HEX}/extra",
        _HEAD + f"01/{TRANSFER_HEX}/{SIGNER_HEX}",
        _HEAD + f"-1/{TRANSFER_HEX}/{SIGNER_HEX}",
        _HEAD + f"{2**64}/{TRANSFER_HEX}/{SIGNER_HEX}",
        _HEAD + f"1/0x{'1' * 63}/{SIGNER_HEX}",
        _HEAD + f"1/0x{'AA' * 32}/{SIGNER_HEX}",
        _HEAD + f"1/{TRANSFER_HEX}/0x{'2' * 41}",
        _HEAD + f"1/{TRANSFER_HEX}/{'22' * 20}",
        _HEAD + f"1//{SIGNER_HEX}",
    ],
)
@pytest.mark.parametrize("empty", [False, True])
def test_decode_inbound_refusal_bad_topic(topic: str, empty: bool) -> None:
    payload = b"" if empty else encode_refusal(sample_refusal())
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, topic, payload)
    assert info.value.reason is Reason.BAD_TOPIC


def test_decode_inbound_wrong_kind_on_each_topic() -> None:
    with pytest.raises(GossipWireError) as info:
        decode_inbound(
            PREFIX, refusal_topic(PREFIX, sample_refusal()), encode_attestation(sample_message())
        )
    assert info.value.reason is Reason.WRONG_KIND
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, attestation_topic(PREFIX, sample_message()), CANONICAL)
    assert info.value.reason is Reason.WRONG_KIND


def test_decode_inbound_oversized_refusal() -> None:
    with pytest.raises(GossipWireError) as info:
        decode_inbound(
            PREFIX, refusal_topic(PREFIX, sample_refusal()), b" " * (MAX_PAYLOAD_BYTES + 1)
        )
    assert info.value.reason is Reason.OVERSIZED


@given(st.text(max_size=200), st.binary(max_size=300))
def test_decode_inbound_refusal_topics_raise_only_wire_error(suffix: str, payload: bytes) -> None:
    reason: Reason | None = None
    try:
        decoded = decode_inbound(PREFIX, _HEAD + suffix, payload)
    except GossipWireError as err:
        reason = err.reason
    else:
        assert isinstance(decoded, RefusalMessage | ClearedRefusal)
    assert reason is None or isinstance(reason, Reason)
