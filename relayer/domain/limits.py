"""A pack's rules applied to one transfer, with exact rolling 24-hour windows.

Time is an input: the shell passes ``now`` (unix seconds, the validator's clock when it
decides) and the spends this validator approved for the token whose time is inside the
window. A spend at ``at`` counts while ``now - WINDOW_S < at``: from the moment it was
approved until exactly 24 hours later (spends dated after ``now``, after a clock step back,
count too: the rule errs on the side of refusing). A spend is recorded when the validator
signs the release, in the same transaction, and is never removed: a transfer later
cancelled and refunded still counted against the limits while it was live.

The order of the checks: sanctions first (sender, then recipient), then whether the pack
knows the token, then the per-transfer maximum, then the rolling limits (sender, then
total), and only then the review threshold, so a human is never asked to approve what the
rules refuse anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from relayer.domain.packs import PolicyPack, TokenKey
from relayer.domain.policy import Approved, NeedsReview, RefusalReason, Refused
from relayer.domain.types import Address, Hash32, SourceEvent, checksum

WINDOW_S = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class Spend:
    """One transfer this validator approved under a pack's limits."""

    transfer_id: Hash32
    token: TokenKey
    sender: Address
    amount: int
    at: int  # unix seconds, when it was approved


PackVerdict = Approved | Refused | NeedsReview


@dataclass(frozen=True, slots=True)
class PackCheck:
    """What ``lifecycle.decide`` needs to apply a pack: the pack, the time of the decision,
    this validator's spends of the token inside the window, and whether a reviewer approved
    the transfer."""

    pack: PolicyPack
    now: int
    spends: tuple[Spend, ...]
    reviewed: bool = False


def window_start(now: int) -> int:
    """Spends with ``at`` strictly above this count at ``now``."""
    return now - WINDOW_S


def spent(spends: Iterable[Spend], token: TokenKey, now: int, sender: Address | None = None) -> int:
    """The sum of ``token``'s spends inside the window at ``now`` (of ``sender`` if given)."""
    start = window_start(now)
    return sum(
        s.amount
        for s in spends
        if s.token == token and s.at > start and (sender is None or s.sender == sender)
    )


def evaluate_pack(
    pack: PolicyPack,
    event: SourceEvent,
    now: int,
    spends: Iterable[Spend],
    *,
    reviewed: bool = False,
) -> PackVerdict:
    """Decide ``event`` under ``pack`` at ``now``; ``reviewed``: a human approved it."""
    listed = pack.sanctions.addresses
    source = f"{pack.sanctions.source} {pack.sanctions.list_version}"
    if event.sender in listed:
        return Refused(
            RefusalReason.SENDER_SANCTIONED, f"sender {checksum(event.sender)} is on {source}"
        )
    if event.recipient in listed:
        return Refused(
            RefusalReason.RECIPIENT_SANCTIONED,
            f"recipient {checksum(event.recipient)} is on {source}",
        )
    key = (event.src_chain_id, event.src_token)
    rules = pack.tokens.get(key)
    if rules is None:
        return Refused(
            RefusalReason.TOKEN_NOT_ALLOWED,
            f"token {checksum(event.src_token)} on chain {event.src_chain_id} is not in the "
            f"{pack.jurisdiction} policy pack v{pack.version}",
        )
    amount = event.amount
    if amount > rules.max_per_transfer:
        return Refused(
            RefusalReason.AMOUNT_ABOVE_LIMIT,
            f"amount {amount} exceeds the pack's maximum per transfer {rules.max_per_transfer}",
        )
    history = [s for s in spends if s.transfer_id != event.transfer_id]
    if rules.max_per_sender_24h is not None:
        used = spent(history, key, now, event.sender)
        if used + amount > rules.max_per_sender_24h:
            return Refused(
                RefusalReason.SENDER_DAILY_LIMIT,
                f"sender {checksum(event.sender)} moved {used} in 24 h; {amount} more exceeds "
                f"{rules.max_per_sender_24h}",
            )
    if rules.max_total_24h is not None:
        used = spent(history, key, now)
        if used + amount > rules.max_total_24h:
            return Refused(
                RefusalReason.DAILY_LIMIT,
                f"{used} approved in 24 h; {amount} more exceeds {rules.max_total_24h}",
            )
    if rules.review_above is not None and amount > rules.review_above and not reviewed:
        return NeedsReview(f"amount {amount} is above the review threshold {rules.review_above}")
    return Approved()


def uses_history(pack: PolicyPack, event: SourceEvent) -> bool:
    """Whether deciding ``event`` under ``pack`` reads the spends in the window (its token
    has a rolling limit); when not, the shell need not read them."""
    rules = pack.tokens.get((event.src_chain_id, event.src_token))
    return rules is not None and (
        rules.max_per_sender_24h is not None or rules.max_total_24h is not None
    )


def may_need_review(pack: PolicyPack, event: SourceEvent) -> bool:
    """Whether ``event``'s amount is above its token's review threshold under ``pack``."""
    rules = pack.tokens.get((event.src_chain_id, event.src_token))
    return (
        rules is not None and rules.review_above is not None and event.amount > rules.review_above
    )


def spend_of(event: SourceEvent, now: int) -> Spend:
    """The spend to record when ``event`` is approved at ``now``."""
    return Spend(
        event.transfer_id, (event.src_chain_id, event.src_token), event.sender, event.amount, now
    )
