"""Validator-set proposals and approvals on the wire and on their topics: round trip,
strict decoding (the id and the digests recomputed), the topic naming the payload,
fuzzing."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.rotation import ChainTarget, SetProposal
from relayer.domain.types import Address, Hash32, Validator, hex32
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.sets import (
    SET_MAX_PAYLOAD_BYTES,
    ChainSignature,
    SetApprovalMessage,
    SetProposalMessage,
    decode_set_approval,
    decode_set_proposal,
    encode_set_approval,
    encode_set_proposal,
)
from relayer.gossip.topics import (
    decode_inbound,
    set_approval_topic,
    set_proposal_topic,
    set_subscription_filter,
)

PREFIX = "conflux-bridge/test"
SIGNATURE = b"\x44" * 64 + b"\x1b"
SIGNER = Address(b"\x22" * 20)


def proposal(members: int = 6) -> SetProposal:
    codes = ["HK", "SG", "AE", "TH"]
    return SetProposal(
        set_id=2,
        members=tuple(
            Validator(Address(bytes([i + 1]) * 20), codes[i % 4]) for i in range(members)
        ),
        threshold=members * 2 // 3 + 1,
        min_jurisdictions=3,
        deadline=1_800_000_000,
        chains=(
            ChainTarget(1030, Address(b"\x0c" * 20), Hash32(b"\xa1" * 32)),
            ChainTarget(31337, Address(b"\x0e" * 20), Hash32(b"\xa1" * 32)),
        ),
    )


def approval(p: SetProposal | None = None) -> SetApprovalMessage:
    p = p or proposal()
    return SetApprovalMessage(
        proposal=p,
        signer=SIGNER,
        signatures=tuple(ChainSignature(c.chain_id, p.digest(c), SIGNATURE) for c in p.chains),
        signed_at=1_700_000_000,
    )


def _reason(payload: bytes, approval_kind: bool = True) -> Reason:
    with pytest.raises(GossipWireError) as info:
        (decode_set_approval if approval_kind else decode_set_proposal)(payload)
    return info.value.reason


def _body() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(encode_set_approval(approval()))
    return loaded


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def test_round_trip_and_topics() -> None:
    a = approval()
    assert decode_set_approval(encode_set_approval(a)) == a
    p = SetProposalMessage(a.proposal)
    assert decode_set_proposal(encode_set_proposal(p)) == p
    pid = hex32(a.proposal.proposal_id)
    assert set_proposal_topic(PREFIX, a.proposal.proposal_id) == f"{PREFIX}/v1/set/{pid}"
    topic = set_approval_topic(PREFIX, a.proposal.proposal_id, SIGNER)
    assert topic == f"{PREFIX}/v1/set/{pid}/{hex32(SIGNER)}"
    assert set_subscription_filter(PREFIX) == f"{PREFIX}/v1/set/#"
    assert decode_inbound(PREFIX, topic, encode_set_approval(a)) == a
    proposal_topic = set_proposal_topic(PREFIX, a.proposal.proposal_id)
    assert decode_inbound(PREFIX, proposal_topic, encode_set_proposal(p)) == p
    assert decode_inbound(PREFIX, topic, b"") is None  # cleared


def test_encoding_is_canonical_and_32_members_fit() -> None:
    big = approval(proposal(32))
    payload = encode_set_approval(big)
    assert len(payload) <= SET_MAX_PAYLOAD_BYTES
    assert payload == _encode(json.loads(payload))
    assert decode_set_approval(payload) == big


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"v": 2}, Reason.WRONG_VERSION),
        ({"kind": "set_proposal"}, Reason.WRONG_KIND),
        ({"extra": 1}, Reason.UNKNOWN_FIELD),
        ({"deadline": 1_800_000_001}, Reason.BAD_FIELD),  # the id no longer matches
        ({"proposal_id": "0x" + "00" * 32}, Reason.BAD_FIELD),
        ({"threshold": 2}, Reason.BAD_FIELD),  # below the contract's floor
        ({"threshold": 256}, Reason.BAD_FIELD),
        ({"threshold": True}, Reason.BAD_FIELD),
        ({"members": []}, Reason.BAD_FIELD),
        ({"jurisdictions": ["HK"]}, Reason.BAD_FIELD),
        ({"signer": "0x" + "AB" * 20}, Reason.BAD_FIELD),  # upper-case hex
        ({"signatures": []}, Reason.BAD_FIELD),
        ({"chains": [{"chain_id": 1}]}, Reason.BAD_FIELD),
    ],
)
def test_strict_decoding(change: dict[str, Any], reason: Reason) -> None:
    body = {**_body(), **change}
    assert _reason(_encode(body)) is reason


def test_a_missing_field_and_an_oversized_payload_are_refused() -> None:
    body = _body()
    del body["signed_at"]
    assert _reason(_encode(body)) is Reason.MISSING_FIELD
    assert _reason(b"{" + b" " * SET_MAX_PAYLOAD_BYTES + b"}") is Reason.OVERSIZED


def test_a_digest_that_is_not_the_proposals_is_refused() -> None:
    body = _body()
    body["signatures"][1]["digest"] = "0x" + "33" * 32
    assert _reason(_encode(body)) is Reason.BAD_FIELD
    body = _body()
    body["signatures"] = body["signatures"][::-1]  # out of the proposal's order
    assert _reason(_encode(body)) is Reason.BAD_FIELD


def test_the_topic_must_name_the_payload() -> None:
    a = approval()
    payload = encode_set_approval(a)
    other_signer = set_approval_topic(PREFIX, a.proposal.proposal_id, Address(b"\x99" * 20))
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, other_signer, payload)
    assert info.value.reason is Reason.TOPIC_MISMATCH
    other = replace(a.proposal, deadline=1_800_000_002)
    wrong_id = set_approval_topic(PREFIX, other.proposal_id, SIGNER)
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, wrong_id, payload)
    assert info.value.reason is Reason.TOPIC_MISMATCH
    for bad in (f"{PREFIX}/v1/set/0x12", f"{PREFIX}/v1/set/a/b/c", f"{PREFIX}/v1/set/"):
        with pytest.raises(GossipWireError) as info:
            decode_inbound(PREFIX, bad, payload)
        assert info.value.reason is Reason.BAD_TOPIC
    # an approval payload under a proposal topic is the wrong kind
    with pytest.raises(GossipWireError) as info:
        decode_inbound(PREFIX, set_proposal_topic(PREFIX, a.proposal.proposal_id), payload)
    assert info.value.reason is Reason.WRONG_KIND


def test_a_message_the_contract_would_refuse_cannot_be_built() -> None:
    a = approval()
    with pytest.raises(ValueError, match="one signature per chain"):
        replace(a, signatures=a.signatures[:1])
    with pytest.raises(ValueError, match="digest"):
        replace(
            a, signatures=(a.signatures[0], replace(a.signatures[1], digest=Hash32(b"\x01" * 32)))
        )


@given(st.binary(max_size=400))
def test_fuzzed_payloads_raise_only_wire_errors(junk: bytes) -> None:
    with contextlib.suppress(GossipWireError):
        decode_set_approval(junk)
    with contextlib.suppress(GossipWireError):
        decode_set_proposal(junk)


@given(st.dictionaries(st.sampled_from(sorted(_body())), st.none() | st.integers() | st.text()))
def test_fuzzed_fields_raise_only_wire_errors(changes: dict[str, Any]) -> None:
    with contextlib.suppress(GossipWireError):
        decode_set_approval(_encode({**_body(), **changes}))
