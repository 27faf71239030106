"""Pure parts of relayer.chain: rules, decoding, answer parsing, error sorting, fees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayer.chain.confirmation import ConfirmationRule
from relayer.chain.events import BridgeEvent, EventDecoder, LogRejectedError, encode_event_log
from relayer.chain.fees import FeeAboveCap, Fees, bump_fees, choose_fees
from relayer.chain.rpc import (
    RpcInternalError,
    RpcNodeError,
    RpcRateLimitedError,
    classify_error,
    is_range_error,
)
from relayer.chain.rpc_types import LogEntry, parse_block, parse_log
from relayer.domain.types import Address, Hash32, SourceEvent
from relayer.errors import ConfigError, RpcResponseError

CONTRACT = Address(b"\xaa" * 20)


def _event(nonce: int = 7, amount: int = 5, dst: int = 1) -> SourceEvent:
    return SourceEvent(
        transfer_id=Hash32(b"\x01" * 32),
        src_chain_id=1030,
        src_contract=CONTRACT,
        nonce=nonce,
        src_token=Address(b"\x02" * 20),
        sender=Address(b"\x03" * 20),
        recipient=Address(b"\x04" * 20),
        amount=amount,
        dst_chain_id=dst,
        block_number=10,
        block_hash=Hash32(b"\x05" * 32),
        tx_hash=Hash32(b"\x06" * 32),
        log_index=3,
    )


def _log(event: SourceEvent, **changes: object) -> LogEntry:
    topics, data = encode_event_log(event)
    fields: dict[str, object] = {
        "address": CONTRACT,
        "topics": (BridgeEvent.LOCKED.topic0, *topics),
        "data": data,
        "block_number": event.block_number,
        "block_hash": event.block_hash,
        "tx_hash": event.tx_hash,
        "log_index": event.log_index,
    }
    fields.update(changes)
    return LogEntry(**fields)  # type: ignore[arg-type]


DECODER = EventDecoder(BridgeEvent.LOCKED, CONTRACT, 1030)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("finalized", ConfirmationRule("finalized")),
        (" SAFE ", ConfirmationRule("safe")),
        ("depth:0", ConfirmationRule("depth", 0)),
        ("depth:20", ConfirmationRule("depth", 20)),
    ],
)
def test_rule_parse_accepts(text: str, rule: ConfirmationRule) -> None:
    assert ConfirmationRule.parse(text) == rule
    assert ConfirmationRule.parse(str(rule)) == rule


@pytest.mark.parametrize("text", ["", "latest", "depth", "depth:", "depth:-1", "depth:x", "safe:3"])
def test_rule_parse_rejects_with_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="confirmation rule"):
        ConfirmationRule.parse(text)


def test_event_signatures_match_the_contract_shape() -> None:
    assert BridgeEvent.LOCKED.signature == (
        "Locked(bytes32,uint64,address,address,address,uint256,uint64)"
    )
    assert BridgeEvent.BURNED.topic0 != BridgeEvent.LOCKED.topic0


@given(
    nonce=st.integers(0, 2**64 - 1),
    amount=st.integers(0, 2**256 - 1),
    dst=st.integers(0, 2**64 - 1),
)
def test_decode_round_trips(nonce: int, amount: int, dst: int) -> None:
    event = _event(nonce, amount, dst)
    assert DECODER.decode(_log(event)) == event


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"address": Address(b"\xbb" * 20)}, "emitted by"),
        ({"removed": True}, "removed"),
        (
            {"topics": (BridgeEvent.BURNED.topic0, b"\x00" * 32, b"\x00" * 32, b"\x00" * 32)},
            "not a",
        ),
        ({"data": b"\x00" * 96}, "96 bytes"),
        ({"data": b"\x01" + encode_event_log(_event())[1][1:]}, "dirty padding"),
    ],
)
def test_decode_rejects(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(LogRejectedError, match=reason):
        DECODER.decode(_log(_event(), **changes))


def test_decode_rejects_nonce_above_uint64() -> None:
    topics = list(_log(_event()).topics)
    topics[2] = Hash32((2**64).to_bytes(32, "big"))
    with pytest.raises(LogRejectedError, match="uint64"):
        DECODER.decode(_log(_event(), topics=tuple(topics)))


GOOD_BLOCK = {
    "number": "0x10",
    "hash": "0x" + "11" * 32,
    "parentHash": "0x" + "22" * 32,
    "timestamp": "0x5",
}


def test_parse_block_and_malformed_answers() -> None:
    assert parse_block(GOOD_BLOCK).number == 16
    for broken in (
        {k: v for k, v in GOOD_BLOCK.items() if k != "hash"},
        {**GOOD_BLOCK, "number": 16},
        {**GOOD_BLOCK, "hash": "0x1234"},
        [],
        None,
    ):
        with pytest.raises(RpcResponseError):
            parse_block(broken)


def test_parse_log_rejects_wrong_types() -> None:
    with pytest.raises(RpcResponseError):
        parse_log({"address": "0x" + "aa" * 20, "topics": "nope"})


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"code": -32005, "message": "rate limit exceeded"}, RpcRateLimitedError),
        ({"code": -32000, "message": "Too Many Requests"}, RpcRateLimitedError),
        ({"code": -32005, "message": "query returned more than 10000 results"}, RpcNodeError),
        ({"code": -32603, "message": "block number is not consecutive"}, RpcInternalError),
        ({"code": 3, "message": "execution reverted", "data": "0x1234"}, RpcNodeError),
        ({"code": "x", "message": 1}, RpcResponseError),
    ],
)
def test_classify_error(error: dict[str, object], kind: type[Exception]) -> None:
    assert type(classify_error("m", error)) is kind


def test_revert_data_and_range_words() -> None:
    err = classify_error("eth_call", {"code": 3, "message": "reverted", "data": "0xdeadbeef"})
    assert isinstance(err, RpcNodeError)
    assert err.revert_data() == bytes.fromhex("deadbeef")
    assert is_range_error("query exceeds max block range 1000")
    assert is_range_error("Please try with a smaller range")
    assert not is_range_error("nonce too low")


def test_choose_fees_cap_and_formula() -> None:
    assert choose_fees(10, 2, 100) == Fees(max_fee=22, max_priority_fee=2)
    assert choose_fees(60, 2, 100) == Fees(max_fee=100, max_priority_fee=2)
    assert choose_fees(99, 2, 100) == FeeAboveCap(101, 100)


@given(
    base=st.integers(1, 10**12),
    tip=st.integers(0, 10**10),
    cap=st.integers(1, 10**13),
    fresh_base=st.integers(1, 10**12),
)
def test_bump_is_at_least_12_5_percent_and_never_above_cap(
    base: int, tip: int, cap: int, fresh_base: int
) -> None:
    first = choose_fees(base, tip, cap)
    if isinstance(first, FeeAboveCap):
        assert base + tip > cap
        return
    assert first.max_fee <= cap
    bumped = bump_fees(first, choose_fees(fresh_base, tip, cap), cap)
    if isinstance(bumped, Fees):
        assert bumped.max_fee * 1000 >= first.max_fee * 1125
        assert bumped.max_priority_fee * 1000 >= first.max_priority_fee * 1125
        assert bumped.max_priority_fee <= bumped.max_fee <= cap
