"""Destination logs map to the lifecycle input they stand for (and foreign ones to none)."""

from __future__ import annotations

from relayer.chain.bridge import (
    NOT_DELAYED_SELECTOR,
    RELEASE_CANCELLED_TOPIC,
    RELEASE_DELAYED_TOPIC,
    RELEASED_TOPIC,
    STATUS_OF_SELECTOR,
    UNLOCKED_TOPIC,
    execute_delayed_calldata,
)
from relayer.chain.rpc_types import LogEntry
from relayer.chain.submission import (
    execute_delayed_request,
)
from relayer.domain.transfer import (
    CancelledOnDestination,
    DelayedOnDestination,
    ReleaseConfirmed,
)
from relayer.domain.types import Address, Hash32
from relayer.service.settle import outcome_of_log

TID = Hash32(b"\x11" * 32)
TX = Hash32(b"\x22" * 32)
GATEWAY = Address(b"\x33" * 20)


def entry(topics: tuple[Hash32, ...], data: bytes = b"") -> LogEntry:
    return LogEntry(GATEWAY, topics, data, 7, Hash32(b"\x44" * 32), TX, 0)


def test_each_destination_log_is_its_input() -> None:
    assert outcome_of_log(entry((RELEASED_TOPIC, TID))) == ReleaseConfirmed(TID, TX)
    assert outcome_of_log(entry((UNLOCKED_TOPIC, TID))) == ReleaseConfirmed(TID, TX)
    at = (1_800_000_123).to_bytes(32, "big")
    assert outcome_of_log(entry((RELEASE_DELAYED_TOPIC, TID), at)) == DelayedOnDestination(
        TID, 1_800_000_123
    )
    by_guardian = (1).to_bytes(32, "big")
    cancelled = outcome_of_log(entry((RELEASE_CANCELLED_TOPIC, TID), by_guardian))
    assert cancelled == CancelledOnDestination(TID)


def test_malformed_or_foreign_logs_are_ignored() -> None:
    assert outcome_of_log(entry((RELEASED_TOPIC,))) is None  # no transfer id topic
    assert outcome_of_log(entry((RELEASE_DELAYED_TOPIC, TID), b"\x01")) is None  # short data
    assert outcome_of_log(entry((Hash32(b"\x55" * 32), TID))) is None


def test_execute_delayed_request_is_pending_while_delayed() -> None:
    data = execute_delayed_calldata(TID)
    assert data.hex() == "83ae450b" + "11" * 32  # executeDelayed(bytes32)
    request = execute_delayed_request(TID, GATEWAY, data)
    assert (request.pending_check, request.pending_answer) == (STATUS_OF_SELECTOR, 2)
    assert request.done_errors == (NOT_DELAYED_SELECTOR,)
