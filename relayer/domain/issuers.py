"""The issuer's controls: before signing, ask a regulated token's issuer about both parties.

Per token (``[[policy.issuer_checks]]``), a view function on the token that takes one
address and answers a bool (``isBlacklisted(address)``, ``isFrozen(address)``…) and which
answer means "blocked". For a transfer the validator asks, for the sender and then the
recipient, the source token's check on the source chain and the destination token's check
on the destination chain, where each is configured. One blocked answer refuses the
transfer with ``issuer_blacklisted``; it is never signed.

This module is the rule: which calls to make (``issuer_queries``), how to read an answer
(``read_answer``), and the verdict (``issuer_verdict``). The shell makes the calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from eth_utils.crypto import keccak

from relayer.domain.errors import DomainError
from relayer.domain.policy import RefusalReason, Refused
from relayer.domain.types import Address, SourceEvent, checksum

FUNCTION: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\(address\)")
TokenKey = tuple[int, Address]  # (chain id, token) the check is made on


class IssuerAnswerError(DomainError):
    """A token's answer to an issuer check is not an ABI-encoded bool."""


@dataclass(frozen=True, slots=True)
class IssuerCheck:
    """One token's issuer check: ``function`` (``name(address)``) on ``token``."""

    chain_id: int
    token: Address
    function: str
    blocked_when: bool = True  # the answer that means "this party is blocked"

    def __post_init__(self) -> None:
        if FUNCTION.fullmatch(self.function) is None:
            raise ValueError(f"an issuer check calls name(address), got {self.function!r}")

    @property
    def selector(self) -> bytes:
        return keccak(text=self.function)[:4]


@dataclass(frozen=True, slots=True)
class IssuerQuery:
    """One call to make: ``check`` about ``party`` (the transfer's ``role``)."""

    check: IssuerCheck
    role: str  # "sender" or "recipient"
    party: Address

    @property
    def calldata(self) -> bytes:
        return self.check.selector + bytes(12) + bytes(self.party)


def issuer_queries(
    checks: Mapping[TokenKey, IssuerCheck], event: SourceEvent, dst_token: Address | None
) -> tuple[IssuerQuery, ...]:
    """The calls to make before deciding ``event`` (``dst_token``: its destination token,
    when the route is known), in the order they are judged."""
    tokens = [(event.src_chain_id, event.src_token)]
    if dst_token is not None:
        tokens.append((event.dst_chain_id, dst_token))
    return tuple(
        IssuerQuery(checks[key], role, party)
        for key in tokens
        if key in checks
        for role, party in (("sender", event.sender), ("recipient", event.recipient))
    )


def read_answer(data: bytes) -> bool:
    """An ABI-encoded bool (32 bytes, 0 or 1); anything else raises ``IssuerAnswerError``."""
    if len(data) != 32 or data[:31] != bytes(31) or data[31] > 1:
        raise IssuerAnswerError(f"not an ABI bool: 0x{data[:64].hex()}")
    return data[31] == 1


def issuer_verdict(answers: Sequence[tuple[IssuerQuery, bool]]) -> Refused | None:
    """The refusal the first blocked answer calls for, or None: every party is clear."""
    for query, answer in answers:
        if answer == query.check.blocked_when:
            c = query.check
            return Refused(
                RefusalReason.ISSUER_BLACKLISTED,
                f"{query.role} {checksum(query.party)} is blocked by the issuer: {c.function} "
                f"on {checksum(c.token)} (chain {c.chain_id}) answered {str(answer).lower()}",
            )
    return None
