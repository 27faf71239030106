"""The quorum rule: which attestations make a signature bundle the contract accepts.

Mirrors ``SignatureBundle.check`` (``contracts/src/libraries/SignatureBundle.sol``): every
signature valid and by a member, signers strictly ascending, at least ``threshold`` of
them, spanning at least ``min_jurisdictions`` jurisdictions. ``validate_set`` mirrors
``ValidatorSetData.encode`` (the rules a rotation must satisfy).

Bundle choice: the smallest bundle that meets both rules, because every signature costs
an ``ecrecover`` on chain. It is chosen deterministically from the usable signers:
first the lowest address of each jurisdiction, jurisdictions taken in order of their
lowest signer, until ``min_jurisdictions`` are covered; then the lowest remaining
addresses until ``threshold`` is reached. Its size is ``max(threshold, min_jurisdictions)``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from relayer.domain.errors import InvalidSignatureError
from relayer.domain.signature import recover_signer
from relayer.domain.types import ZERO_ADDRESS, Address, Attestation, Hash32, ValidatorSet

MAX_MEMBERS = 32  # ValidatorSetData.MAX_MEMBERS


class QuorumShortfall(enum.StrEnum):
    """Why a set of attestations is not yet a quorum (also a metric label)."""

    BELOW_THRESHOLD = "below_threshold"  # contract: BelowThreshold(count, threshold)
    TOO_FEW_JURISDICTIONS = "too_few_jurisdictions"  # TooFewJurisdictions(count, required)


@dataclass(frozen=True, slots=True)
class QuorumMet:
    """A bundle ``release(…, signatures)`` accepts: 65-byte signatures, signers ascending."""

    digest: Hash32
    bundle: bytes
    signers: tuple[Address, ...]
    jurisdictions: frozenset[str]


@dataclass(frozen=True, slots=True)
class QuorumNotMet:
    """Not enough yet: ``have`` of ``need`` signers (or jurisdictions, per ``reason``)."""

    reason: QuorumShortfall
    have: int
    need: int
    jurisdictions: frozenset[str]


QuorumOutcome = QuorumMet | QuorumNotMet


def _usable_signatures(
    validator_set: ValidatorSet, digest: Hash32, attestations: Iterable[Attestation]
) -> dict[Address, bytes]:
    """Member signer -> a signature that recovers to it over ``digest`` (first one wins)."""
    usable: dict[Address, bytes] = {}
    for attestation in attestations:
        signer = attestation.signer
        if attestation.digest != digest or signer in usable:
            continue
        if validator_set.jurisdiction_of(signer) is None:
            continue
        try:
            if recover_signer(digest, attestation.signature) != signer:
                continue
        except InvalidSignatureError:
            continue
        usable[signer] = attestation.signature
    return usable


def _minimal_signers(
    validator_set: ValidatorSet, signers: Sequence[Address], need: int
) -> list[Address]:
    """The deterministic minimal choice described in the module docstring."""
    ordered = sorted(signers)
    chosen: list[Address] = []
    covered: set[str] = set()
    for signer in ordered:
        jurisdiction = validator_set.jurisdiction_of(signer)
        if len(covered) < validator_set.min_jurisdictions and jurisdiction not in covered:
            assert jurisdiction is not None
            covered.add(jurisdiction)
            chosen.append(signer)
    for signer in ordered:
        if len(chosen) >= need:
            break
        if signer not in chosen:
            chosen.append(signer)
    return sorted(chosen)


def evaluate_quorum(
    validator_set: ValidatorSet, digest: Hash32, attestations: Iterable[Attestation]
) -> QuorumOutcome:
    """Mirrors ``SignatureBundle.check``: is there a quorum over ``digest``, and which bundle.

    Only members count; a signer counts once; attestations over another digest, or whose
    signature does not recover to their signer (or fails the contract's checks), never count.
    """
    usable = _usable_signatures(validator_set, digest, attestations)
    present = frozenset(j for s in usable if (j := validator_set.jurisdiction_of(s)) is not None)
    if len(usable) < validator_set.threshold:
        return QuorumNotMet(
            QuorumShortfall.BELOW_THRESHOLD, len(usable), validator_set.threshold, present
        )
    if len(present) < validator_set.min_jurisdictions:
        return QuorumNotMet(
            QuorumShortfall.TOO_FEW_JURISDICTIONS,
            len(present),
            validator_set.min_jurisdictions,
            present,
        )
    need = max(validator_set.threshold, validator_set.min_jurisdictions)
    signers = tuple(_minimal_signers(validator_set, list(usable), need))
    bundle = b"".join(usable[s] for s in signers)
    jurisdictions = frozenset(
        j for s in signers if (j := validator_set.jurisdiction_of(s)) is not None
    )
    return QuorumMet(digest, bundle, signers, jurisdictions)


# ------------------------------------------------------------------ set validation


class SetRule(enum.StrEnum):
    """A validator-set rule violation; each names the contract's custom error."""

    SIZE = "InvalidValidatorSetSize"
    LENGTH_MISMATCH = "JurisdictionsLengthMismatch"
    ZERO_MEMBER = "ZeroMember"
    DUPLICATE_MEMBER = "DuplicateMember"
    NOT_ASCENDING = "MembersNotAscending"
    BAD_JURISDICTION = "InvalidJurisdictionCode"
    THRESHOLD_TOO_LOW = "ThresholdTooLow"
    THRESHOLD_TOO_HIGH = "ThresholdTooHigh"
    BAD_MIN_JURISDICTIONS = "InvalidMinJurisdictions"


@dataclass(frozen=True, slots=True)
class SetViolation:
    """The first rule a proposed set breaks, with the contract error's arguments."""

    rule: SetRule
    detail: str
    index: int | None = None


def minimum_threshold(member_count: int) -> int:
    """``floor(2n / 3) + 1``: strictly more than two thirds."""
    return (2 * member_count) // 3 + 1


def _is_jurisdiction(code: str) -> bool:
    return len(code) == 2 and all("A" <= c <= "Z" for c in code)


def validate_set(
    members: Sequence[Address],
    jurisdictions: Sequence[str],
    threshold: int,
    min_jurisdictions: int,
) -> SetViolation | None:
    """Mirrors ``ValidatorSetData.encode``: the first violated rule, in the contract's order.

    ``None`` means the set is valid. Members must be strictly ascending by address.
    """
    n = len(members)
    if n == 0 or n > MAX_MEMBERS:
        return SetViolation(SetRule.SIZE, f"{n} members, need 1..{MAX_MEMBERS}")
    if len(jurisdictions) != n:
        return SetViolation(
            SetRule.LENGTH_MISMATCH, f"{n} members but {len(jurisdictions)} jurisdictions"
        )
    for i, (member, code) in enumerate(zip(members, jurisdictions, strict=True)):
        if member == ZERO_ADDRESS:
            return SetViolation(SetRule.ZERO_MEMBER, "member is address(0)", i)
        if i and member == members[i - 1]:
            return SetViolation(SetRule.DUPLICATE_MEMBER, f"0x{member.hex()} repeated", i)
        if i and member < members[i - 1]:
            return SetViolation(SetRule.NOT_ASCENDING, "members must be ascending", i)
        if not _is_jurisdiction(code):
            return SetViolation(SetRule.BAD_JURISDICTION, f"bad jurisdiction {code!r}", i)
    minimum = minimum_threshold(n)
    if threshold < minimum:
        return SetViolation(SetRule.THRESHOLD_TOO_LOW, f"threshold {threshold} < {minimum}")
    if threshold > n:
        return SetViolation(SetRule.THRESHOLD_TOO_HIGH, f"threshold {threshold} > {n} members")
    distinct = len(set(jurisdictions))
    if min_jurisdictions == 0 or min_jurisdictions > distinct:
        return SetViolation(
            SetRule.BAD_MIN_JURISDICTIONS,
            f"min_jurisdictions {min_jurisdictions} not in 1..{distinct}",
        )
    return None


def validate_validator_set(validator_set: ValidatorSet) -> SetViolation | None:
    """``validate_set`` for a ``ValidatorSet`` value."""
    return validate_set(
        [m.address for m in validator_set.members],
        [m.jurisdiction for m in validator_set.members],
        validator_set.threshold,
        validator_set.min_jurisdictions,
    )
