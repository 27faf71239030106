"""The aggregation rule (relayer/portal/aggregate.py): the set's state, attestations per
jurisdiction, refusals, release, conflicts and the ETA, from several validators' answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from portal_views import AE1, HK1, HK2, RELEASE, SG1, TID, view

from relayer.portal.aggregate import (
    PROGRESS,
    Found,
    Listed,
    NotFound,
    Source,
    Timing,
    Unreachable,
    aggregate_list,
    aggregate_transfer,
    merge_views,
    set_state,
)

ALL = [*PROGRESS, "released", "review", "refused", "vetoed", "cancelled", "refunded", "orphaned"]
SOURCES = [Source(f"v{i}", j, None) for i, j in enumerate(("HK", "HK", "SG"))]
TIMINGS = {71: Timing(20.0, 30.0, None), 11155111: Timing(10.0, 15.0, "https://x.io/tx/{hash}")}
OBSERVED = 1_796_637_600.0  # 2026-12-07T10:00:00Z


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        ([], "unknown"),
        (["observed", "confirmed"], "confirmed"),  # one lagging does not hold the set back
        (["attested", "quorum", "observed"], "quorum"),
        (["submitted", "delayed"], "delayed"),
        (["delayed", "released"], "released"),  # a chain outcome any validator saw wins
        (["refused", "attested"], "attested"),  # one refusal: listed, not followed
        (["refused", "refused"], "refused"),  # every validator that knows it refused
        (["review", "refused"], "refused"),
        (["vetoed", "refused"], "vetoed"),
        (["vetoed", "cancelled"], "cancelled"),
        (["cancelled", "refunded"], "refunded"),
        (["orphaned", "observed"], "observed"),
        (["orphaned", "orphaned"], "orphaned"),
        (["released", "cancelled"], "conflicting"),  # the contracts allow only one
    ],
)
def test_set_state_is_the_furthest_state_the_answers_agree_on(
    statuses: list[str], state: str
) -> None:
    assert set_state(statuses) == state


@given(st.lists(st.sampled_from(ALL), min_size=1, max_size=6))
def test_set_state_ignores_the_order_of_the_answers(statuses: list[str]) -> None:
    assert set_state(statuses) == set_state(list(reversed(statuses)))
    assert set_state(statuses) in {*statuses, "conflicting"}


@given(st.lists(st.sampled_from(PROGRESS), min_size=1, max_size=6), st.sampled_from(PROGRESS))
def test_one_more_validator_never_moves_the_set_backwards(statuses: list[str], extra: str) -> None:
    before = PROGRESS.index(set_state(statuses))
    assert PROGRESS.index(set_state([*statuses, extra])) >= before


def test_attestations_are_the_union_per_jurisdiction_with_the_earliest_arrival() -> None:
    first = view(
        "attested",
        [(HK1, "HK", "2026-12-07T10:00:05+00:00"), (SG1, "SG", "2026-12-07T10:00:09+00:00")],
    )
    second = view(
        "quorum",
        [
            (HK1, "HK", "2026-12-07T10:00:03+00:00"),  # earlier here: the earliest is shown
            (HK2, "HK", "2026-12-07T10:00:04+00:00"),
            (AE1, "AE", "2026-12-07T10:00:06+00:00"),
        ],
    )
    answers = [(SOURCES[0], Found(first)), (SOURCES[1], Found(second))]
    shown = aggregate_transfer(answers, TIMINGS, OBSERVED + 5)
    assert shown is not None
    assert shown["state"] == "quorum"
    by = shown["attestations"]["by_jurisdiction"]
    assert {j: [(s["validator"], s["at"]) for s in v] for j, v in by.items()} == {
        "HK": [(HK1, "2026-12-07T10:00:03+00:00"), (HK2, "2026-12-07T10:00:04+00:00")],
        "SG": [(SG1, "2026-12-07T10:00:09+00:00")],
        "AE": [(AE1, "2026-12-07T10:00:06+00:00")],
    }
    assert shown["attestations"]["count"] == 4
    assert shown["quorum"] == {"threshold": 3, "min_jurisdictions": 2, "reached": True}


def test_quorum_needs_the_jurisdictions_too() -> None:
    one = view("attested", [(HK1, "HK", "2026-12-07T10:00:05"), (HK2, "HK", "2026-12-07T10:00:06")])
    shown = aggregate_transfer([(SOURCES[0], Found(one))], TIMINGS, OBSERVED)
    assert shown is not None and shown["quorum"]["reached"] is False


def test_unreachable_and_unknowing_validators_are_listed_as_such() -> None:
    answers = [
        (SOURCES[0], Found(view("confirmed"))),
        (SOURCES[1], NotFound()),
        (SOURCES[2], Unreachable("no answer within 3.0s")),
    ]
    shown = aggregate_transfer(answers, TIMINGS, OBSERVED)
    assert shown is not None
    assert [(v["name"], v["answer"], v["status"], v["error"]) for v in shown["validators"]] == [
        ("v0", "found", "confirmed", None),
        ("v1", "not_found", None, None),
        ("v2", "unreachable", None, "no answer within 3.0s"),
    ]


def test_no_validator_knowing_the_transfer_is_none() -> None:
    answers = [(SOURCES[0], NotFound()), (SOURCES[1], Unreachable("refused"))]
    assert aggregate_transfer(answers, TIMINGS, OBSERVED) is None


def test_the_release_links_to_the_destination_explorer() -> None:
    done = view("released", release_tx=RELEASE, released_at="2026-12-07T10:01:00+00:00")
    shown = aggregate_transfer(
        [(SOURCES[0], Found(view("submitted"))), (SOURCES[1], Found(done))], TIMINGS, OBSERVED
    )
    assert shown is not None and shown["state"] == "released"
    assert shown["release"] == {
        "tx": RELEASE,
        "chain_id": 11155111,
        "explorer_url": f"https://x.io/tx/{RELEASE}",
        "at": "2026-12-07T10:01:00+00:00",
    }
    assert shown["eta"]["at"] is None and shown["eta"]["basis"] == "released: done"


def test_two_release_transactions_are_a_conflict() -> None:
    a = view("released", release_tx=RELEASE)
    b = view("released", release_tx="0x" + "ff" * 32)
    merged = merge_views([a, b])
    assert merged.state == "conflicting" and merged.release_tx is None
    assert merged.conflicts == ["validators name different release transactions"]


def test_validators_disagreeing_on_a_fact_is_listed() -> None:
    merged = merge_views([view("observed"), view("observed", amount="999")])
    assert merged.conflicts == ["amount differs between validators"]
    assert merged.facts["amount"] == "1000000"


def test_refusals_are_merged_once_per_validator_and_reason() -> None:
    refusal = {"validator": SG1, "jurisdiction": "SG", "reason": "sender_sanctioned"}
    other = {"validator": AE1, "jurisdiction": "AE", "reason": "amount_above_limit"}
    merged = merge_views(
        [view("refused", refusals=[refusal]), view("refused", refusals=[refusal, other])]
    )
    assert merged.refusals == [refusal, other]


def test_delayed_shows_the_latest_executable_at_and_its_eta() -> None:
    shown = aggregate_transfer(
        [
            (SOURCES[0], Found(view("delayed", executable_at=1_796_640_000))),
            (SOURCES[1], Found(view("submitted", executable_at=1_796_640_100))),
        ],
        TIMINGS,
        OBSERVED,
    )
    assert shown is not None and shown["delayed"] is True
    assert shown["executable_at"] == 1_796_640_100
    assert shown["eta"]["at"] == 1_796_640_100 + 15
    assert shown["eta"]["in_s"] == 1_796_640_115 - int(OBSERVED)


@pytest.mark.parametrize(
    ("status", "confirmed_at", "expected_at"),
    [
        ("observed", None, OBSERVED + 20 + 15),  # source confirmation + destination release
        ("attested", "2026-12-07T10:00:30+00:00", OBSERVED + 30 + 15),
        ("quorum", None, OBSERVED + 20 + 15),  # not stamped: as if confirmed on time
    ],
)
def test_eta_follows_the_chains_typical_timings(
    status: str, confirmed_at: str | None, expected_at: float
) -> None:
    one = view(status, confirmed_at=confirmed_at)
    shown = aggregate_transfer([(SOURCES[0], Found(one))], TIMINGS, OBSERVED)
    assert shown is not None
    assert shown["eta"]["at"] == int(expected_at) and shown["eta"]["overdue"] is False


def test_an_overdue_eta_is_now_and_says_so() -> None:
    shown = aggregate_transfer([(SOURCES[0], Found(view("observed")))], TIMINGS, OBSERVED + 999)
    assert shown is not None
    assert shown["eta"] == {
        "at": int(OBSERVED + 999),
        "in_s": 0,
        "overdue": True,
        "basis": "observed_at + source confirmation_s + destination release_s",
    }


def test_a_refused_transfer_has_no_eta() -> None:
    shown = aggregate_transfer([(SOURCES[0], Found(view("refused")))], TIMINGS, OBSERVED)
    assert shown is not None and shown["eta"]["at"] is None


def test_listings_merge_by_transfer_newest_first() -> None:
    older = view("released", release_tx=RELEASE)
    newer_id = "0x" + "12" * 32
    newer = view("observed", transfer_id=newer_id, observed_at="2026-12-07T11:00:00+00:00")
    newer_further = dict(newer, status="confirmed")
    answers = [
        (SOURCES[0], Listed((older, newer))),
        (SOURCES[1], Listed((newer_further,))),
        (SOURCES[2], Unreachable("HTTP 503")),
    ]
    shown = aggregate_list(answers, TIMINGS, OBSERVED, limit=10)
    assert [(t["transfer_id"], t["state"]) for t in shown["transfers"]] == [
        (newer_id, "confirmed"),
        (TID, "released"),
    ]
    assert [v["answer"] for v in shown["transfers"][1]["validators"]] == [
        "found",
        "not_found",
        "unreachable",
    ]
    assert [(v["answer"], v["error"]) for v in shown["validators"]] == [
        ("listed", None),
        ("listed", None),
        ("unreachable", "HTTP 503"),
    ]
    assert len(aggregate_list(answers, TIMINGS, OBSERVED, limit=1)["transfers"]) == 1


def test_a_malformed_answer_is_merged_as_far_as_it_makes_sense() -> None:
    broken = view(
        "observed",
        observed_at="yesterday",
        refusals=5,
        src_chain_id="71",
        attestations={"signers": ["x", {"jurisdiction": "HK"}, {"address": 3}]},
    )
    shown = aggregate_transfer(
        [(SOURCES[0], Found(broken)), (SOURCES[1], Found(view("observed")))], TIMINGS, OBSERVED
    )
    assert shown is not None
    assert shown["state"] == "observed"
    assert shown["observed_at"] == "2026-12-07T10:00:00+00:00"  # the one that parses
    assert shown["attestations"]["count"] == 0
    assert shown["conflicts"] == ["src_chain_id differs between validators"]
