"""Root signatures on the wire and on their topics (committed roots)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from gossip_samples import addresses, hashes, sample_message, signatures, uint64s
from hypothesis import given, settings
from hypothesis import strategies as st

from relayer.domain.types import UINT64_MAX, Address, Hash32
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.topics import (
    Cleared,
    attestation_topic,
    decode_inbound,
    key_of,
    root_subscription_filter,
    root_topic,
    subscription_filter,
)
from relayer.gossip.wire import (
    MAX_PAYLOAD_BYTES,
    RootMessage,
    decode,
    decode_root,
    encode_attestation,
    encode_root,
)

PREFIX = "conflux-bridge/test"
SIGNER_HEX = "0x" + "22" * 20


def sample_root(
    *,
    dst_chain_id: int = 1,
    src_chain_id: int = 1030,
    first_nonce: int = 17,
    last_nonce: int = 32,
    signer_byte: int = 0x22,
) -> RootMessage:
    return RootMessage(
        dst_chain_id=dst_chain_id,
        src_chain_id=src_chain_id,
        first_nonce=first_nonce,
        last_nonce=last_nonce,
        root=Hash32(b"\x55" * 32),
        set_id=3,
        digest=Hash32(b"\x33" * 32),
        signer=Address(bytes([signer_byte]) * 20),
        signature=b"\x44" * 64 + b"\x1c",
        signed_at=1_700_000_000,
    )


CANONICAL = (
    '{"digest":"0x' + "33" * 32 + '","dst_chain_id":1,"first_nonce":17,"kind":"root",'
    '"last_nonce":32,"root":"0x' + "55" * 32 + '","set_id":3,"signature":"0x' + "44" * 64 + '1c",'
    '"signed_at":1700000000,"signer":"0x' + "22" * 20 + '","src_chain_id":1030,"v":1}'
).encode()

windows = st.tuples(st.integers(1, UINT64_MAX), st.integers(1, UINT64_MAX)).map(sorted)


@st.composite
def root_messages(draw: Any) -> RootMessage:
    first, last = draw(windows)
    return RootMessage(
        dst_chain_id=draw(uint64s),
        src_chain_id=draw(uint64s),
        first_nonce=first,
        last_nonce=last,
        root=draw(hashes),
        set_id=draw(uint64s),
        digest=draw(hashes),
        signer=draw(addresses),
        signature=draw(signatures),
        signed_at=draw(uint64s),
    )


def _body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(encode_root(sample_root()))
    return body


def _reason_of(payload: bytes) -> Reason:
    with pytest.raises(GossipWireError) as info:
        decode_root(payload)
    return info.value.reason


def _reason_of_body(body: object) -> Reason:
    return _reason_of(json.dumps(body).encode())


# ------------------------------------------------------------------------ the wire


def test_encode_root_is_the_canonical_bytes() -> None:
    assert encode_root(sample_root()) == CANONICAL
    assert decode_root(CANONICAL) == sample_root()


@given(root_messages())
def test_decode_root_round_trips_any_message(message: RootMessage) -> None:
    payload = encode_root(message)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert (
        payload == json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":")).encode()
    )
    assert decode_root(payload) == message


def test_decode_root_accepts_the_extreme_values() -> None:
    edge = replace(sample_root(), first_nonce=1, last_nonce=UINT64_MAX, dst_chain_id=0)
    assert decode_root(encode_root(edge)) == edge
    single = replace(sample_root(), first_nonce=UINT64_MAX, last_nonce=UINT64_MAX)
    assert decode_root(encode_root(single)) == single


def test_decode_root_oversized_refused_before_parsing() -> None:
    assert _reason_of(b"{" * (MAX_PAYLOAD_BYTES + 1)) is Reason.OVERSIZED
    padded = CANONICAL + b" " * (MAX_PAYLOAD_BYTES - len(CANONICAL) + 1)
    assert _reason_of(padded) is Reason.OVERSIZED
    at_cap = CANONICAL + b" " * (MAX_PAYLOAD_BYTES - len(CANONICAL))
    assert decode_root(at_cap) == sample_root()  # whitespace is still JSON


@pytest.mark.parametrize(
    "payload",
    [b"", b"\xff\xfe{}", b"not json", b"[1,2]", b"42", b'"x"', b"{", b"[" * 2000, b"NaN"],
)
def test_decode_root_not_json(payload: bytes) -> None:
    assert _reason_of(payload) is Reason.NOT_JSON


def test_decode_root_nan_constant_refused() -> None:
    text = json.dumps(_body()).replace('"set_id": 3', '"set_id": NaN')
    assert "NaN" in text
    assert _reason_of(text.encode()) is Reason.NOT_JSON


@pytest.mark.parametrize("version", [2, 0, "1", True, 1.0, None])
def test_decode_root_wrong_version(version: object) -> None:
    assert _reason_of_body({**_body(), "v": version}) is Reason.WRONG_VERSION


@pytest.mark.parametrize("kind", ["attestation", "roots", "", None, 1])
def test_decode_root_wrong_kind(kind: object) -> None:
    assert _reason_of_body({**_body(), "kind": kind}) is Reason.WRONG_KIND


def test_an_attestation_is_not_a_root_and_a_root_is_not_an_attestation() -> None:
    assert _reason_of(encode_attestation(sample_message())) is Reason.WRONG_KIND
    with pytest.raises(GossipWireError) as info:
        decode(encode_root(sample_root()))
    assert info.value.reason is Reason.WRONG_KIND


def test_decode_root_unknown_field() -> None:
    assert _reason_of_body({**_body(), "extra": 1}) is Reason.UNKNOWN_FIELD
    assert _reason_of_body({**_body(), "nonce": 7}) is Reason.UNKNOWN_FIELD  # attestation's


@pytest.mark.parametrize("name", sorted(_body()))
def test_decode_root_missing_field(name: str) -> None:
    body = _body()
    del body[name]
    assert _reason_of_body(body) is Reason.MISSING_FIELD


def test_decode_root_duplicate_key_refused() -> None:
    text = json.dumps(_body())[:-1] + ', "set_id": 4}'
    assert _reason_of(text.encode()) is Reason.BAD_FIELD


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("root", "0x" + "55" * 31),
        ("root", "0x" + "AB" * 32),  # upper case is not canonical
        ("root", "55" * 32),
        ("root", 5),
        ("digest", "0x" + "g" * 64),
        ("digest", None),
        ("signer", "0x" + "Aa" * 20),
        ("signer", "0x" + "22" * 21),
        ("signature", "0x" + "44" * 64),
        ("signature", "0x" + "44" * 64 + "1d"),  # v = 29
        ("signature", "0x" + "44" * 64 + "00"),  # v = 0
        ("signature", "0x" + "44" * 64 + "01"),  # v = 1
        ("dst_chain_id", -1),
        ("dst_chain_id", 2**64),
        ("src_chain_id", True),
        ("src_chain_id", "1030"),
        ("first_nonce", 0),
        ("first_nonce", 17.0),
        ("first_nonce", 33),  # last < first
        ("last_nonce", 16),  # last < first
        ("last_nonce", 0),
        ("last_nonce", 2**64),
        ("set_id", [3]),
        ("signed_at", 1.5),
        ("signed_at", -1),
    ],
)
def test_decode_root_bad_field(name: str, value: object) -> None:
    assert _reason_of_body({**_body(), name: value}) is Reason.BAD_FIELD


def test_decode_root_single_nonce_window_accepted() -> None:
    body = {**_body(), "first_nonce": 32, "last_nonce": 32}
    assert decode_root(json.dumps(body).encode()) == replace(sample_root(), first_nonce=32)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_nonce", 0),
        ("last_nonce", 16),
        ("signature", b"\x44" * 65),
        ("signature", b"\x44" * 64),
        ("root", b"\x55" * 31),
        ("signer", b"x"),
        ("set_id", -1),
    ],
)
def test_root_message_validates_construction(field: str, value: object) -> None:
    kwargs: dict[str, Any] = {
        "dst_chain_id": 1,
        "src_chain_id": 1030,
        "first_nonce": 17,
        "last_nonce": 32,
        "root": b"\x55" * 32,
        "set_id": 3,
        "digest": b"\x33" * 32,
        "signer": b"\x22" * 20,
        "signature": b"\x44" * 64 + b"\x1b",
        field: value,
    }
    with pytest.raises(ValueError, match="nonce window" if "nonce" in field else field):
        RootMessage(**kwargs)


@settings(max_examples=300)
@given(st.binary(max_size=3000))
def test_decode_root_arbitrary_bytes_raise_only_wire_error(payload: bytes) -> None:
    with pytest.raises(GossipWireError):
        decode_root(payload)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(
    st.dictionaries(st.sampled_from(sorted(_body())) | st.text(max_size=8), _json_values),
    st.booleans(),
)
def test_decode_root_mutated_fields_raise_only_wire_error_or_round_trip(
    overrides: dict[str, object], keep_rest: bool
) -> None:
    body = {**_body(), **overrides} if keep_rest else overrides
    reason: Reason | None = None
    try:
        message = decode_root(json.dumps(body).encode())
    except GossipWireError as err:
        reason = err.reason
    else:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        assert encode_root(message) == canonical.encode()
    assert reason is None or isinstance(reason, Reason)


# ---------------------------------------------------------------------- the topics


def test_root_topic_layout() -> None:
    assert root_topic(PREFIX, sample_root()) == f"{PREFIX}/v1/root/1/1030/17/{SIGNER_HEX}"
    assert root_subscription_filter(PREFIX) == f"{PREFIX}/v1/root/#"
    assert subscription_filter(PREFIX) == f"{PREFIX}/v1/att/#"  # the two do not overlap
    with pytest.raises(ValueError, match="prefix"):
        root_subscription_filter("a/#")
    with pytest.raises(ValueError, match="prefix"):
        root_topic("a//b", sample_root())


@given(root_messages())
def test_decode_inbound_round_trips_root_messages(message: RootMessage) -> None:
    topic = root_topic(PREFIX, message)
    assert decode_inbound(PREFIX, topic, encode_root(message)) == message


def test_decode_inbound_empty_root_payload_is_none() -> None:
    assert decode_inbound(PREFIX, root_topic(PREFIX, sample_root()), b"") is None


@pytest.mark.parametrize(
    "other",
    [
        sample_root(dst_chain_id=2),
        sample_root(src_chain_id=1031),
        sample_root(first_nonce=1, last_nonce=16),
        sample_root(signer_byte=0x23),
    ],
)
def test_decode_inbound_root_topic_mismatch(other: RootMessage) -> None:
    topic = root_topic(PREFIX, sample_root())
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, topic, encode_root(other))
    assert info.value.reason is Reason.TOPIC_MISMATCH


def test_decode_inbound_root_topic_does_not_name_last_nonce() -> None:
    other = sample_root(last_nonce=40)
    topic = root_topic(PREFIX, sample_root())
    assert topic == root_topic(PREFIX, other)
    assert decode_inbound(PREFIX, topic, encode_root(other)) == other


_ROOT_HEAD = f"{PREFIX}/v1/root/"


@pytest.mark.parametrize(
    "topic",
    [
        _ROOT_HEAD + f"1/1030/{SIGNER_HEX}",  # three levels
        _ROOT_HEAD + f"1/1030/17/{SIGNER_HEX}/extra",  # five levels
        _ROOT_HEAD,
        _ROOT_HEAD + f"01/1030/17/{SIGNER_HEX}",
        _ROOT_HEAD + f"1/-1/17/{SIGNER_HEX}",
        _ROOT_HEAD + f"1/1030/{2**64}/{SIGNER_HEX}",
        _ROOT_HEAD + f"1/1030/x/{SIGNER_HEX}",
        _ROOT_HEAD + f"1//17/{SIGNER_HEX}",
        _ROOT_HEAD + "1/1030/17/0x" + "AA" * 20,
        _ROOT_HEAD + "1/1030/17/0x" + "22" * 19,
        _ROOT_HEAD + "1/1030/17/" + "22" * 20,
        _ROOT_HEAD + "1/1030/17/0x" + "22" * 32,
    ],
)
@pytest.mark.parametrize("empty", [False, True])
def test_decode_inbound_root_bad_topic(topic: str, empty: bool) -> None:
    payload = b"" if empty else encode_root(sample_root())
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, topic, payload)
    assert info.value.reason is Reason.BAD_TOPIC


def test_decode_inbound_wrong_kind_on_each_topic() -> None:
    with pytest.raises(GossipWireError) as info:
        decode_inbound(
            PREFIX, root_topic(PREFIX, sample_root()), encode_attestation(sample_message())
        )
    assert info.value.reason is Reason.WRONG_KIND
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, attestation_topic(PREFIX, sample_message()), CANONICAL)
    assert info.value.reason is Reason.WRONG_KIND


def test_decode_inbound_root_under_another_prefix_is_bad_topic() -> None:
    topic = root_topic("elsewhere", sample_root())
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, topic, encode_root(sample_root()))
    assert info.value.reason is Reason.BAD_TOPIC


def test_attestation_topics_still_work() -> None:
    message = sample_message()
    topic = attestation_topic(PREFIX, message)
    assert decode_inbound(PREFIX, topic, encode_attestation(message)) == message
    assert decode_inbound(PREFIX, topic, b"") == Cleared(key_of(message))
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, topic, encode_attestation(sample_message(signer_byte=0x23)))
    assert info.value.reason is Reason.TOPIC_MISMATCH


@given(st.text(max_size=200), st.binary(max_size=300))
def test_decode_inbound_root_topics_raise_only_wire_error(suffix: str, payload: bytes) -> None:
    reason: Reason | None = None
    try:
        decoded = decode_inbound(PREFIX, _ROOT_HEAD + suffix, payload)
    except GossipWireError as err:
        reason = err.reason
    else:
        assert decoded is None or isinstance(decoded, RootMessage)
    assert reason is None or isinstance(reason, Reason)
