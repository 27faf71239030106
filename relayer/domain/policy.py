"""A validator's jurisdiction policy: which transfers it is willing to attest.

Each validator applies the rules of its own jurisdiction before signing. The policy is
data (allowed tokens, per-token limits, a deny list); ``evaluate`` is the rule. A
refusal is a typed outcome with a reason code that doubles as a metric label.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from relayer.domain.errors import DenyListError
from relayer.domain.types import Address, SourceEvent, checksum, parse_address

TokenKey = tuple[int, Address]  # (source chain id, source token; address(0) = native)


@dataclass(frozen=True, slots=True)
class Policy:
    """What one validator may attest.

    ``allowed_tokens`` holds (source chain id, source token) pairs. ``max_amounts`` caps
    single transfers per pair (a pair without an entry has no cap). ``denied_addresses``
    are refused as sender or recipient.
    """

    allowed_tokens: frozenset[TokenKey]
    max_amounts: Mapping[TokenKey, int] = field(default_factory=dict)
    denied_addresses: frozenset[Address] = frozenset()

    def __post_init__(self) -> None:
        for key, limit in self.max_amounts.items():
            if limit < 0:
                raise ValueError(f"max amount for {key} must not be negative: {limit}")
        object.__setattr__(self, "max_amounts", MappingProxyType(dict(self.max_amounts)))


class RefusalReason(enum.StrEnum):
    """Why a policy refused a transfer (stored, shown in the API, used as a metric label)."""

    SENDER_DENIED = "sender_denied"
    RECIPIENT_DENIED = "recipient_denied"
    TOKEN_NOT_ALLOWED = "token_not_allowed"  # noqa: S105 - a reason code, not a secret
    AMOUNT_ABOVE_LIMIT = "amount_above_limit"
    NO_ROUTE = "no_route"  # no destination token or contract is configured for it
    UNCORROBORATED = "uncorroborated"  # the chain's cross-check node contradicts the event
    SENDER_SANCTIONED = "sender_sanctioned"  # on the policy pack's sanctions list
    RECIPIENT_SANCTIONED = "recipient_sanctioned"
    SENDER_DAILY_LIMIT = "sender_daily_limit"  # the pack's rolling 24 h limit per sender
    DAILY_LIMIT = "daily_limit"  # the pack's rolling 24 h limit through this validator
    REVIEW_REJECTED = "review_rejected"  # a human reviewer rejected it
    ISSUER_BLACKLISTED = "issuer_blacklisted"  # the token's issuer blocks a party


@dataclass(frozen=True, slots=True)
class Approved:
    """The policy allows attesting this transfer."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The policy forbids attesting this transfer; ``detail`` is for humans."""

    reason: RefusalReason
    detail: str


@dataclass(frozen=True, slots=True)
class NeedsReview:
    """The rules allow the transfer, but its amount asks for a human decision first
    (a policy pack's review threshold); ``detail`` is for the reviewer."""

    detail: str


PolicyDecision = Approved | Refused | NeedsReview


def evaluate(policy: Policy, event: SourceEvent) -> PolicyDecision:
    """Decide whether to attest ``event``; deny-list checks come first."""
    if event.sender in policy.denied_addresses:
        return Refused(RefusalReason.SENDER_DENIED, f"sender {checksum(event.sender)} is denied")
    if event.recipient in policy.denied_addresses:
        return Refused(
            RefusalReason.RECIPIENT_DENIED, f"recipient {checksum(event.recipient)} is denied"
        )
    key = (event.src_chain_id, event.src_token)
    if key not in policy.allowed_tokens:
        return Refused(
            RefusalReason.TOKEN_NOT_ALLOWED,
            f"token {checksum(event.src_token)} on chain {event.src_chain_id} is not allowed",
        )
    limit = policy.max_amounts.get(key)
    if limit is not None and event.amount > limit:
        return Refused(
            RefusalReason.AMOUNT_ABOVE_LIMIT, f"amount {event.amount} exceeds limit {limit}"
        )
    return Approved()


def parse_deny_list(text: str) -> frozenset[Address]:
    """Parse a deny-list file: one address per line; ``#`` starts a comment; blanks skipped.

    Mixed-case addresses must carry a valid EIP-55 checksum (catches typos). Raises
    ``DenyListError`` (a ``ValueError``) naming the 1-based line number.
    """
    denied: set[Address] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            denied.add(parse_address(line, "deny-list entry", strict_checksum=True))
        except ValueError as err:
            raise DenyListError(number, str(err)) from err
    return frozenset(denied)
