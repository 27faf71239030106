"""Validator-set rotation, the pure part: building a set like the contract, the proposal's
id and digests, and where a rotation stands on a chain."""

from __future__ import annotations

from dataclasses import replace

import pytest
from domain_strategies import ADDRESSES, KEY_OF, addresses, jurisdictions
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.digest import validator_set_update_digest
from relayer.domain.quorum import SetRule, minimum_threshold, validate_set
from relayer.domain.rotation import (
    Applied,
    AwaitingQuorum,
    ChainTarget,
    ChangeFault,
    Expired,
    ReadyToSubmit,
    SetProposal,
    SetRefused,
    SetSignature,
    Superseded,
    build_set,
    proposal_from_json,
    proposal_to_json,
    propose,
    rotation_state,
    set_difference,
)
from relayer.domain.signature import recover_signer, sign_digest
from relayer.domain.types import ZERO_ADDRESS, Address, Hash32, Validator, ValidatorSet

HASH_A = Hash32(b"\xa1" * 32)
HASH_B = Hash32(b"\xb2" * 32)
CHAINS = (
    ChainTarget(1030, Address(b"\x0c" * 20), HASH_A),
    ChainTarget(31337, Address(b"\x0e" * 20), HASH_A),
)
CODES = ("HK", "SG", "AE", "HK", "SG")
FIVE = ValidatorSet(
    1,
    tuple(Validator(a, j) for a, j in zip(sorted(ADDRESSES[:5]), CODES, strict=True)),
    4,
    2,
)
SIXTH = ADDRESSES[5]


def _six() -> SetProposal:
    made = propose(FIVE, CHAINS, [(SIXTH, "TH")], [], 5, 3, 2_000, 1_000)
    assert isinstance(made, SetProposal)
    return made


def _signed(
    proposal: SetProposal, target: ChainTarget, signers: list[Address]
) -> list[SetSignature]:
    digest = proposal.digest(target)
    return [
        SetSignature(
            proposal.proposal_id, target.chain_id, s, digest, sign_digest(KEY_OF[s], digest)
        )
        for s in signers
    ]


# ------------------------------------------------------------------ building a set


@st.composite
def changes(draw: st.DrawFn) -> tuple[list[tuple[Address, str]], list[Address], int, int]:
    members = [m.address for m in FIVE.members]
    remove = draw(st.lists(st.sampled_from(members), unique=True, max_size=4))
    outsiders = [a for a in ADDRESSES if a not in members]
    add = [
        (a, draw(jurisdictions)) for a in draw(st.lists(st.sampled_from(outsiders), unique=True))
    ]
    return add, remove, draw(st.integers(0, 14)), draw(st.integers(0, 8))


@given(changes())
def test_build_set_refuses_exactly_what_the_contract_refuses(
    change: tuple[list[tuple[Address, str]], list[Address], int, int],
) -> None:
    add, remove, threshold, min_j = change
    built = build_set(FIVE, add, remove, threshold, min_j)
    kept = {m.address: m.jurisdiction for m in FIVE.members if m.address not in remove}
    kept.update(dict(add))
    order = sorted(kept)
    violation = validate_set(order, [kept[a] for a in order], threshold, min_j)
    if violation is not None:
        assert built == SetRefused(violation.rule.value, violation.detail)
        return
    if isinstance(built, SetRefused):
        assert built.rule == ChangeFault.NO_CHANGE
        assert not add and not remove and (threshold, min_j) == (4, 2)
        return
    assert built.set_id == FIVE.set_id + 1
    assert [m.address for m in built.members] == order  # strictly ascending, as the contract wants
    assert {m.address: m.jurisdiction for m in built.members} == kept
    assert (built.threshold, built.min_jurisdictions) == (threshold, min_j)
    assert minimum_threshold(len(order)) <= threshold <= len(order)


@given(addresses, jurisdictions)
def test_an_added_member_lands_in_address_order(address: Address, code: str) -> None:
    if address == ZERO_ADDRESS or FIVE.jurisdiction_of(address) is not None:
        return
    built = build_set(FIVE, [(address, code)], [], 5, 2)
    assert isinstance(built, ValidatorSet)
    assert [m.address for m in built.members] == sorted(
        [*(m.address for m in FIVE.members), address]
    )


@pytest.mark.parametrize(
    ("add", "remove", "threshold", "min_j", "rule"),
    [
        ([(SIXTH, "TH")], [], 4, 3, SetRule.THRESHOLD_TOO_LOW.value),
        ([(SIXTH, "TH")], [], 7, 3, SetRule.THRESHOLD_TOO_HIGH.value),
        ([(SIXTH, "TH")], [], 5, 5, SetRule.BAD_MIN_JURISDICTIONS.value),
        ([(SIXTH, "TH")], [], 5, 0, SetRule.BAD_MIN_JURISDICTIONS.value),
        ([(ZERO_ADDRESS, "TH")], [], 5, 3, ChangeFault.ZERO_ADDRESS),
        ([(SIXTH, "TH"), (SIXTH, "TH")], [], 5, 3, ChangeFault.ADDED_TWICE),
        ([(FIVE.members[0].address, "TH")], [], 5, 3, ChangeFault.ALREADY_MEMBER),
        ([(SIXTH, "th")], [], 5, 3, ChangeFault.BAD_JURISDICTION),
        ([], [SIXTH], 4, 2, ChangeFault.NOT_A_MEMBER),
        ([], [FIVE.members[0].address] * 2, 3, 2, ChangeFault.REMOVED_TWICE),
        ([], [m.address for m in FIVE.members], 1, 1, SetRule.SIZE.value),
        ([], [], 4, 2, ChangeFault.NO_CHANGE),
    ],
)
def test_build_set_names_the_rule_broken(
    add: list[tuple[Address, str]], remove: list[Address], threshold: int, min_j: int, rule: str
) -> None:
    refused = build_set(FIVE, add, remove, threshold, min_j)
    assert isinstance(refused, SetRefused) and refused.rule == rule and refused.detail


def test_propose_refuses_a_deadline_not_in_the_future() -> None:
    refused = propose(FIVE, CHAINS, [(SIXTH, "TH")], [], 5, 3, 1_000, 1_000)
    assert isinstance(refused, SetRefused) and refused.rule == ChangeFault.DEADLINE_PASSED


def test_set_difference_names_what_differs() -> None:
    assert set_difference(FIVE, FIVE) is None
    assert set_difference(FIVE, replace(FIVE, threshold=5)) == "threshold 4 vs 5"
    assert set_difference(FIVE, replace(FIVE, set_id=2)) == "set id 1 vs 2"
    assert set_difference(FIVE, replace(FIVE, members=FIVE.members[:4])) is not None


# ------------------------------------------------------------------ the proposal


def test_proposal_digests_are_the_contracts_validator_set_updates() -> None:
    proposal = _six()
    assert [c.chain_id for c in proposal.chains] == [1030, 31337]
    for target in proposal.chains:
        assert proposal.digest(target) == validator_set_update_digest(
            target.domain,
            2,
            HASH_A,
            2_000,
            [m.address for m in proposal.members],
            [m.jurisdiction for m in proposal.members],
            5,
            3,
        )
    assert len(set(proposal.digests().values())) == 2  # each chain's domain differs


@given(st.sampled_from(["deadline", "threshold", "hash", "chain", "member"]))
def test_the_proposal_id_covers_every_field(field: str) -> None:
    proposal = _six()
    other = {
        "deadline": replace(proposal, deadline=2_001),
        "threshold": replace(proposal, threshold=6),
        "hash": replace(
            proposal,
            chains=(proposal.chains[0], replace(proposal.chains[1], replaced_set_hash=HASH_B)),
        ),
        "chain": replace(proposal, chains=proposal.chains[:1]),
        "member": replace(
            proposal,
            members=tuple(
                replace(m, jurisdiction="JP") if m.address == SIXTH else m for m in proposal.members
            ),
        ),
    }[field]
    assert other.proposal_id != proposal.proposal_id


def test_a_proposal_survives_its_json_and_refuses_a_wrong_id() -> None:
    proposal = _six()
    body = proposal_to_json(proposal)
    assert proposal_from_json(body) == proposal
    with pytest.raises(ValueError, match="proposal_id"):
        proposal_from_json({**body, "deadline": 2_001})


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"threshold": 2}, "ThresholdTooLow"),
        ({"set_id": 0}, "set_id"),
        ({"deadline": 2**64}, "deadline"),
        ({"chains": ()}, "chains"),
        ({"chains": (CHAINS[1], CHAINS[0])}, "chains"),
    ],
)
def test_a_proposal_the_contract_would_refuse_cannot_be_made(
    change: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        replace(_six(), **change)  # type: ignore[arg-type]


# ------------------------------------------------------------------ where it stands


def test_rotation_state_waits_for_a_quorum_of_the_current_set() -> None:
    proposal = _six()
    target = proposal.chains[1]
    members = sorted(m.address for m in FIVE.members)
    three = _signed(proposal, target, members[:3])
    state = rotation_state(proposal, target, FIVE, HASH_A, 1_500, three)
    assert isinstance(state, AwaitingQuorum) and state.shortfall.have == 3
    # the sixth (not yet a member) never counts; another chain's signatures neither
    extra = _signed(proposal, target, [SIXTH]) + _signed(proposal, proposal.chains[0], members[3:])
    state = rotation_state(proposal, target, FIVE, HASH_A, 1_500, three + extra)
    assert isinstance(state, AwaitingQuorum)
    four = _signed(proposal, target, members[:4])
    ready = rotation_state(proposal, target, FIVE, HASH_A, 2_000, four)
    assert isinstance(ready, ReadyToSubmit)
    assert ready.quorum.signers == tuple(members[:4])
    chunks = [ready.quorum.bundle[i : i + 65] for i in range(0, len(ready.quorum.bundle), 65)]
    digest = proposal.digest(target)
    assert [recover_signer(digest, c) for c in chunks] == members[:4]


def test_rotation_state_final_states() -> None:
    proposal = _six()
    target = proposal.chains[0]
    four = _signed(proposal, target, sorted(m.address for m in FIVE.members)[:4])
    assert rotation_state(proposal, target, FIVE, HASH_A, 2_001, four) == Expired(2_000)
    assert (
        rotation_state(proposal, target, proposal.validator_set, HASH_B, 2_001, four) == Applied()
    )
    # threshold-only rotations keep the set hash: the set id says it was applied
    assert rotation_state(proposal, target, proposal.validator_set, HASH_A, 1_500, ()) == Applied()
    other = replace(proposal.validator_set, threshold=6)
    assert rotation_state(proposal, target, other, HASH_B, 1_500, four) == Superseded(2)
    assert rotation_state(proposal, target, FIVE, HASH_B, 1_500, four) == Superseded(1)
    three = replace(FIVE, set_id=3)
    assert rotation_state(proposal, target, three, HASH_A, 1_500, four) == Superseded(3)
