"""The values of a transfer's lifecycle: its status, its state record, inputs and effects.

``relayer.domain.lifecycle.step`` maps (state, input) to a new state and the effects the
shell must run. The shell stores the input, the new state and the effects in one
database transaction, then runs the effects; each effect is idempotent per transfer id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from relayer.domain.policy import PolicyDecision, Refused
from relayer.domain.quorum import QuorumMet
from relayer.domain.types import Attestation, Hash32, Release, SourceEvent


class TransferStatus(enum.StrEnum):
    """Where a transfer is; the string values are stored in the database and shown by the API."""

    OBSERVED = "observed"  # seen on the source chain, not yet final
    CONFIRMED = "confirmed"  # final on the source chain (then policy, then signing)
    REVIEW = "review"  # the policy asks a human to decide (``relayer review``): not signed
    REFUSED = "refused"  # our policy refused it: never signed
    ATTESTED = "attested"  # our signature stored (and published)
    QUORUM = "quorum"  # a bundle the destination contract accepts exists
    SUBMITTED = "submitted"  # a release transaction was sent
    DELAYED = "delayed"  # the destination holds it until ``executable_at`` (its governor)
    VETOED = "vetoed"  # we signed Cancel (``relayer veto`` or refused by too many): not released
    RELEASED = "released"  # executed on the destination chain (terminal)
    CANCELLED = "cancelled"  # vetoed on the destination: never executed there; refund next
    REFUNDED = "refunded"  # returned to its sender on the source chain (terminal)
    ORPHANED = "orphaned"  # reorged out before confirmation


@dataclass(frozen=True, slots=True)
class TransferState:
    """Everything the lifecycle knows about one transfer (one database row)."""

    status: TransferStatus
    event: SourceEvent
    release: Release | None = None  # set once the policy approved (with ``digest``)
    digest: Hash32 | None = None  # the EIP-712 digest of ``release`` on the destination
    refusal: Refused | None = None
    sign_requested: bool = False  # a SignRelease effect was issued: never again
    attestation: Attestation | None = None  # our own signature
    quorum: QuorumMet | None = None
    tx_hash: Hash32 | None = None  # our latest release transaction
    executable_at: int | None = None  # delayed: when ``executeDelayed`` may run (unix s)
    review: str | None = None  # in review: why a human must decide
    veto: str | None = None  # vetoed: by whom and why

    @property
    def transfer_id(self) -> Hash32:
        return self.event.transfer_id


# ------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Observed:
    """The watcher saw the source event (not yet final)."""

    event: SourceEvent

    @property
    def transfer_id(self) -> Hash32:
        return self.event.transfer_id


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The source event is final (enough confirmations on its block)."""

    event: SourceEvent

    @property
    def transfer_id(self) -> Hash32:
        return self.event.transfer_id


@dataclass(frozen=True, slots=True)
class Orphaned:
    """The block holding the source event left the canonical chain."""

    transfer_id: Hash32


@dataclass(frozen=True, slots=True)
class PolicyDecided:
    """Our policy's verdict; an approval carries the release and its destination digest.

    Build it with ``lifecycle.decide`` so the three fields agree.
    """

    transfer_id: Hash32
    decision: PolicyDecision
    release: Release | None = None
    digest: Hash32 | None = None


@dataclass(frozen=True, slots=True)
class OwnSignature:
    """Our signer produced (and the shell stored) our attestation."""

    attestation: Attestation

    @property
    def transfer_id(self) -> Hash32:
        return self.attestation.transfer_id


@dataclass(frozen=True, slots=True)
class QuorumReached:
    """``quorum.evaluate_quorum`` returned ``QuorumMet`` over this transfer's digest."""

    transfer_id: Hash32
    quorum: QuorumMet


@dataclass(frozen=True, slots=True)
class SubmissionSent:
    """The submitter broadcast a release transaction (or a replacement)."""

    transfer_id: Hash32
    tx_hash: Hash32


@dataclass(frozen=True, slots=True)
class ReleaseConfirmed:
    """The destination executed the release (our transaction or anyone's)."""

    transfer_id: Hash32
    tx_hash: Hash32


@dataclass(frozen=True, slots=True)
class AlreadyReleased:
    """The destination shows the transfer executed (``statusOf`` 1) at its confirmed head,
    with no log near enough to name the executing transaction."""

    transfer_id: Hash32


@dataclass(frozen=True, slots=True)
class DelayedOnDestination:
    """The destination recorded the release and holds it until ``executable_at``
    (``ReleaseDelayed``, or ``statusOf`` 2 at its confirmed head)."""

    transfer_id: Hash32
    executable_at: int


@dataclass(frozen=True, slots=True)
class Reviewed:
    """A reviewer decided a transfer held for review: approved (the policy runs again,
    with the review threshold passed, its limits checked anew) or rejected (refused)."""

    transfer_id: Hash32
    approved: bool
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class CancelledOnDestination:
    """The destination cancelled the id for ever (``ReleaseCancelled``, or ``statusOf`` 3
    at its confirmed head): by a blocking minority of the set, or by the guardian."""

    transfer_id: Hash32


@dataclass(frozen=True, slots=True)
class Vetoed:
    """This validator vetoes the transfer: an operator's ``relayer veto`` (``by`` names
    them) or, automatically, a transfer refused by more than the set can spare."""

    transfer_id: Hash32
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class CancelQuorumReached:
    """A blocking minority's ``Cancel`` signatures make a bundle ``cancel`` accepts."""

    transfer_id: Hash32
    bundle: bytes


@dataclass(frozen=True, slots=True)
class RefundQuorumReached:
    """A quorum's ``Refund`` signatures make a bundle the source's ``refund`` accepts."""

    transfer_id: Hash32
    bundle: bytes


@dataclass(frozen=True, slots=True)
class RefundedOnSource:
    """The source contract shows the transfer refunded (``statusOf`` 4) at its confirmed
    head: its sender has the amount back."""

    transfer_id: Hash32


@dataclass(frozen=True, slots=True)
class RetryRequested:
    """An operator asks for the transfer's pending effects again (``relayer transfer
    retry``): our attestation published anew, its release (or ``executeDelayed``) queued
    again. Nothing is signed and the state does not change."""

    transfer_id: Hash32


Input = (
    Observed
    | Confirmed
    | Orphaned
    | PolicyDecided
    | OwnSignature
    | QuorumReached
    | SubmissionSent
    | ReleaseConfirmed
    | AlreadyReleased
    | DelayedOnDestination
    | CancelledOnDestination
    | Reviewed
    | Vetoed
    | CancelQuorumReached
    | RefundQuorumReached
    | RefundedOnSource
    | RetryRequested
)

# ------------------------------------------------------------------------ effects


@dataclass(frozen=True, slots=True)
class CheckPolicy:
    """Run ``lifecycle.decide`` for the event and feed back ``PolicyDecided``
    (``reviewed``: a reviewer approved it, so the review threshold is passed)."""

    event: SourceEvent
    reviewed: bool = False


@dataclass(frozen=True, slots=True)
class SignRelease:
    """Sign ``digest`` with our key, store the attestation, feed back ``OwnSignature``."""

    transfer_id: Hash32
    dst_chain_id: int
    release: Release
    digest: Hash32


@dataclass(frozen=True, slots=True)
class PublishAttestation:
    """Gossip our attestation (retained, keyed by signer and transfer id)."""

    attestation: Attestation


@dataclass(frozen=True, slots=True)
class CheckQuorum:
    """Evaluate the stored attestations over ``digest``; feed back ``QuorumReached`` if met."""

    transfer_id: Hash32
    dst_chain_id: int
    digest: Hash32


@dataclass(frozen=True, slots=True)
class SubmitRelease:
    """Send ``release(release, bundle)`` / ``unlock(…)`` on the destination chain."""

    transfer_id: Hash32
    dst_chain_id: int
    release: Release
    bundle: bytes


@dataclass(frozen=True, slots=True)
class ExecuteDelayed:
    """Send ``executeDelayed(transferId)`` on the destination once ``executable_at`` passed."""

    transfer_id: Hash32
    dst_chain_id: int
    executable_at: int


@dataclass(frozen=True, slots=True)
class HaltSigning:
    """Safety halt: stop signing and tell the operator (e.g. a reorg below a signed event)."""

    transfer_id: Hash32
    reason: str


@dataclass(frozen=True, slots=True)
class SignCancel:
    """Sign ``Cancel(transferId)`` for the destination, store and gossip it, then check
    whether a blocking minority has signed (feed back ``CancelQuorumReached``)."""

    transfer_id: Hash32
    dst_chain_id: int


@dataclass(frozen=True, slots=True)
class SubmitCancel:
    """Send ``cancel(transferId, bundle)`` on the destination (until it shows the id
    cancelled, or executed)."""

    transfer_id: Hash32
    dst_chain_id: int
    bundle: bytes


@dataclass(frozen=True, slots=True)
class SignRefund:
    """Sign the ``Refund`` of the transfer on its source contract (the destination shows
    it cancelled at its confirmed head), store and gossip it, then check for a quorum."""

    transfer_id: Hash32
    src_chain_id: int


@dataclass(frozen=True, slots=True)
class SubmitRefund:
    """Send ``refund(refund, bundle)`` on the source chain (until it shows it refunded)."""

    transfer_id: Hash32
    src_chain_id: int
    bundle: bytes


Effect = (
    CheckPolicy
    | SignRelease
    | PublishAttestation
    | CheckQuorum
    | SubmitRelease
    | ExecuteDelayed
    | HaltSigning
    | SignCancel
    | SubmitCancel
    | SignRefund
    | SubmitRefund
)

# ----------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Transition:
    """The input was accepted: store ``state`` and ``effects`` together, then run them."""

    state: TransferState
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """The input is not legal in this state; nothing changes. Not an exception."""

    status: TransferStatus | None
    input: str
    reason: str


Outcome = Transition | Rejected
