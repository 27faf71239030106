"""Errors the pure core raises on malformed input (all ``RelayerError`` + ``ValueError``).

Rule outcomes (quorum not met, policy refused, illegal transition) are typed return
values, not exceptions; these errors are for input that cannot be interpreted at all.
"""

from __future__ import annotations

import enum

from relayer.errors import RejectedInputError


class SignatureFault(enum.StrEnum):
    """Why a 65-byte signature was rejected (the checks ``SignatureBundle.check`` makes)."""

    BAD_LENGTH = "bad_length"
    BAD_V = "bad_v"
    HIGH_S = "high_s"
    UNRECOVERABLE = "unrecoverable"


class DomainError(RejectedInputError):
    """Root of the pure core's input errors (an input that cannot be interpreted: skip it)."""


class InvalidSignatureError(DomainError):
    """A signature the contracts' bundle check would reject."""

    def __init__(self, fault: SignatureFault, detail: str) -> None:
        super().__init__(f"{fault.value}: {detail}")
        self.fault = fault


class DenyListError(DomainError):
    """A deny-list file line is not an address; ``line`` is 1-based."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(f"deny list line {line}: {detail}")
        self.line = line
