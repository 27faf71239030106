"""Volumes per token per day against the pack's limits, and freezes read from logs (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from relayer.chain.rpc_types import LogEntry
from relayer.domain.limits import WINDOW_S
from relayer.domain.packs import PolicyPack, Sanctions, TokenRules
from relayer.domain.types import Address, Hash32, checksum
from relayer.service.freezes import FROZEN_TOPIC, UNFROZEN_TOPIC, decode_freeze, frozen_now
from relayer.service.volumes import daily_volumes, first_day, since_for
from relayer.store.supervision_records import SpendRow

TOKEN = b"\x0c" * 20
OTHER = b"\x0e" * 20
PACK_HASH = Hash32(b"\x9c" * 32)
NOW = int(datetime(2026, 12, 7, 12, 0, tzinfo=UTC).timestamp())
PACK = PolicyPack(
    jurisdiction="HK",
    version=3,
    issued_at="2026-12-01T00:00:00Z",
    tokens={(71, Address(TOKEN)): TokenRules(1000, 1500, 4000, 800, "AxHKD")},
    sanctions=Sanctions("list", "1", frozenset()),
    content_hash=PACK_HASH,
)


def spend(amount: int, at: int, token: bytes = TOKEN) -> SpendRow:
    return SpendRow(71, token, amount, at, PACK_HASH)


def test_volumes_per_day_and_rolling_window_against_the_packs_limits() -> None:
    yesterday_late = NOW - 13 * 3600 + 60  # 2026-12-06 23:01
    spends = [
        spend(500, NOW - 3 * 86_400),  # outside both the 3 days and the rolling window
        spend(300, NOW - WINDOW_S),  # exactly 24 h ago: no longer in the rolling window
        spend(700, yesterday_late),
        spend(1000, NOW - 60),
        spend(5, NOW - 60, OTHER),  # a token the pack does not list (approved earlier)
    ]
    shown = daily_volumes(spends, PACK, {(71, TOKEN): 2000}, NOW, 3)
    assert [t["token"] for t in shown] == [checksum(TOKEN), checksum(OTHER)]
    axhkd = shown[0]
    assert axhkd["symbol"] == "AxHKD" and axhkd["in_pack"] is True
    assert axhkd["limits"] == {
        "max_per_transfer": "1000",
        "max_per_sender_24h": "1500",
        "max_total_24h": "4000",
        "review_above": "800",
        "local_max_per_transfer": "2000",
    }
    assert axhkd["rolling_24h"] == "1700"
    assert axhkd["rolling_24h_share"] == 0.425
    assert [(d["day"], d["approved"], d["transfers"]) for d in axhkd["days"]] == [
        ("2026-12-05", "0", 0),
        ("2026-12-06", "1000", 2),
        ("2026-12-07", "1000", 1),
    ]
    assert axhkd["days"][1]["share_of_max_total_24h"] == 0.25
    other = shown[1]
    assert other["in_pack"] is False and other["limits"]["max_total_24h"] is None
    assert other["rolling_24h_share"] is None


def test_a_pack_token_without_spends_is_still_listed_with_zero_days() -> None:
    (only,) = daily_volumes([], PACK, {}, NOW, 2)
    assert only["rolling_24h"] == "0"
    assert [d["approved"] for d in only["days"]] == ["0", "0"]


def test_the_spends_read_cover_the_days_and_the_window() -> None:
    assert first_day(NOW, 1) == NOW - 12 * 3600
    assert since_for(NOW, 1) == NOW - WINDOW_S + 1
    assert since_for(NOW, 7) == first_day(NOW, 7)


def _log(topic: bytes, account: bytes, block: int, index: int = 0) -> LogEntry:
    return LogEntry(
        address=Address(TOKEN),
        topics=(Hash32(topic), Hash32(b"\x00" * 12 + account)),
        data=b"",
        block_number=block,
        block_hash=Hash32(b"\x01" * 32),
        tx_hash=Hash32(block.to_bytes(32, "big")),
        log_index=index,
    )


def test_freezes_are_decoded_and_the_last_event_per_account_decides() -> None:
    alice, bob = b"\xaa" * 20, b"\xbb" * 20
    events = [
        decode_freeze(_log(FROZEN_TOPIC, alice, 10)),
        decode_freeze(_log(FROZEN_TOPIC, bob, 11)),
        decode_freeze(_log(UNFROZEN_TOPIC, alice, 12)),
    ]
    decoded = [e for e in events if e is not None]
    assert [(e.account, e.frozen) for e in decoded] == [(alice, True), (bob, True), (alice, False)]
    assert [e.account for e in frozen_now(decoded)] == [bob]
    assert decode_freeze(_log(b"\x11" * 32, alice, 1)) is None  # another event
    malformed = _log(FROZEN_TOPIC, alice, 1)
    bad_topic = LogEntry(
        malformed.address,
        (malformed.topics[0], Hash32(b"\x01" * 32)),  # not an address
        b"",
        1,
        malformed.block_hash,
        malformed.tx_hash,
        0,
    )
    assert decode_freeze(bad_topic) is None
