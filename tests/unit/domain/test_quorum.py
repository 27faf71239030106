"""The quorum rule against a brute-force reference, and the set rules of the contract."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from domain_strategies import ADDRESSES, KEY_OF, jurisdictions
from hypothesis import assume, given
from hypothesis import strategies as st

from relayer.domain.quorum import (
    QuorumMet,
    QuorumNotMet,
    QuorumShortfall,
    SetRule,
    evaluate_quorum,
    minimum_threshold,
    validate_set,
    validate_validator_set,
)
from relayer.domain.signature import recover_signer, sign_digest
from relayer.domain.types import Address, Attestation, Hash32, Validator, ValidatorSet

DIGEST = Hash32(b"\xd1" * 32)
OTHER = Hash32(b"\xd2" * 32)
TID = Hash32(b"\x01" * 32)


def _attest(signer: Address, digest: Hash32 = DIGEST) -> Attestation:
    return Attestation(TID, digest, signer, sign_digest(KEY_OF[signer], digest))


@dataclass(frozen=True)
class Scenario:
    validator_set: ValidatorSet
    attestations: tuple[Attestation, ...]
    honest: frozenset[Address]  # member signers with a valid signature over DIGEST


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    pool = sorted(ADDRESSES)
    member_addrs = sorted(draw(st.lists(st.sampled_from(pool), min_size=1, unique=True)))
    members = tuple(Validator(a, draw(jurisdictions)) for a in member_addrs)
    n = len(members)
    distinct = len({m.jurisdiction for m in members})
    threshold = draw(st.integers(minimum_threshold(n), n))
    min_j = draw(st.integers(1, distinct))
    vset = ValidatorSet(1, members, threshold, min_j)
    attestations: list[Attestation] = []
    honest: set[Address] = set()
    for signer in draw(st.lists(st.sampled_from(pool), max_size=16)):
        kind = draw(st.sampled_from(["good", "other_digest", "forged", "good"]))
        if kind == "good":
            attestations.append(_attest(signer))
            if signer in member_addrs:
                honest.add(signer)
        elif kind == "other_digest":
            attestations.append(_attest(signer, OTHER))
        else:  # claims `signer` but is signed by someone else
            impostor = pool[(pool.index(signer) + 1) % len(pool)]
            real = _attest(impostor)
            attestations.append(Attestation(TID, DIGEST, signer, real.signature))
    return Scenario(vset, tuple(attestations), frozenset(honest))


def _reference(vset: ValidatorSet, honest: frozenset[Address]) -> bool:
    """Brute force: does any subset of honest signers pass the contract's two rules?"""
    juris = {m.address: m.jurisdiction for m in vset.members}
    best = {juris[s] for s in honest}
    return len(honest) >= vset.threshold and len(best) >= vset.min_jurisdictions


@given(scenarios())
def test_quorum_agrees_with_brute_force(scenario: Scenario) -> None:
    vset = scenario.validator_set
    outcome = evaluate_quorum(vset, DIGEST, scenario.attestations)
    assert isinstance(outcome, QuorumMet) == _reference(vset, scenario.honest)
    present = frozenset(j for s in scenario.honest if (j := vset.jurisdiction_of(s)))
    if isinstance(outcome, QuorumNotMet):
        assert outcome.jurisdictions == present
        if outcome.reason is QuorumShortfall.BELOW_THRESHOLD:
            assert (outcome.have, outcome.need) == (len(scenario.honest), vset.threshold)
        else:
            assert (outcome.have, outcome.need) == (len(present), vset.min_jurisdictions)
        return
    # The bundle passes the contract's check and is as small as possible.
    signers = outcome.signers
    assert list(signers) == sorted(set(signers))
    assert set(signers) <= scenario.honest
    assert len(signers) == max(vset.threshold, vset.min_jurisdictions)
    assert len({vset.jurisdiction_of(s) for s in signers}) >= vset.min_jurisdictions
    assert outcome.jurisdictions == {vset.jurisdiction_of(s) for s in signers}
    assert len(outcome.bundle) == 65 * len(signers)
    for i, signer in enumerate(signers):
        assert recover_signer(DIGEST, outcome.bundle[65 * i : 65 * i + 65]) == signer


@given(scenarios(), st.randoms(use_true_random=False))
def test_quorum_ignores_order_and_duplicates(scenario: Scenario, rnd: random.Random) -> None:
    shuffled = list(scenario.attestations) * 2
    rnd.shuffle(shuffled)
    vset = scenario.validator_set
    once = evaluate_quorum(vset, DIGEST, scenario.attestations)
    twice = evaluate_quorum(vset, DIGEST, shuffled)
    assert type(once) is type(twice)
    if isinstance(once, QuorumMet) and isinstance(twice, QuorumMet):
        assert once.signers == twice.signers
        assert once.bundle == twice.bundle


def _set(*juris: str, threshold: int, min_j: int) -> ValidatorSet:
    members = tuple(Validator(a, j) for a, j in zip(sorted(ADDRESSES), juris, strict=False))
    return ValidatorSet(1, members, threshold, min_j)


def test_quorum_reports_missing_jurisdictions() -> None:
    vset = _set("HK", "HK", "HK", "SG", threshold=3, min_j=2)
    hk = [m.address for m in vset.members if m.jurisdiction == "HK"]
    outcome = evaluate_quorum(vset, DIGEST, [_attest(a) for a in hk])
    assert outcome == QuorumNotMet(QuorumShortfall.TOO_FEW_JURISDICTIONS, 1, 2, frozenset({"HK"}))


def test_minimal_bundle_picks_jurisdictions_first() -> None:
    vset = _set("HK", "HK", "HK", "SG", threshold=3, min_j=2)
    outcome = evaluate_quorum(vset, DIGEST, [_attest(m.address) for m in vset.members])
    assert isinstance(outcome, QuorumMet)
    addrs = [m.address for m in vset.members]
    assert outcome.signers == (addrs[0], addrs[1], addrs[3])


def test_non_members_never_count() -> None:
    vset = _set("HK", threshold=1, min_j=1)
    outsider = sorted(ADDRESSES)[5]
    outcome = evaluate_quorum(vset, DIGEST, [_attest(outsider)])
    assert outcome == QuorumNotMet(QuorumShortfall.BELOW_THRESHOLD, 0, 1, frozenset())


# ------------------------------------------------------------------ validate_set

A = sorted(ADDRESSES)


@pytest.mark.parametrize(
    ("members", "juris", "threshold", "min_j", "rule", "index"),
    [
        ([], [], 1, 1, SetRule.SIZE, None),
        ([Address(i.to_bytes(20, "big")) for i in range(1, 34)], ["HK"] * 33, 23, 1,
         SetRule.SIZE, None),
        (A[:2], ["HK"], 2, 1, SetRule.LENGTH_MISMATCH, None),
        ([Address(bytes(20)), A[0]], ["HK", "SG"], 2, 1, SetRule.ZERO_MEMBER, 0),
        ([A[0], A[0]], ["HK", "SG"], 2, 1, SetRule.DUPLICATE_MEMBER, 1),
        ([A[1], A[0]], ["HK", "SG"], 2, 1, SetRule.NOT_ASCENDING, 1),
        (A[:2], ["HK", "sg"], 2, 1, SetRule.BAD_JURISDICTION, 1),
        (A[:3], ["HK", "SG", "CH"], 2, 1, SetRule.THRESHOLD_TOO_LOW, None),
        (A[:3], ["HK", "SG", "CH"], 4, 1, SetRule.THRESHOLD_TOO_HIGH, None),
        (A[:3], ["HK", "SG", "CH"], 3, 0, SetRule.BAD_MIN_JURISDICTIONS, None),
        (A[:3], ["HK", "SG", "HK"], 3, 3, SetRule.BAD_MIN_JURISDICTIONS, None),
    ],
)  # fmt: skip
def test_validate_set_names_the_contract_error(
    members: list[Address],
    juris: list[str],
    threshold: int,
    min_j: int,
    rule: SetRule,
    index: int | None,
) -> None:
    violation = validate_set(members, juris, threshold, min_j)
    assert violation is not None
    assert (violation.rule, violation.index) == (rule, index)


@given(st.integers(1, 12), st.data())
def test_validate_set_accepts_exactly_the_legal_thresholds(n: int, data: st.DataObject) -> None:
    assume(n <= len(A))
    juris = data.draw(st.lists(jurisdictions, min_size=n, max_size=n))
    threshold = data.draw(st.integers(0, 40))
    min_j = data.draw(st.integers(0, 8))
    violation = validate_set(A[:n], juris, threshold, min_j)
    legal = (2 * n) // 3 + 1 <= threshold <= n and 1 <= min_j <= len(set(juris))
    assert (violation is None) == legal
    if violation is None:
        members = tuple(Validator(a, j) for a, j in zip(A[:n], juris, strict=True))
        assert validate_validator_set(ValidatorSet(1, members, threshold, min_j)) is None
