"""Attestation payload version 2 (policy + decision signature); version 1 unchanged."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from gossip_samples import (
    DECISION_SIGNATURE,
    POLICY,
    messages,
    sample_message,
    sample_v2,
    v2_messages,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from relayer.domain.decisions import APPROVED, approval, decision_digest
from relayer.domain.signature import address_of_private_key, recover_signer, sign_digest
from relayer.domain.types import Hash32, hex32
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.topics import attestation_topic, decode_inbound
from relayer.gossip.wire import (
    DECISION_WIRE_VERSION,
    MAX_PAYLOAD_BYTES,
    WIRE_VERSION,
    AttestationMessage,
    decode,
    encode_attestation,
)

PREFIX = "conflux-bridge/test"

# encode_attestation(sample_message()) as main encoded it before version 2 existed
CANONICAL_V1 = (
    '{"amount":"1000000000000000000","digest":"0x' + "33" * 32 + '","dst_chain_id":1,'
    '"kind":"attestation","nonce":7,"recipient":"0x' + "bb" * 20 + '","set_id":3,'
    '"signature":"0x' + "44" * 64 + '1b","signed_at":1700000000,"signer":"0x' + "22" * 20 + '",'
    '"src_chain_id":1030,"token":"0x' + "aa" * 20 + '","transfer_id":"0x' + "11" * 32 + '",'
    '"v":1}'
).encode()

CANONICAL_V2 = (
    '{"amount":"1000000000000000000","decision_signature":"0x' + "77" * 64 + '1c",'
    '"digest":"0x' + "33" * 32 + '","dst_chain_id":1,'
    '"kind":"attestation","nonce":7,"policy":"0x'
    + "66" * 32
    + '","recipient":"0x'
    + "bb" * 20
    + '","set_id":3,'
    '"signature":"0x' + "44" * 64 + '1b","signed_at":1700000000,"signer":"0x' + "22" * 20 + '",'
    '"src_chain_id":1030,"token":"0x' + "aa" * 20 + '","transfer_id":"0x' + "11" * 32 + '",'
    '"v":2}'
).encode()

NEW_KEYS = ("policy", "decision_signature")


def _v1_reference(message: AttestationMessage) -> bytes:
    """The version-1 encoder as it was before version 2 (json.dumps defaults)."""
    release = message.release
    body = {
        "v": 1,
        "kind": "attestation",
        "transfer_id": hex32(release.transfer_id),
        "src_chain_id": release.src_chain_id,
        "dst_chain_id": message.dst_chain_id,
        "nonce": release.nonce,
        "token": hex32(release.token),
        "recipient": hex32(release.recipient),
        "amount": str(release.amount),
        "set_id": message.set_id,
        "digest": hex32(message.digest),
        "signer": hex32(message.signer),
        "signature": hex32(message.signature),
        "signed_at": message.signed_at,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(encode_attestation(sample_v2()))
    return body


def _reason_of(payload: bytes) -> Reason:
    with pytest.raises(GossipWireError) as info:
        decode(payload)
    return info.value.reason


def _reason_of_body(body: object) -> Reason:
    return _reason_of(json.dumps(body).encode())


# ------------------------------------------------------------- version 1 unchanged


def test_v1_encoding_is_byte_identical_to_before() -> None:
    assert encode_attestation(sample_message()) == CANONICAL_V1
    assert decode(CANONICAL_V1) == sample_message()
    assert sample_message().version == WIRE_VERSION
    assert sample_message().decision() is None


@given(messages)
def test_v1_encoding_matches_the_old_encoder_for_any_message(message: AttestationMessage) -> None:
    assert encode_attestation(message) == _v1_reference(message)


@pytest.mark.parametrize(
    "extra",
    [{"policy": "0x" + "66" * 32}, {"decision_signature": "0x" + "77" * 64 + "1c"}, "both"],
)
def test_v1_with_a_new_key_is_unknown_field(extra: object) -> None:
    v1 = json.loads(CANONICAL_V1)
    added = {key: _body()[key] for key in NEW_KEYS} if extra == "both" else extra
    assert isinstance(added, dict)
    assert _reason_of_body({**v1, **added}) is Reason.UNKNOWN_FIELD


# ---------------------------------------------------------------------- version 2


def test_v2_encoding_is_canonical() -> None:
    payload = encode_attestation(sample_v2())
    assert payload == CANONICAL_V2
    assert json.loads(payload)["v"] == DECISION_WIRE_VERSION == 2
    assert decode(payload) == sample_v2()
    assert sample_v2().version == DECISION_WIRE_VERSION


@given(v2_messages)
def test_v2_round_trips_any_message(message: AttestationMessage) -> None:
    payload = encode_attestation(message)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert (
        payload == json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":")).encode()
    )
    assert decode(payload) == message
    assert decode_inbound(PREFIX, attestation_topic(PREFIX, message), payload) == message


def test_v2_decision_is_the_approval_of_the_digest_under_the_policy() -> None:
    message = sample_v2()
    decision = message.decision()
    assert decision == approval(message.release.transfer_id, message.digest, POLICY)
    assert decision is not None
    assert decision.verdict == APPROVED
    assert decision.approved


def test_v2_decision_signature_recovers_to_the_signer() -> None:
    key = b"\x01" * 32
    base = replace(sample_message(), signer=address_of_private_key(key))
    decision = approval(base.release.transfer_id, base.digest, POLICY)
    signed = replace(
        base, policy=POLICY, decision_signature=sign_digest(key, decision_digest(decision))
    )
    received = decode(encode_attestation(signed))
    received_decision = received.decision()
    assert received_decision is not None and received.decision_signature is not None
    assert recover_signer(decision_digest(received_decision), received.decision_signature) == (
        received.signer
    )


@pytest.mark.parametrize("name", sorted(_body()))
def test_v2_missing_field(name: str) -> None:
    body = _body()
    del body[name]
    assert _reason_of_body(body) is Reason.MISSING_FIELD


def test_v1_body_declared_v2_is_missing_the_new_fields() -> None:
    assert _reason_of_body({**json.loads(CANONICAL_V1), "v": 2}) is Reason.MISSING_FIELD


@pytest.mark.parametrize("version", [3, 0, "2", True, 2.0, None, -2])
def test_v2_body_wrong_version(version: object) -> None:
    assert _reason_of_body({**_body(), "v": version}) is Reason.WRONG_VERSION


def test_v2_body_declared_v1_has_unknown_fields() -> None:
    assert _reason_of_body({**_body(), "v": 1}) is Reason.UNKNOWN_FIELD


def test_v2_wrong_kind_and_unknown_field() -> None:
    assert _reason_of_body({**_body(), "kind": "refusal"}) is Reason.WRONG_KIND
    assert _reason_of_body({**_body(), "extra": 1}) is Reason.UNKNOWN_FIELD


def test_v2_duplicate_key_refused() -> None:
    text = json.dumps(_body())[:-1] + ', "policy": "0x' + "67" * 32 + '"}'
    assert _reason_of(text.encode()) is Reason.BAD_FIELD


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("policy", "0x" + "66" * 31),
        ("policy", "0x" + "AB" * 32),  # upper case is not canonical
        ("policy", "66" * 32),
        ("policy", None),
        ("policy", 5),
        ("decision_signature", "0x" + "77" * 64),
        ("decision_signature", "0x" + "77" * 64 + "1d"),  # v = 29
        ("decision_signature", "0x" + "77" * 64 + "01"),  # v = 1
        ("decision_signature", "0x" + "77" * 65 + "1c"),
        ("decision_signature", "0x" + "77" * 64 + "1C"),
        ("decision_signature", None),
        ("digest", "0x" + "00" * 32),  # its decision would approve nothing
        ("nonce", True),
        ("amount", "01"),
    ],
)
def test_v2_bad_field(name: str, value: object) -> None:
    assert _reason_of_body({**_body(), name: value}) is Reason.BAD_FIELD


def test_v1_zero_digest_still_accepted() -> None:
    zero = replace(sample_message(), digest=Hash32(bytes(32)))
    assert decode(encode_attestation(zero)) == zero


def test_v2_oversized_refused_before_parsing() -> None:
    at_cap = CANONICAL_V2 + b" " * (MAX_PAYLOAD_BYTES - len(CANONICAL_V2))
    assert decode(at_cap) == sample_v2()
    assert _reason_of(at_cap + b" ") is Reason.OVERSIZED


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"policy": POLICY}, "policy and decision_signature"),
        ({"decision_signature": DECISION_SIGNATURE}, "policy and decision_signature"),
        ({"policy": b"\x66" * 31, "decision_signature": DECISION_SIGNATURE}, "policy"),
        ({"policy": POLICY, "decision_signature": b"\x77" * 65}, "decision_signature"),
        ({"policy": POLICY, "decision_signature": b"\x77" * 64}, "decision_signature"),
        (
            {"policy": POLICY, "decision_signature": DECISION_SIGNATURE, "digest": bytes(32)},
            "digest",
        ),
    ],
)
def test_v2_message_validates_construction(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        replace(sample_message(), **fields)


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
def test_v2_mutated_fields_raise_only_wire_error_or_round_trip(
    overrides: dict[str, object], keep_rest: bool
) -> None:
    body = {**_body(), **overrides} if keep_rest else overrides
    reason: Reason | None = None
    try:
        message = decode(json.dumps(body).encode())
    except GossipWireError as err:
        reason = err.reason
    else:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        assert encode_attestation(message) == canonical.encode()
    assert reason is None or isinstance(reason, Reason)
