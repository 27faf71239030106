"""The attestation wire format: round trip, every refusal reason, and fuzzing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gossip_samples import messages, sample_message
from hypothesis import given, settings
from hypothesis import strategies as st

from relayer.errors import WireError
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.wire import MAX_PAYLOAD_BYTES, AttestationMessage, decode, encode_attestation


def _body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(encode_attestation(sample_message()))
    return body


def _reason_of(payload: bytes) -> Reason:
    with pytest.raises(GossipWireError) as info:
        decode(payload)
    return info.value.reason


def _reason_of_body(body: object) -> Reason:
    return _reason_of(json.dumps(body).encode())


def test_encode_attestation_is_canonical_json() -> None:
    payload = encode_attestation(sample_message())
    assert (
        payload == json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":")).encode()
    )
    assert json.loads(payload)["amount"] == str(10**18)
    assert json.loads(payload)["v"] == 1
    assert json.loads(payload)["kind"] == "attestation"


def test_decode_round_trips_sample() -> None:
    message = sample_message()
    assert decode(encode_attestation(message)) == message


def test_to_attestation_carries_signature() -> None:
    message = sample_message()
    att = message.to_attestation()
    assert att.transfer_id == message.release.transfer_id
    assert (att.digest, att.signer, att.signature) == (
        message.digest,
        message.signer,
        message.signature,
    )


@given(messages)
def test_decode_round_trips_any_message(message: AttestationMessage) -> None:
    payload = encode_attestation(message)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert decode(payload) == message


def test_decode_oversized_refused_before_parsing() -> None:
    assert _reason_of(b"{" * (MAX_PAYLOAD_BYTES + 1)) is Reason.OVERSIZED


@pytest.mark.parametrize(
    "payload",
    [b"", b"\xff\xfe{}", b"not json", b"[1,2]", b"42", b'"x"', b"{", b"[" * 2000, b"NaN"],
)
def test_decode_not_json(payload: bytes) -> None:
    assert _reason_of(payload) is Reason.NOT_JSON


def test_decode_utf16_json_refused() -> None:
    assert _reason_of(json.dumps(_body()).encode("utf-16")) is Reason.NOT_JSON


def test_decode_nan_constant_refused() -> None:
    text = json.dumps(_body()).replace('"nonce": 7', '"nonce": NaN')
    assert _reason_of(text.encode()) is Reason.NOT_JSON


@pytest.mark.parametrize("version", [3, 0, "1", True, 1.0, None])
def test_decode_wrong_version(version: object) -> None:
    assert _reason_of_body({**_body(), "v": version}) is Reason.WRONG_VERSION


@pytest.mark.parametrize("kind", ["release", "", None, 1])
def test_decode_wrong_kind(kind: object) -> None:
    assert _reason_of_body({**_body(), "kind": kind}) is Reason.WRONG_KIND


@pytest.mark.parametrize("name", sorted(_body()))
def test_decode_missing_field(name: str) -> None:
    body = _body()
    del body[name]
    assert _reason_of_body(body) is Reason.MISSING_FIELD


def test_decode_unknown_field() -> None:
    assert _reason_of_body({**_body(), "extra": 1}) is Reason.UNKNOWN_FIELD


def test_decode_duplicate_key_refused() -> None:
    text = json.dumps(_body())[:-1] + ', "nonce": 8}'
    assert _reason_of(text.encode()) is Reason.BAD_FIELD


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("transfer_id", "0x" + "11" * 31),
        ("transfer_id", "0x" + "AB" * 32),  # upper case is not canonical
        ("transfer_id", "11" * 32),
        ("transfer_id", 5),
        ("digest", "0x" + "g" * 64),
        ("token", "0x" + "aa" * 21),
        ("recipient", None),
        ("signer", "0x" + "Aa" * 20),
        ("signature", "0x" + "44" * 64),
        ("signature", "0x" + "44" * 64 + "1d"),  # v = 29
        ("signature", "0x" + "44" * 64 + "00"),  # v = 0
        ("src_chain_id", -1),
        ("src_chain_id", 2**64),
        ("nonce", True),
        ("nonce", 7.0),
        ("nonce", "7"),
        ("set_id", [3]),
        ("dst_chain_id", None),
        ("signed_at", 1.5),
        ("amount", 10**18),
        ("amount", "-1"),
        ("amount", "01"),
        ("amount", "1e18"),
        ("amount", " 1"),
        ("amount", "\u0661"),  # Arabic-Indic digit one
        ("amount", str(2**256)),
    ],
)
def test_decode_bad_field(name: str, value: object) -> None:
    assert _reason_of_body({**_body(), name: value}) is Reason.BAD_FIELD


def test_decode_amount_max_uint256_accepted() -> None:
    assert decode(json.dumps({**_body(), "amount": str(2**256 - 1)}).encode())


def test_gossip_wire_error_is_wire_error_and_value_error() -> None:
    with pytest.raises(WireError):
        decode(b"junk")
    with pytest.raises(ValueError, match="not_json"):
        decode(b"junk")


@pytest.mark.parametrize(
    ("field", "value"),
    [("signature", b"\x44" * 65), ("signature", b"\x44" * 64), ("set_id", -1), ("signer", b"x")],
)
def test_attestation_message_validates_construction(field: str, value: object) -> None:
    sample = sample_message()
    kwargs: dict[str, Any] = {
        "release": sample.release,
        "dst_chain_id": sample.dst_chain_id,
        "set_id": sample.set_id,
        "digest": sample.digest,
        "signer": sample.signer,
        "signature": sample.signature,
        field: value,
    }
    with pytest.raises(ValueError, match=field):
        AttestationMessage(**kwargs)


# ------------------------------------------------------------------------- fuzz

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80)
_json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=500)
@given(st.binary(max_size=3000))
def test_decode_arbitrary_bytes_raise_only_wire_error(payload: bytes) -> None:
    with pytest.raises(GossipWireError):
        decode(payload)


@settings(max_examples=500)
@given(_json_values)
def test_decode_arbitrary_json_raise_only_wire_error(value: object) -> None:
    with pytest.raises(GossipWireError):
        decode(json.dumps(value).encode())


@settings(max_examples=500)
@given(
    st.dictionaries(st.sampled_from(sorted(_body())) | st.text(max_size=8), _json_values),
    st.booleans(),
)
def test_decode_mutated_fields_never_raise_other_errors(
    overrides: dict[str, object], keep_rest: bool
) -> None:
    body = {**_body(), **overrides} if keep_rest else overrides
    try:
        message = decode(json.dumps(body).encode())
    except GossipWireError as err:
        reason: Reason | None = err.reason
    else:
        reason = None
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        assert encode_attestation(message) == canonical.encode()
    assert reason is None or isinstance(reason, Reason)
