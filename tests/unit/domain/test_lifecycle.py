"""The transfer lifecycle: the happy path, edge cases, and invariants over random inputs."""

from __future__ import annotations

from dataclasses import replace

from domain_strategies import KEYS, TOKEN, source_event
from hypothesis import given, settings
from hypothesis import strategies as st

from relayer.domain.lifecycle import decide, step
from relayer.domain.policy import Approved, NeedsReview, Policy, RefusalReason, Refused
from relayer.domain.quorum import QuorumMet
from relayer.domain.signature import address_of_private_key, sign_digest
from relayer.domain.transfer import (
    AlreadyReleased,
    CancelledOnDestination,
    CancelQuorumReached,
    CheckPolicy,
    CheckQuorum,
    Confirmed,
    DelayedOnDestination,
    ExecuteDelayed,
    HaltSigning,
    Input,
    Observed,
    Orphaned,
    OwnSignature,
    PolicyDecided,
    PublishAttestation,
    QuorumReached,
    RefundedOnSource,
    RefundQuorumReached,
    Rejected,
    ReleaseConfirmed,
    RetryRequested,
    Reviewed,
    SignCancel,
    SignRefund,
    SignRelease,
    SubmissionSent,
    SubmitCancel,
    SubmitRefund,
    SubmitRelease,
    TransferState,
    TransferStatus,
    Transition,
    Vetoed,
)
from relayer.domain.types import Address, Attestation, EvmDomain, Hash32

S = TransferStatus
EVENT = source_event(token=TOKEN)
TID = EVENT.transfer_id
MIRROR = Address(b"\xe1" * 20)
ROUTES = {(1030, TOKEN): (1, MIRROR)}
DOMAINS = {1: EvmDomain(1, Address(b"\x9a" * 20))}
POLICY = Policy(allowed_tokens=frozenset({(1030, TOKEN)}))
APPROVAL = decide(POLICY, ROUTES, DOMAINS, EVENT)
assert APPROVAL.release is not None
assert APPROVAL.digest is not None
RELEASE, DIGEST = APPROVAL.release, APPROVAL.digest
REFUSAL = PolicyDecided(TID, Refused(RefusalReason.SENDER_DENIED, "denied"))
HOLD = PolicyDecided(TID, NeedsReview("amount 9 is above the review threshold 5"))
APPROVED_BY_REVIEWER = Reviewed(TID, True, "alice", "KYC checked")
REJECTED_BY_REVIEWER = Reviewed(TID, False, "bob", "source of funds unclear")
OWN = Attestation(TID, DIGEST, address_of_private_key(KEYS[0]), sign_digest(KEYS[0], DIGEST))
OTHER_DIGEST = Hash32(b"\x0d" * 32)
QUORUM = QuorumMet(DIGEST, OWN.signature, (OWN.signer,), frozenset({"HK"}))
QUORUM_2 = QuorumMet(DIGEST, b"\x01" * 65, (OWN.signer,), frozenset({"HK"}))
BAD_QUORUM = QuorumMet(OTHER_DIGEST, b"\x02" * 65, (OWN.signer,), frozenset({"HK"}))
TX1, TX2 = Hash32(b"\x71" * 32), Hash32(b"\x72" * 32)


def _run(inputs: list[Input]) -> TransferState:
    state: TransferState | None = None
    for item in inputs:
        outcome = step(state, item)
        assert isinstance(outcome, Transition), outcome
        state = outcome.state
    assert state is not None
    return state


def _effects(state: TransferState | None, item: Input) -> tuple[object, ...]:
    outcome = step(state, item)
    assert isinstance(outcome, Transition), outcome
    return outcome.effects


def test_happy_path() -> None:
    observed = _run([Observed(EVENT)])
    assert observed.status is S.OBSERVED
    assert _effects(observed, Confirmed(EVENT)) == (CheckPolicy(EVENT),)
    confirmed = _run([Observed(EVENT), Confirmed(EVENT)])
    assert _effects(confirmed, APPROVAL) == (SignRelease(TID, 1, RELEASE, DIGEST),)
    approved = _run([Confirmed(EVENT), APPROVAL])
    assert (approved.status, approved.sign_requested) == (S.CONFIRMED, True)
    assert _effects(approved, OwnSignature(OWN)) == (
        PublishAttestation(OWN),
        CheckQuorum(TID, 1, DIGEST),
    )
    attested = _run([Confirmed(EVENT), APPROVAL, OwnSignature(OWN)])
    assert _effects(attested, QuorumReached(TID, QUORUM)) == (
        SubmitRelease(TID, 1, RELEASE, QUORUM.bundle),
    )
    final = _run(
        [
            Observed(EVENT),
            Confirmed(EVENT),
            APPROVAL,
            OwnSignature(OWN),
            QuorumReached(TID, QUORUM),
            SubmissionSent(TID, TX1),
            ReleaseConfirmed(TID, TX1),
        ]
    )
    assert (final.status, final.tx_hash) == (S.RELEASED, TX1)


def test_refused_transfer_is_never_signed() -> None:
    refused = _run([Confirmed(EVENT), REFUSAL])
    assert refused.status is S.REFUSED
    assert refused.refusal == REFUSAL.decision
    assert isinstance(step(refused, APPROVAL), Rejected)


def test_second_approval_does_not_sign_again() -> None:
    approved = _run([Confirmed(EVENT), APPROVAL])
    outcome = step(approved, APPROVAL)
    assert outcome == Rejected(S.CONFIRMED, "PolicyDecided", "policy already decided")


def test_policy_before_confirmation_is_rejected() -> None:
    assert isinstance(step(_run([Observed(EVENT)]), APPROVAL), Rejected)
    assert isinstance(step(None, APPROVAL), Rejected)


def test_reorg_before_confirmation_orphans_and_reobservation_revives() -> None:
    orphaned = _run([Observed(EVENT), Orphaned(TID)])
    assert orphaned.status is S.ORPHANED
    moved = replace(EVENT, block_hash=Hash32(b"\xb2" * 32), block_number=101)
    revived = _run([Observed(EVENT), Orphaned(TID), Observed(moved)])
    assert (revived.status, revived.event) == (S.OBSERVED, moved)


def test_reorg_of_a_confirmed_unsigned_transfer_orphans_it() -> None:
    confirmed = _run([Confirmed(EVENT)])  # e.g. its chain halted before the policy ran
    outcome = step(confirmed, Orphaned(TID))
    assert isinstance(outcome, Transition)
    assert outcome.state.status is S.ORPHANED
    assert outcome.effects == ()


def test_a_refused_transfer_reorged_out_stays_refused_and_is_never_signed() -> None:
    refused = _run([Confirmed(EVENT), REFUSAL, Orphaned(TID)])
    assert refused.status is S.REFUSED
    again = _run([Confirmed(EVENT), REFUSAL, Orphaned(TID), Observed(EVENT), Confirmed(EVENT)])
    assert again.status is S.REFUSED
    assert isinstance(step(again, APPROVAL), Rejected)


def test_reorg_after_signing_halts_without_changing_state() -> None:
    attested = _run([Confirmed(EVENT), APPROVAL, OwnSignature(OWN)])
    outcome = step(attested, Orphaned(TID))
    assert isinstance(outcome, Transition)
    assert outcome.state == attested
    assert [type(e) for e in outcome.effects] == [HaltSigning]


def test_conflicting_event_after_confirmation_halts() -> None:
    confirmed = _run([Confirmed(EVENT)])
    outcome = step(confirmed, Observed(replace(EVENT, amount=1)))
    assert isinstance(outcome, Transition)
    assert [type(e) for e in outcome.effects] == [HaltSigning]
    assert step(confirmed, Confirmed(EVENT)) == Transition(confirmed)  # a replay


def test_quorum_over_another_digest_is_rejected() -> None:
    attested = _run([Confirmed(EVENT), APPROVAL, OwnSignature(OWN)])
    assert isinstance(step(attested, QuorumReached(TID, BAD_QUORUM)), Rejected)


def test_quorum_by_peers_before_own_signature() -> None:
    quorum = _run([Confirmed(EVENT), APPROVAL, QuorumReached(TID, QUORUM)])
    assert quorum.status is S.QUORUM
    assert _effects(quorum, OwnSignature(OWN)) == (PublishAttestation(OWN),)


def test_released_elsewhere_and_terminal() -> None:
    released = _run([Confirmed(EVENT), APPROVAL, AlreadyReleased(TID)])
    assert released.status is S.RELEASED
    assert isinstance(step(released, OwnSignature(OWN)), Rejected)
    assert step(released, ReleaseConfirmed(TID, TX2)) == Transition(released)


SUBMITTED = [Confirmed(EVENT), APPROVAL, OwnSignature(OWN), QuorumReached(TID, QUORUM)]
AT = 1_800_000_000


def test_delayed_on_destination_executes_when_due_then_released() -> None:
    submitted = _run([*SUBMITTED, SubmissionSent(TID, TX1)])
    assert _effects(submitted, DelayedOnDestination(TID, AT)) == (ExecuteDelayed(TID, 1, AT),)
    delayed = _run([*SUBMITTED, SubmissionSent(TID, TX1), DelayedOnDestination(TID, AT)])
    assert (delayed.status, delayed.executable_at) == (S.DELAYED, AT)
    assert step(delayed, DelayedOnDestination(TID, AT)) == Transition(delayed)  # a replay
    assert isinstance(step(delayed, DelayedOnDestination(TID, AT + 1)), Rejected)
    # the destination already holds the release: no new submission
    assert isinstance(step(delayed, QuorumReached(TID, QUORUM_2)), Rejected)
    assert isinstance(step(delayed, SubmissionSent(TID, TX2)), Rejected)
    released = _run([*SUBMITTED, DelayedOnDestination(TID, AT), ReleaseConfirmed(TID, TX2)])
    assert (released.status, released.tx_hash, released.executable_at) == (S.RELEASED, TX2, AT)
    assert isinstance(step(released, DelayedOnDestination(TID, AT)), Rejected)


def test_a_retry_asks_again_for_what_the_transfer_waits_on_and_changes_nothing() -> None:
    attested = _run([Confirmed(EVENT), APPROVAL, OwnSignature(OWN)])
    assert _effects(attested, RetryRequested(TID)) == (PublishAttestation(OWN),)
    quorum = _run(SUBMITTED)
    submit = SubmitRelease(TID, 1, RELEASE, QUORUM.bundle)
    assert _effects(quorum, RetryRequested(TID)) == (PublishAttestation(OWN), submit)
    submitted = _run([*SUBMITTED, SubmissionSent(TID, TX1)])
    assert step(submitted, RetryRequested(TID)) == Transition(
        submitted, (PublishAttestation(OWN), submit)
    )
    delayed = _run([*SUBMITTED, DelayedOnDestination(TID, AT)])
    assert _effects(delayed, RetryRequested(TID)) == (ExecuteDelayed(TID, 1, AT),)


def test_a_retry_of_a_final_refused_or_unsigned_transfer_is_rejected_with_why() -> None:
    cases = {
        "already released": _run([*SUBMITTED, ReleaseConfirmed(TID, TX1)]),
        "refused by this validator's policy": _run([Confirmed(EVENT), REFUSAL]),
        "not signed yet": _run([Confirmed(EVENT)]),
        "vetoed": _run([*SUBMITTED, Vetoed(TID, "alice", "court order")]),
        "not approved by our policy": _run(
            [Confirmed(EVENT), REFUSAL, DelayedOnDestination(TID, AT)]
        ),
    }
    for why, state in cases.items():
        outcome = step(state, RetryRequested(TID))
        assert isinstance(outcome, Rejected), why
        assert why in outcome.reason, outcome
    assert isinstance(step(None, RetryRequested(TID)), Rejected)


def test_delayed_transfer_we_refused_is_not_executed_by_us() -> None:
    refused = _run([Confirmed(EVENT), REFUSAL])
    outcome = step(refused, DelayedOnDestination(TID, AT))
    assert isinstance(outcome, Transition)
    assert (outcome.state.status, outcome.effects) == (S.DELAYED, ())
    assert outcome.state.refusal == REFUSAL.decision
    assert isinstance(step(None, DelayedOnDestination(TID, AT)), Rejected)


def test_cancelled_is_terminal_and_never_submitted_again() -> None:
    for before in (SUBMITTED, [*SUBMITTED, DelayedOnDestination(TID, AT)], [Confirmed(EVENT)]):
        cancelled = _run([*before, CancelledOnDestination(TID)])
        assert cancelled.status is S.CANCELLED
        assert step(cancelled, CancelledOnDestination(TID)) == Transition(cancelled)
        assert isinstance(step(cancelled, QuorumReached(TID, QUORUM_2)), Rejected)
        assert isinstance(step(cancelled, DelayedOnDestination(TID, AT)), Rejected)
        assert isinstance(step(cancelled, SubmissionSent(TID, TX1)), Rejected)
        executed = step(cancelled, ReleaseConfirmed(TID, TX1))  # impossible on-chain: halt
        assert isinstance(executed, Transition)
        assert executed.state == cancelled
        assert [type(e) for e in executed.effects] == [HaltSigning]
    released = _run([*SUBMITTED, ReleaseConfirmed(TID, TX1)])
    assert isinstance(step(released, CancelledOnDestination(TID)), Rejected)
    assert isinstance(step(None, CancelledOnDestination(TID)), Rejected)


def test_input_for_another_transfer_is_rejected() -> None:
    confirmed = _run([Confirmed(EVENT)])
    outcome = step(confirmed, Orphaned(Hash32(b"\x02" * 32)))
    assert isinstance(outcome, Rejected)
    assert (outcome.status, outcome.input) == (S.CONFIRMED, "Orphaned")


def test_a_transfer_held_for_review_is_not_signed_until_a_reviewer_approves() -> None:
    held = _run([Confirmed(EVENT), HOLD])
    assert (held.status, held.review, held.sign_requested) == (
        S.REVIEW,
        HOLD.decision.detail,
        False,
    )  # type: ignore[union-attr]
    assert _effects(_run([Confirmed(EVENT)]), HOLD) == ()
    # approved: back to confirmed, and the policy runs again with the review passed
    assert _effects(held, APPROVED_BY_REVIEWER) == (CheckPolicy(EVENT, reviewed=True),)
    again = _run([Confirmed(EVENT), HOLD, APPROVED_BY_REVIEWER])
    assert (again.status, again.review) == (S.CONFIRMED, None)
    signed = _run([Confirmed(EVENT), HOLD, APPROVED_BY_REVIEWER, APPROVAL])
    assert signed.sign_requested
    # a quorum cannot carry it past review: there is no approved release to submit
    assert isinstance(step(held, QuorumReached(TID, QUORUM)), Rejected)
    assert isinstance(step(held, APPROVAL), Rejected)  # policy is decided only when confirmed


def test_a_transfer_rejected_by_a_reviewer_is_refused_with_who_and_why() -> None:
    refused = _run([Confirmed(EVENT), HOLD, REJECTED_BY_REVIEWER])
    assert refused.status is S.REFUSED and refused.review is None
    assert refused.refusal == Refused(
        RefusalReason.REVIEW_REJECTED, "rejected by bob: source of funds unclear"
    )
    assert _effects(_run([Confirmed(EVENT), HOLD]), REJECTED_BY_REVIEWER) == ()


def test_a_review_is_only_for_a_held_transfer_and_only_once() -> None:
    for before in (
        [],
        [Confirmed(EVENT)],
        [Confirmed(EVENT), APPROVAL],
        [Confirmed(EVENT), REFUSAL],
    ):
        state = _run(before) if before else None
        outcome = step(state, APPROVED_BY_REVIEWER)
        assert isinstance(outcome, Rejected)
        assert outcome.reason == "only a transfer held for review can be reviewed"
    decided = _run([Confirmed(EVENT), HOLD, REJECTED_BY_REVIEWER])
    assert isinstance(step(decided, APPROVED_BY_REVIEWER), Rejected)


def test_a_held_transfer_reorged_out_is_orphaned_and_the_destination_still_counts() -> None:
    orphaned = _run([Confirmed(EVENT), HOLD, Orphaned(TID)])
    assert (orphaned.status, orphaned.review) == (S.ORPHANED, None)
    released = _run([Confirmed(EVENT), HOLD, ReleaseConfirmed(TID, TX1)])
    assert released.status is S.RELEASED  # the others released it: we never signed
    delayed = step(_run([Confirmed(EVENT), HOLD]), DelayedOnDestination(TID, AT))
    assert isinstance(delayed, Transition) and delayed.effects == ()  # we do not execute it


def test_decide_refuses_without_route_or_contract() -> None:
    assert isinstance(APPROVAL.decision, Approved)
    no_domain = decide(POLICY, ROUTES, {}, EVENT)
    assert isinstance(no_domain.decision, Refused)
    assert no_domain.decision.reason is RefusalReason.NO_ROUTE
    no_route = decide(POLICY, {}, DOMAINS, EVENT)
    assert isinstance(no_route.decision, Refused)
    assert no_route.decision.reason is RefusalReason.NO_ROUTE
    denied = decide(Policy(allowed_tokens=frozenset()), ROUTES, DOMAINS, EVENT)
    assert isinstance(denied.decision, Refused)
    assert denied.release is None


# ------------------------------------------------------------- random input runs

UNIVERSE: tuple[Input, ...] = (
    Observed(EVENT),
    Observed(replace(EVENT, block_hash=Hash32(b"\xb2" * 32))),
    Observed(replace(EVENT, amount=1)),
    Confirmed(EVENT),
    Confirmed(replace(EVENT, amount=1)),
    Orphaned(TID),
    APPROVAL,
    REFUSAL,
    PolicyDecided(TID, Approved()),  # malformed: no release
    OwnSignature(OWN),
    OwnSignature(replace(OWN, digest=OTHER_DIGEST)),
    QuorumReached(TID, QUORUM),
    QuorumReached(TID, QUORUM_2),
    QuorumReached(TID, BAD_QUORUM),
    SubmissionSent(TID, TX1),
    SubmissionSent(TID, TX2),
    ReleaseConfirmed(TID, TX1),
    AlreadyReleased(TID),
    DelayedOnDestination(TID, AT),
    DelayedOnDestination(TID, AT + 60),
    CancelledOnDestination(TID),
    HOLD,
    APPROVED_BY_REVIEWER,
    REJECTED_BY_REVIEWER,
    Vetoed(TID, "alice", "court order"),
    Vetoed(TID, "auto", "refused by 2 of 5"),
    CancelQuorumReached(TID, b"\x03" * 65),
    RefundQuorumReached(TID, b"\x04" * 65),
    RefundedOnSource(TID),
    RetryRequested(TID),
)


@settings(max_examples=600)
@given(st.lists(st.sampled_from(UNIVERSE), max_size=30))
def test_invariants_hold_for_any_input_sequence(inputs: list[Input]) -> None:
    state: TransferState | None = None
    signed = 0
    ever_refused = False
    ever_vetoed = False
    ever_released = False
    ever_final: TransferStatus | None = None
    for item in inputs:
        before = state
        outcome = step(state, item)
        if isinstance(outcome, Rejected):
            assert outcome.status == (None if before is None else before.status)
            continue
        state = outcome.state
        if isinstance(item, RetryRequested):  # asks for effects again, never changes state
            assert state == before
            assert not any(isinstance(e, SignRelease | HaltSigning) for e in outcome.effects)
        for effect in outcome.effects:
            if isinstance(effect, SignRelease):
                signed += 1
                # only from a confirmed, freshly approved transfer, never a refused one
                assert before is not None
                assert before.status is S.CONFIRMED
                assert not ever_refused
                assert isinstance(item, PolicyDecided)
                assert isinstance(item.decision, Approved)
                assert effect.digest == DIGEST
            if isinstance(effect, SubmitRelease):
                assert state.quorum is not None
                assert state.quorum.digest == state.digest == DIGEST
                assert effect.bundle == state.quorum.bundle
                assert effect.release == state.release
            if isinstance(effect, SubmitRelease):  # never once the destination holds it
                assert before is None or before.status not in (S.DELAYED, S.CANCELLED)
                assert ever_final is None
            if isinstance(effect, ExecuteDelayed):
                assert state.status is S.DELAYED
                assert state.release is not None and not ever_refused
                assert effect.executable_at == state.executable_at
            if isinstance(effect, HaltSigning):
                assert state == before
            if isinstance(effect, SubmitRelease):  # a veto stops our own releases for good
                assert not ever_vetoed and state.status is not S.VETOED
            if isinstance(effect, SignCancel):  # only a veto signs Cancel, once
                assert isinstance(item, Vetoed) and state.status is S.VETOED
                assert before is not None and before.status is not S.VETOED
            if isinstance(effect, SubmitCancel):
                assert isinstance(item, CancelQuorumReached) and state.status is S.VETOED
            if isinstance(effect, SignRefund):  # only once the destination cancelled it
                assert isinstance(item, CancelledOnDestination) and state.status is S.CANCELLED
                assert not ever_released and before is not None
                assert before.status not in (S.CANCELLED, S.REFUNDED, S.OBSERVED)
            if isinstance(effect, SubmitRefund):
                assert state.status is S.CANCELLED and not ever_released
        ever_refused = ever_refused or state.status is S.REFUSED
        ever_vetoed = ever_vetoed or state.status is S.VETOED
        ever_released = ever_released or state.status is S.RELEASED
        if before is not None and before.status in (S.RELEASED, S.REFUNDED):
            assert state.status is before.status  # terminal
        if before is not None and before.status is S.CANCELLED:  # then only refunded
            assert state.status in (S.CANCELLED, S.REFUNDED)
        if state.status is S.REFUNDED:
            assert before is not None and before.status in (S.CANCELLED, S.REFUNDED)
            assert not ever_released
        if state.status in (S.RELEASED, S.CANCELLED, S.REFUNDED):
            ever_final = state.status
        if state.status is S.VETOED:
            assert state.veto is not None
        else:
            assert state.veto is None
        if state.status is S.DELAYED:
            assert state.executable_at is not None
        if before is not None and before.sign_requested:
            assert state.sign_requested or state.status in (S.RELEASED, S.CANCELLED, S.REFUNDED)
        if state.status in (S.ATTESTED, S.QUORUM, S.SUBMITTED):
            assert state.sign_requested
        if state.status is S.REFUSED:
            assert not state.sign_requested
        if state.status is S.REVIEW:  # held: never signed, and only a hold puts it there
            assert not state.sign_requested and state.review is not None
            assert before is not None and (before.status is S.REVIEW or item == HOLD)
        if state.status is not S.REVIEW:
            assert state.review is None
        if isinstance(item, Reviewed):  # a review applies only to a held transfer
            assert before is not None and before.status is S.REVIEW
    assert signed <= 1
