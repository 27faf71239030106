"""Veto and refund rules (relayer.domain.vetoes) and the veto path of the lifecycle."""

from __future__ import annotations

from dataclasses import replace

from domain_strategies import ADDRESSES, KEY_OF, TOKEN, source_event
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.lifecycle import VETOABLE, step
from relayer.domain.policy import RefusalReason, Refused
from relayer.domain.quorum import minimum_threshold
from relayer.domain.signature import sign_digest
from relayer.domain.transfer import (
    CancelledOnDestination,
    CancelQuorumReached,
    DelayedOnDestination,
    HaltSigning,
    Input,
    RefundedOnSource,
    RefundQuorumReached,
    Rejected,
    ReleaseConfirmed,
    SignCancel,
    SignRefund,
    SubmitCancel,
    SubmitRefund,
    TransferState,
    TransferStatus,
    Transition,
    Vetoed,
)
from relayer.domain.types import Address, Attestation, Hash32, Validator, ValidatorSet
from relayer.domain.vetoes import (
    MAX_REASON_CHARS,
    auto_veto_due,
    blocking_minority,
    check_veto_reason,
    evaluate_cancel,
    evaluate_refund,
    refund_terms,
)

S = TransferStatus
EVENT = source_event(token=TOKEN)
TID = EVENT.transfer_id
DIGEST = Hash32(b"\xc4" * 32)
MEMBERS = tuple(sorted(ADDRESSES[:7]))
JURIS = ("HK", "HK", "SG", "SG", "AE", "AE", "HK")


def vset(n: int = 7, threshold: int | None = None, min_j: int = 2) -> ValidatorSet:
    members = tuple(Validator(a, j) for a, j in zip(MEMBERS[:n], JURIS[:n], strict=True))
    return ValidatorSet(1, members, threshold or minimum_threshold(n), min_j)


def signed(signer: Address, digest: Hash32 = DIGEST) -> Attestation:
    return Attestation(TID, digest, signer, sign_digest(KEY_OF[signer], digest))


# ------------------------------------------------------------------ cancel bundle


@given(st.integers(1, 7), st.data())
def test_a_cancel_needs_exactly_a_blocking_minority_of_members(n: int, data: st.DataObject) -> None:
    threshold = data.draw(st.integers(minimum_threshold(n), n))
    rule = vset(n, threshold, 1)
    chosen = data.draw(st.sets(st.sampled_from(MEMBERS[:n])))
    outsiders = [signed(a) for a in ADDRESSES[7:9]]  # never members: never count
    met = evaluate_cancel(rule, DIGEST, [*map(signed, chosen), *outsiders])
    need = n - threshold + 1
    assert blocking_minority(rule) == need
    if len(chosen) < need:
        assert met is None
    else:
        assert met is not None
        assert len(met.signers) == need and list(met.signers) == sorted(met.signers)
        assert set(met.signers) <= chosen
        assert len(met.bundle) == 65 * need


def test_a_cancel_over_another_digest_or_forged_does_not_count() -> None:
    rule = vset(7, 5)  # blocking minority 3
    other = Hash32(b"\xee" * 32)
    forged = replace(signed(MEMBERS[2]), signer=MEMBERS[3])
    offered = [signed(MEMBERS[0]), signed(MEMBERS[1], other), forged]
    assert evaluate_cancel(rule, DIGEST, offered) is None
    assert evaluate_cancel(rule, DIGEST, [*offered, signed(MEMBERS[4]), signed(MEMBERS[5])])


def test_a_refund_needs_a_full_quorum_with_its_jurisdictions() -> None:
    rule = vset(7, 5, 3)
    five_of_two = [signed(m) for m, j in zip(MEMBERS, JURIS, strict=True) if j != "AE"]
    assert len(five_of_two) == 5 and evaluate_refund(rule, DIGEST, five_of_two) is None
    met = evaluate_refund(rule, DIGEST, [*five_of_two, signed(MEMBERS[4])])
    assert met is not None and met.jurisdictions == {"HK", "SG", "AE"}


def test_the_refund_returns_the_exact_amount_to_the_sender_in_its_token() -> None:
    terms = refund_terms(EVENT)
    assert (terms.transfer_id, terms.nonce, terms.dst_chain_id) == (
        TID,
        EVENT.nonce,
        EVENT.dst_chain_id,
    )
    assert (terms.token, terms.recipient, terms.amount) == (
        EVENT.src_token,
        EVENT.sender,
        EVENT.amount,
    )


# ------------------------------------------------------------------- auto veto


@given(
    st.sets(st.sampled_from(MEMBERS + ADDRESSES[7:9])),
    st.floats(0, 10_000),
    st.floats(0, 10_000),
    st.floats(0, 1_000),
)
def test_auto_veto_is_due_once_a_blocking_minority_refused_and_the_hold_passed(
    refusers: set[Address], refused_at: float, now: float, hold: float
) -> None:
    rule = vset(7, 5)  # blocking minority 3
    due = auto_veto_due(rule, refusers, refused_at, now, hold)
    members = {r for r in refusers if r in MEMBERS}
    expected = len(members) >= 3 and now >= refused_at + hold
    assert (due is not None) == expected
    if due is not None:
        assert set(due.refusers) == members
        assert f"refused by {len(members)} of 7 validators" in due.detail


def test_a_veto_reason_must_be_printable_and_bounded() -> None:
    assert check_veto_reason("court order 2026/117") is None
    assert check_veto_reason("   ") == "a veto needs a reason"
    assert "at most" in str(check_veto_reason("x" * (MAX_REASON_CHARS + 1)))
    assert "printable" in str(check_veto_reason("line\nbreak"))


# ------------------------------------------------------------ lifecycle: vetoes


def state(status: TransferStatus, **kw: object) -> TransferState:
    return replace(TransferState(status, EVENT), **kw)  # type: ignore[arg-type]


def run(start: TransferState, *inputs: Input) -> tuple[TransferState, list[object]]:
    current, effects = start, []
    for item in inputs:
        outcome = step(current, item)
        assert isinstance(outcome, Transition), outcome
        current = outcome.state
        effects += outcome.effects
    return current, effects


VETO = Vetoed(TID, "alice", "court order")


def test_any_open_transfer_can_be_vetoed_and_signs_cancel_once() -> None:
    for status in VETOABLE:
        after, effects = run(state(status), VETO, VETO)
        assert after.status is S.VETOED and after.veto == "vetoed by alice: court order"
        assert effects == [SignCancel(TID, EVENT.dst_chain_id)]
    for status in (S.OBSERVED, S.ORPHANED, S.RELEASED, S.CANCELLED, S.REFUNDED):
        assert isinstance(step(state(status), VETO), Rejected)
    assert isinstance(step(None, VETO), Rejected)


def test_veto_cancel_refund_end_to_end() -> None:
    bundle, refund_bundle = b"\x03" * 65, b"\x04" * 65
    refused = state(S.REFUSED, refusal=Refused(RefusalReason.RECIPIENT_DENIED, "denied"))
    after, effects = run(
        refused,
        VETO,
        CancelQuorumReached(TID, bundle),
        CancelledOnDestination(TID),
        RefundQuorumReached(TID, refund_bundle),
        RefundedOnSource(TID),
    )
    assert after.status is S.REFUNDED and after.veto is None
    assert effects == [
        SignCancel(TID, EVENT.dst_chain_id),
        SubmitCancel(TID, EVENT.dst_chain_id, bundle),
        SignRefund(TID, EVENT.src_chain_id),
        SubmitRefund(TID, EVENT.src_chain_id, refund_bundle),
    ]
    # replays change nothing
    for again in (CancelledOnDestination(TID), RefundedOnSource(TID)):
        assert step(after, again) == Transition(after)


def test_a_cancel_bundle_or_refund_bundle_is_used_only_where_it_belongs() -> None:
    assert isinstance(step(state(S.ATTESTED), CancelQuorumReached(TID, b"")), Rejected)
    assert isinstance(step(state(S.VETOED), RefundQuorumReached(TID, b"")), Rejected)
    assert isinstance(step(state(S.REFUNDED), RefundQuorumReached(TID, b"")), Rejected)
    assert isinstance(step(state(S.OBSERVED), CancelledOnDestination(TID)), Rejected)
    assert isinstance(step(state(S.VETOED), RefundedOnSource(TID)), Rejected)


def test_a_vetoed_transfer_the_destination_executes_anyway_is_released() -> None:
    tx = Hash32(b"\x71" * 32)
    after, effects = run(state(S.VETOED, veto="x"), ReleaseConfirmed(TID, tx))
    assert after.status is S.RELEASED and after.veto is None and effects == []


def test_a_delay_seen_while_vetoed_is_kept_but_never_executed_by_us() -> None:
    after, effects = run(state(S.VETOED, veto="x"), DelayedOnDestination(TID, 99))
    assert after.status is S.VETOED and after.executable_at == 99 and effects == []


def test_an_execution_after_a_refund_or_a_refund_after_an_execution_halts() -> None:
    tx = Hash32(b"\x71" * 32)
    for before, item in (
        (state(S.REFUNDED), ReleaseConfirmed(TID, tx)),
        (state(S.RELEASED), RefundedOnSource(TID)),
    ):
        outcome = step(before, item)
        assert isinstance(outcome, Transition) and outcome.state == before
        assert isinstance(outcome.effects[0], HaltSigning)
