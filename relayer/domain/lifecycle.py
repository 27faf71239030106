"""A transfer's life as a pure state machine: ``step(state, input) -> Transition | Rejected``.

```
observed ─► confirmed ─► (policy) ─► refused                       (never signed)
   │           │ ▲  └─► review ─► (rejected by a reviewer) refused
   │           │ └──────┘ (approved by a reviewer: the policy runs again, review passed)
   │            └─► approved: SignRelease ─► attested ─► quorum ─► submitted ─► released
   │                                                                   │          ▲
   │                              (the destination's governor holds it) └► delayed ┤
   │                                 (vetoed on the destination) cancelled ◄──────┘
   └─► orphaned (reorged out before a signature; may be observed again)
```

The destination decides ``delayed`` and ``cancelled`` (the shell reads them at its
confirmed head): a delayed transfer gets ``ExecuteDelayed`` (only if our policy approved
it) and becomes ``released`` when executed; ``cancelled`` may come from any open state,
including ``delayed``, is final on the destination, and leads only to ``refunded``.

Invariants (checked by the Hypothesis tests in ``tests/unit/domain``):
* ``SignRelease`` is emitted at most once per transfer, only after confirmation and an
  approving policy decision; never for a refused transfer.
* ``SubmitRelease`` is emitted only with a ``QuorumMet`` over the approved digest.
* ``released`` and ``refunded`` are terminal, ``cancelled`` moves only to ``refunded``,
  and no release is submitted for a delayed, vetoed, cancelled or refunded transfer;
  ``ExecuteDelayed`` is emitted only for a delayed transfer our policy approved.
* ``SignRefund`` is emitted only when the destination shows the id cancelled, never for
  a released transfer; a transfer executed on the destination after a refund (or refunded
  after its execution) halts signing.
* ``released`` is terminal; a reorg or a conflicting event after confirmation yields
  ``HaltSigning`` and changes nothing else.
* An input that is not legal in the current state returns ``Rejected`` (nothing changes);
  a repeated input that was already applied returns an unchanged ``Transition``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from relayer.domain.digest import release_digest
from relayer.domain.limits import PackCheck, evaluate_pack
from relayer.domain.policy import Approved, NeedsReview, Policy, RefusalReason, Refused, evaluate
from relayer.domain.routing import TokenRoute, Unroutable, route_release
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
    Outcome,
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
from relayer.domain.types import EvmDomain, SourceEvent

S = TransferStatus
_BEFORE_CONFIRMATION = (S.OBSERVED, S.ORPHANED)
_UNSIGNED = (S.CONFIRMED, S.REVIEW)  # final at the source, not signed
_FINAL = (S.RELEASED, S.CANCELLED, S.REFUNDED)  # the destination acted (or the source refunded)
# a veto may stop these: final at the source, never executed on the destination
VETOABLE = (
    S.CONFIRMED,
    S.REVIEW,
    S.REFUSED,
    S.ATTESTED,
    S.QUORUM,
    S.SUBMITTED,
    S.DELAYED,
)


def step(state: TransferState | None, event: Input) -> Outcome:
    """Apply one input to a transfer's state (``None``: the transfer is not known yet)."""
    outcome = _step(state, event)
    if not isinstance(outcome, Transition):
        return outcome
    new = outcome.state
    if new.status is not S.REVIEW and new.review is not None:
        new = replace(new, review=None)  # why it was held matters only while it is held
    if new.status is not S.VETOED and new.veto is not None:
        new = replace(new, veto=None)  # the veto's reason too (the vetoes table keeps it)
    return outcome if new is outcome.state else Transition(new, outcome.effects)


def _step(state: TransferState | None, event: Input) -> Outcome:
    if state is not None and event.transfer_id != state.transfer_id:
        return _reject(state, event, "input is for another transfer")
    match event:
        case Observed() | Confirmed():
            return _on_source_event(state, event)
        case Orphaned():
            return _on_orphaned(state, event)
        case PolicyDecided():
            return _on_policy(state, event)
        case OwnSignature():
            return _on_own_signature(state, event)
        case QuorumReached():
            return _on_quorum(state, event)
        case SubmissionSent():
            return _on_submission(state, event)
        case ReleaseConfirmed() | AlreadyReleased():
            return _on_released(state, event)
        case DelayedOnDestination():
            return _on_delayed(state, event)
        case CancelledOnDestination():
            return _on_cancelled(state, event)
        case Reviewed():
            return _on_reviewed(state, event)
        case Vetoed():
            return _on_vetoed(state, event)
        case CancelQuorumReached():
            return _on_cancel_quorum(state, event)
        case RefundQuorumReached():
            return _on_refund_quorum(state, event)
        case RefundedOnSource():
            return _on_refunded(state, event)
        case RetryRequested():
            return _on_retry(state, event)


def decide(
    policy: Policy,
    routes: Mapping[TokenRoute, TokenRoute],
    domains: Mapping[int, EvmDomain],
    event: SourceEvent,
    pack: PackCheck | None = None,
    issuer: Refused | None = None,
) -> PolicyDecided:
    """Run the policy and build the release and digest for ``event``'s destination chain.

    ``domains`` maps a destination chain id to the EIP-712 domain of its bridge contract.
    A transfer with no route or no known destination contract is refused (``NO_ROUTE``).
    The local rules come first, then the route, then the issuers' answers (``issuer``: the
    refusal one of them calls for, see ``relayer.domain.issuers``), then the jurisdiction's
    pack (``pack``: its rules, the time and the spends in its window), so a reviewer is
    asked only about a transfer that could be signed.
    """
    decision = evaluate(policy, event)
    if isinstance(decision, Refused):
        return PolicyDecided(event.transfer_id, decision)
    domain = domains.get(event.dst_chain_id)
    release = route_release(routes, event)
    if isinstance(release, Unroutable):
        return PolicyDecided(event.transfer_id, Refused(RefusalReason.NO_ROUTE, str(release)))
    if domain is None:
        detail = f"no bridge contract known on chain {event.dst_chain_id}"
        return PolicyDecided(event.transfer_id, Refused(RefusalReason.NO_ROUTE, detail))
    if issuer is not None:
        return PolicyDecided(event.transfer_id, issuer)
    if pack is not None:
        verdict = evaluate_pack(pack.pack, event, pack.now, pack.spends, reviewed=pack.reviewed)
        if not isinstance(verdict, Approved):
            return PolicyDecided(event.transfer_id, verdict)
    return PolicyDecided(event.transfer_id, decision, release, release_digest(domain, release))


# ----------------------------------------------------------------------- handlers


def _reject(state: TransferState | None, event: Input, reason: str) -> Rejected:
    return Rejected(None if state is None else state.status, type(event).__name__, reason)


def _same_transfer(a: SourceEvent, b: SourceEvent) -> bool:
    """Same payload (block coordinates may differ after a shallow reorg)."""
    return (
        a.src_chain_id,
        a.src_contract,
        a.nonce,
        a.src_token,
        a.sender,
        a.recipient,
        a.amount,
        a.dst_chain_id,
    ) == (
        b.src_chain_id,
        b.src_contract,
        b.nonce,
        b.src_token,
        b.sender,
        b.recipient,
        b.amount,
        b.dst_chain_id,
    )


def _halt(state: TransferState, reason: str) -> Transition:
    return Transition(state, (HaltSigning(state.transfer_id, reason),))


def _on_source_event(state: TransferState | None, event: Observed | Confirmed) -> Outcome:
    confirmed = isinstance(event, Confirmed)
    if state is None or state.status in _BEFORE_CONFIRMATION:
        if confirmed:
            new = TransferState(S.CONFIRMED, event.event)
            return Transition(new, (CheckPolicy(event.event),))
        return Transition(TransferState(S.OBSERVED, event.event))
    if not _same_transfer(state.event, event.event):
        return _halt(state, f"a different event for this transfer id after {state.status}")
    return Transition(state)  # already confirmed: a replay


def _on_orphaned(state: TransferState | None, event: Orphaned) -> Outcome:
    """The source block left the chain. Before a signature nothing is undone: an observed
    or confirmed transfer becomes ``orphaned`` (confirmed: a reorg deeper than the
    confirmation rule, which the shell reports) and may be observed again; a refused one
    stays refused (it is never signed, even if it reappears). Once signed: halt signing."""
    if state is None:
        return _reject(state, event, "unknown transfer")
    if state.status in _BEFORE_CONFIRMATION:
        return Transition(replace(state, status=S.ORPHANED))
    if state.status in _UNSIGNED and not state.sign_requested:
        return Transition(replace(state, status=S.ORPHANED))
    if state.status is S.REFUSED:
        return Transition(state)
    return _halt(state, f"source event reorged out after confirmation (status {state.status})")


def _on_policy(state: TransferState | None, event: PolicyDecided) -> Outcome:
    if state is None or state.status is not S.CONFIRMED:
        return _reject(state, event, "policy is decided only for a confirmed transfer")
    if state.sign_requested or state.release is not None:
        return _reject(state, event, "policy already decided")
    if isinstance(event.decision, Refused):
        return Transition(replace(state, status=S.REFUSED, refusal=event.decision))
    if isinstance(event.decision, NeedsReview):
        return Transition(replace(state, status=S.REVIEW, review=event.decision.detail))
    release, digest = event.release, event.digest
    if release is None or digest is None or release.transfer_id != state.transfer_id:
        return _reject(state, event, "an approval needs this transfer's release and digest")
    new = replace(state, release=release, digest=digest, sign_requested=True)
    sign = SignRelease(state.transfer_id, state.event.dst_chain_id, release, digest)
    return Transition(new, (sign,))


def _on_reviewed(state: TransferState | None, event: Reviewed) -> Outcome:
    if state is None or state.status is not S.REVIEW:
        return _reject(state, event, "only a transfer held for review can be reviewed")
    if not event.approved:
        detail = f"rejected by {event.by}: {event.reason}"
        refusal = Refused(RefusalReason.REVIEW_REJECTED, detail)
        return Transition(replace(state, status=S.REFUSED, refusal=refusal))
    again = replace(state, status=S.CONFIRMED)
    return Transition(again, (CheckPolicy(state.event, reviewed=True),))


def _on_own_signature(state: TransferState | None, event: OwnSignature) -> Outcome:
    if state is None or not state.sign_requested:
        return _reject(state, event, "no signature was requested")
    attestation = event.attestation
    if attestation.digest != state.digest:
        return _reject(state, event, "signature is over another digest")
    if state.attestation is not None:
        if state.attestation == attestation:
            return Transition(state)
        return _reject(state, event, "already attested with another signature")
    publish = PublishAttestation(attestation)
    if state.status is S.CONFIRMED:
        new = replace(state, status=S.ATTESTED, attestation=attestation)
        check = CheckQuorum(state.transfer_id, state.event.dst_chain_id, attestation.digest)
        return Transition(new, (publish, check))
    if state.status in (S.QUORUM, S.SUBMITTED):
        return Transition(replace(state, attestation=attestation), (publish,))
    return _reject(state, event, f"own signature arrived in status {state.status}")


def _on_quorum(state: TransferState | None, event: QuorumReached) -> Outcome:
    if state is None or state.release is None or state.status in (*_FINAL, S.REFUSED):
        return _reject(state, event, "no approved release to submit")
    if state.status is S.VETOED:
        return _reject(state, event, "vetoed: its release is never submitted by us")
    if state.status is S.DELAYED:
        return _reject(state, event, "the destination already holds this release (delayed)")
    if event.quorum.digest != state.digest:
        return _reject(state, event, "quorum is over another digest")
    if state.quorum == event.quorum:
        return Transition(state)
    status = S.QUORUM if state.status in (S.CONFIRMED, S.ATTESTED) else state.status
    submit = SubmitRelease(
        state.transfer_id, state.event.dst_chain_id, state.release, event.quorum.bundle
    )
    return Transition(replace(state, status=status, quorum=event.quorum), (submit,))


def _on_submission(state: TransferState | None, event: SubmissionSent) -> Outcome:
    if state is None or state.status not in (S.QUORUM, S.SUBMITTED) or state.quorum is None:
        return _reject(state, event, "nothing was submitted without a quorum")
    return Transition(replace(state, status=S.SUBMITTED, tx_hash=event.tx_hash))


def _on_released(state: TransferState | None, event: ReleaseConfirmed | AlreadyReleased) -> Outcome:
    if state is None or state.status is S.ORPHANED:
        return _reject(state, event, "released on the destination but unknown at the source")
    if state.status is S.RELEASED:
        return Transition(state)
    if state.status is S.CANCELLED:
        return _halt(state, "the destination executed a transfer it had cancelled")
    if state.status is S.REFUNDED:
        return _halt(state, "the destination executed a transfer the source refunded")
    tx_hash = event.tx_hash if isinstance(event, ReleaseConfirmed) else state.tx_hash
    return Transition(replace(state, status=S.RELEASED, tx_hash=tx_hash))


def _on_delayed(state: TransferState | None, event: DelayedOnDestination) -> Outcome:
    if state is None or state.status is S.ORPHANED:
        return _reject(state, event, "delayed on the destination but unknown at the source")
    if state.status in _FINAL:
        return _reject(state, event, f"already {state.status} on the destination")
    if state.status is S.DELAYED:
        if state.executable_at == event.executable_at:
            return Transition(state)
        return _reject(state, event, "delayed with another executable_at")
    if state.status is S.VETOED:  # held there while the veto gathers its blocking minority
        if state.executable_at == event.executable_at:
            return Transition(state)
        return Transition(replace(state, executable_at=event.executable_at))
    new = replace(state, status=S.DELAYED, executable_at=event.executable_at)
    if state.release is None:  # refused or never decided by us: we do not help execute it
        return Transition(new)
    execute = ExecuteDelayed(state.transfer_id, state.event.dst_chain_id, event.executable_at)
    return Transition(new, (execute,))


def _on_cancelled(state: TransferState | None, event: CancelledOnDestination) -> Outcome:
    if state is None or state.status is S.ORPHANED:
        return _reject(state, event, "cancelled on the destination but unknown at the source")
    if state.status in (S.CANCELLED, S.REFUNDED):
        return Transition(state)
    if state.status is S.RELEASED:
        return _reject(state, event, "executed on the destination: it cannot be cancelled")
    if state.status is S.OBSERVED:
        return _reject(state, event, "not final at the source yet: no refund can be signed")
    refund = SignRefund(state.transfer_id, state.event.src_chain_id)
    return Transition(replace(state, status=S.CANCELLED), (refund,))


def _on_vetoed(state: TransferState | None, event: Vetoed) -> Outcome:
    if state is None:
        return _reject(state, event, "unknown transfer")
    if state.status is S.VETOED:
        return Transition(state)  # vetoed once: the Cancel signature does not change
    if state.status not in VETOABLE:
        return _reject(state, event, f"a {state.status} transfer cannot be vetoed")
    veto = f"vetoed by {event.by}: {event.reason}"
    cancel = SignCancel(state.transfer_id, state.event.dst_chain_id)
    return Transition(replace(state, status=S.VETOED, veto=veto), (cancel,))


def _on_cancel_quorum(state: TransferState | None, event: CancelQuorumReached) -> Outcome:
    if state is None or state.status is not S.VETOED:
        return _reject(state, event, "only a transfer we vetoed is cancelled by us")
    submit = SubmitCancel(state.transfer_id, state.event.dst_chain_id, event.bundle)
    return Transition(state, (submit,))


def _on_refund_quorum(state: TransferState | None, event: RefundQuorumReached) -> Outcome:
    if state is None or state.status is not S.CANCELLED:
        return _reject(state, event, "only a transfer cancelled on the destination is refunded")
    submit = SubmitRefund(state.transfer_id, state.event.src_chain_id, event.bundle)
    return Transition(state, (submit,))


def _on_refunded(state: TransferState | None, event: RefundedOnSource) -> Outcome:
    if state is None:
        return _reject(state, event, "unknown transfer")
    if state.status is S.REFUNDED:
        return Transition(state)
    if state.status is S.RELEASED:
        return _halt(state, "the source refunded a transfer the destination executed")
    if state.status is not S.CANCELLED:
        return _reject(state, event, "refunded at the source before we saw it cancelled")
    return Transition(replace(state, status=S.REFUNDED))


def _on_retry(state: TransferState | None, event: RetryRequested) -> Outcome:
    """The effects a transfer still waits on, asked for again; the state is unchanged.

    ``attested``: publish our attestation again (peers complete the quorum). ``quorum`` and
    ``submitted``: publish it again and queue the release with the stored quorum's bundle.
    ``delayed`` (approved by our policy): queue ``executeDelayed`` again. Anything else has
    nothing of ours to retry: it is final, refused or vetoed, or not signed yet (the
    relayer's sweep decides those)."""
    if state is None:
        return _reject(state, event, "unknown transfer")
    status = state.status
    if status in (S.RELEASED, S.REFUNDED):
        return _reject(state, event, f"already {status} on the destination: nothing to retry")
    if status is S.CANCELLED:
        return _reject(state, event, "cancelled on the destination: only its refund remains")
    if status is S.REFUSED:
        return _reject(state, event, "refused by this validator's policy: never signed")
    if status is S.VETOED:
        return _reject(state, event, "vetoed: its release is never submitted by us")
    if status is S.DELAYED:
        if state.release is None or state.executable_at is None:
            return _reject(state, event, "delayed, but not approved by our policy")
        dst = state.event.dst_chain_id
        return Transition(state, (ExecuteDelayed(state.transfer_id, dst, state.executable_at),))
    if state.attestation is None or state.release is None:
        return _reject(state, event, f"not signed yet ({status}): the relayer's sweep decides it")
    publish = PublishAttestation(state.attestation)
    if status in (S.QUORUM, S.SUBMITTED) and state.quorum is not None:
        submit = SubmitRelease(
            state.transfer_id, state.event.dst_chain_id, state.release, state.quorum.bundle
        )
        return Transition(state, (publish, submit))
    return Transition(state, (publish,))
