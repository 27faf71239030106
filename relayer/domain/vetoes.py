"""Veto and refund rules: who may cancel a transfer, when refusers veto it on their own,
and which bundles the contracts accept for ``cancel`` and ``refund``.

Mirrors ``BridgeBase.cancel`` (a blocking minority: at least ``n - threshold + 1``
distinct members of the current set sign ``Cancel(bytes32 transferId)``, signers
ascending, no jurisdiction rule) and ``BridgeBase.refund`` (a full quorum, threshold and
jurisdictions, signs ``Refund(...)`` on the contract where the transfer began).

A transfer that can never reach a quorum is one refused by more than ``n - threshold``
members: its refusers are a blocking minority themselves, and after ``hold_s`` (so a
supervisor can look first) each of them vetoes it (``auto_veto_due``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from relayer.domain.quorum import QuorumMet, evaluate_quorum
from relayer.domain.types import Address, Attestation, Hash32, SourceEvent, ValidatorSet

MAX_REASON_CHARS = 300  # a veto's reason, as a refusal's detail


def blocking_minority(validator_set: ValidatorSet) -> int:
    """``n - threshold + 1``: the fewest members whose refusal keeps any quorum out, and
    the number of ``Cancel`` signatures ``BridgeBase.cancel`` requires."""
    return len(validator_set.members) - validator_set.threshold + 1


def evaluate_cancel(
    validator_set: ValidatorSet, digest: Hash32, signatures: Iterable[Attestation]
) -> QuorumMet | None:
    """The bundle ``cancel(transferId, signatures)`` accepts, if the signatures over
    ``digest`` (the contract's ``hashCancel``) come from a blocking minority of the set.
    The contract asks no jurisdiction rule of a cancel; ``min_jurisdictions=1`` says the
    same here (any one signer covers one jurisdiction)."""
    rule = replace(validator_set, threshold=blocking_minority(validator_set), min_jurisdictions=1)
    outcome = evaluate_quorum(rule, digest, signatures)
    return outcome if isinstance(outcome, QuorumMet) else None


def evaluate_refund(
    validator_set: ValidatorSet, digest: Hash32, signatures: Iterable[Attestation]
) -> QuorumMet | None:
    """The bundle ``refund(refund, signatures)`` accepts (a full quorum), if any."""
    outcome = evaluate_quorum(validator_set, digest, signatures)
    return outcome if isinstance(outcome, QuorumMet) else None


@dataclass(frozen=True, slots=True)
class RefundTerms:
    """What the source contract pays back, as ``IBridge.Refund`` (``nonce`` not signed)."""

    transfer_id: Hash32
    nonce: int
    dst_chain_id: int
    token: Address
    recipient: Address  # the sender of the lock or burn
    amount: int


def refund_terms(event: SourceEvent) -> RefundTerms:
    """The refund of ``event``: the exact amount, to its sender, in the token it locked."""
    return RefundTerms(
        event.transfer_id,
        event.nonce,
        event.dst_chain_id,
        event.src_token,
        event.sender,
        event.amount,
    )


@dataclass(frozen=True, slots=True)
class AutoVeto:
    """Veto now: ``refusers`` (members of the destination's set) refused, more than the
    set can spare, and the hold time passed."""

    refusers: tuple[Address, ...]
    detail: str


def auto_veto_due(
    validator_set: ValidatorSet,
    refusers: Iterable[Address],
    refused_at: float,
    now: float,
    hold_s: float,
) -> AutoVeto | None:
    """Whether a transfer this validator refused must now be vetoed: refused by at least a
    blocking minority of the set (so no quorum can ever release it) and held ``hold_s``
    since our refusal. Non-members' refusals do not count; each member counts once."""
    members = {m.address for m in validator_set.members}
    counted = tuple(sorted({r for r in refusers if r in members}))
    need = blocking_minority(validator_set)
    if len(counted) < need or now < refused_at + hold_s:
        return None
    detail = (
        f"refused by {len(counted)} of {len(members)} validators (threshold "
        f"{validator_set.threshold}): it can never reach a quorum"
    )
    return AutoVeto(counted, detail)


def check_veto_reason(reason: str) -> str | None:
    """Why ``reason`` cannot be a veto's reason (None: it can): printable, 1..300 chars."""
    if not reason.strip():
        return "a veto needs a reason"
    if len(reason) > MAX_REASON_CHARS:
        return f"the reason is {len(reason)} characters; at most {MAX_REASON_CHARS}"
    if not reason.isprintable():
        return "the reason must be printable text (no control characters)"
    return None
