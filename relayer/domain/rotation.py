"""Validator-set rotation as a workflow: the proposal, its id, and where it stands.

Mirrors ``BridgeAdmin.rotateValidatorSet`` (contracts/src/BridgeAdmin.sol): a rotation is
approved by a quorum of the CURRENT set (``relayer.domain.quorum.evaluate_quorum``, the
same rule as ``SignatureBundle.check``) signing ``ValidatorSetUpdate(setId, replacedSetHash,
deadline, members, jurisdictions, threshold, minJurisdictions)``
(``relayer.domain.digest.validator_set_update_digest``) under each chain's EIP-712 domain,
with ``setId`` the current set id + 1 and ``replacedSetHash`` that chain's
``validatorSetHash()``. The new set must pass ``ValidatorSetData.encode``'s rules
(``relayer.domain.quorum.validate_set``): members strictly ascending, no zero address, no
duplicate, threshold ``floor(2n/3)+1 ..= n``, ``1 ..= distinct jurisdictions`` for
``minJurisdictions``.

Pure: no clock, no chain; the time and the chain's state arrive as arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.domain.digest import jurisdiction_code, validator_set_update_digest
from relayer.domain.quorum import QuorumMet, QuorumNotMet, evaluate_quorum, validate_set
from relayer.domain.types import (
    UINT64_MAX,
    ZERO_ADDRESS,
    Address,
    Attestation,
    EvmDomain,
    Hash32,
    Validator,
    ValidatorSet,
    hex32,
    parse_address,
    parse_hash32,
)

PROPOSAL_TAG = b"conflux-bridge/set-proposal/v1"  # domain-separates the proposal id


@dataclass(frozen=True, slots=True)
class ChainTarget:
    """One bridge contract a proposal rotates, and the set hash it replaces there."""

    chain_id: int
    contract: Address
    replaced_set_hash: Hash32  # that contract's ``validatorSetHash()`` when proposed

    @property
    def domain(self) -> EvmDomain:
        return EvmDomain(self.chain_id, self.contract)


@dataclass(frozen=True, slots=True)
class SetProposal:
    """A proposed new validator set for every bridge contract in ``chains``.

    Construction refuses (ValueError) a proposal the contracts would refuse: a set that
    breaks a set rule, a ``set_id`` or ``deadline`` out of uint64, no chain, or the same
    chain twice (chains are kept in ascending chain-id order).
    """

    set_id: int  # the new set's id: the current id + 1
    members: tuple[Validator, ...]  # strictly ascending by address
    threshold: int
    min_jurisdictions: int
    deadline: int  # the last unix second ``rotateValidatorSet`` may be mined at
    chains: tuple[ChainTarget, ...]

    def __post_init__(self) -> None:
        for name in ("set_id", "deadline"):
            value = getattr(self, name)
            if type(value) is not int or not 0 < value <= UINT64_MAX:
                raise ValueError(f"{name} must be a positive uint64, got {value!r}")
        violation = validate_set(
            [m.address for m in self.members],
            [m.jurisdiction for m in self.members],
            self.threshold,
            self.min_jurisdictions,
        )
        if violation is not None:
            raise ValueError(f"{violation.rule.value}: {violation.detail}")
        ids = [c.chain_id for c in self.chains]
        if not ids or ids != sorted(set(ids)):
            raise ValueError("chains must be one or more, in ascending chain id, each once")

    @property
    def validator_set(self) -> ValidatorSet:
        return ValidatorSet(self.set_id, self.members, self.threshold, self.min_jurisdictions)

    def target(self, chain_id: int) -> ChainTarget | None:
        return next((c for c in self.chains if c.chain_id == chain_id), None)

    def digest(self, target: ChainTarget) -> Hash32:
        """What the current set signs for ``target``: ``hashValidatorSetUpdate`` there."""
        return validator_set_update_digest(
            target.domain,
            self.set_id,
            target.replaced_set_hash,
            self.deadline,
            [m.address for m in self.members],
            [m.jurisdiction for m in self.members],
            self.threshold,
            self.min_jurisdictions,
        )

    def digests(self) -> dict[int, Hash32]:
        """Chain id -> the digest signed for that chain."""
        return {c.chain_id: self.digest(c) for c in self.chains}

    @property
    def proposal_id(self) -> Hash32:
        """A hash of the whole content: every field, every chain."""
        body = encode(
            [
                "bytes32",
                "uint64",
                "address[]",
                "bytes2[]",
                "uint8",
                "uint8",
                "uint64",
                "(uint64,address,bytes32)[]",
            ],
            [
                keccak(PROPOSAL_TAG),
                self.set_id,
                [m.address for m in self.members],
                [jurisdiction_code(m.jurisdiction) for m in self.members],
                self.threshold,
                self.min_jurisdictions,
                self.deadline,
                [(c.chain_id, c.contract, c.replaced_set_hash) for c in self.chains],
            ],
        )
        return Hash32(keccak(body))


def proposal_to_json(proposal: SetProposal) -> dict[str, object]:
    """The proposal as plain JSON (lower-case ``0x`` hex): what the store keeps, and the
    body of its gossip messages (relayer.gossip.sets)."""
    return {
        "proposal_id": hex32(proposal.proposal_id),
        "set_id": proposal.set_id,
        "deadline": proposal.deadline,
        "members": [hex32(m.address) for m in proposal.members],
        "jurisdictions": [m.jurisdiction for m in proposal.members],
        "threshold": proposal.threshold,
        "min_jurisdictions": proposal.min_jurisdictions,
        "chains": [
            {
                "chain_id": c.chain_id,
                "contract": hex32(c.contract),
                "replaced_set_hash": hex32(c.replaced_set_hash),
            }
            for c in proposal.chains
        ],
    }


def proposal_from_json(data: Mapping[str, Any]) -> SetProposal:
    """Inverse of `proposal_to_json` for data this relayer wrote itself (the store);
    ValueError if malformed or if ``proposal_id`` is not the content's hash. Gossip has its
    own strict decoder."""
    try:
        proposal = SetProposal(
            set_id=int(data["set_id"]),
            members=tuple(
                Validator(parse_address(m, "member"), str(j))
                for m, j in zip(data["members"], data["jurisdictions"], strict=True)
            ),
            threshold=int(data["threshold"]),
            min_jurisdictions=int(data["min_jurisdictions"]),
            deadline=int(data["deadline"]),
            chains=tuple(
                ChainTarget(
                    int(c["chain_id"]),
                    parse_address(c["contract"], "contract"),
                    Hash32(parse_hash32(c["replaced_set_hash"], "replaced_set_hash")),
                )
                for c in data["chains"]
            ),
        )
    except (KeyError, TypeError) as err:
        raise ValueError(f"malformed set proposal: {err}") from err
    if hex32(proposal.proposal_id) != data.get("proposal_id"):
        raise ValueError("proposal_id is not the hash of the proposal")
    return proposal


# ------------------------------------------------------------------ building a set


class ChangeFault(enum.StrEnum):
    """Why a requested change cannot make a set (besides the contract's set rules)."""

    NOT_A_MEMBER = "not_a_member"  # --remove of an address outside the current set
    ALREADY_MEMBER = "already_member"  # --add of a current member (not removed)
    ADDED_TWICE = "added_twice"
    REMOVED_TWICE = "removed_twice"
    ZERO_ADDRESS = "zero_address"
    BAD_JURISDICTION = "bad_jurisdiction"
    NO_CHANGE = "no_change"  # the same members, threshold and min jurisdictions
    DEADLINE_PASSED = "deadline_passed"


@dataclass(frozen=True, slots=True)
class SetRefused:
    """The change is refused: ``rule`` is a `ChangeFault` value or the contract error's
    name (a `relayer.domain.quorum.SetRule` value); ``detail`` says what was wrong."""

    rule: str
    detail: str


def build_set(
    current: ValidatorSet,
    add: Sequence[tuple[Address, str]],
    remove: Sequence[Address],
    threshold: int,
    min_jurisdictions: int,
) -> ValidatorSet | SetRefused:
    """``current`` minus ``remove`` plus ``add``, sorted as the contract requires, with id
    ``current.set_id + 1``, or why not (the first fault found)."""
    removing: set[Address] = set()
    for address in remove:
        if address in removing:
            return SetRefused(ChangeFault.REMOVED_TWICE, f"--remove {hex32(address)} given twice")
        if current.jurisdiction_of(address) is None:
            return SetRefused(
                ChangeFault.NOT_A_MEMBER, f"--remove {hex32(address)}: not in the current set"
            )
        removing.add(address)
    members = {m.address: m for m in current.members if m.address not in removing}
    adding: set[Address] = set()
    for address, jurisdiction in add:
        if address == ZERO_ADDRESS:
            return SetRefused(ChangeFault.ZERO_ADDRESS, "--add: the zero address")
        if address in adding:
            return SetRefused(ChangeFault.ADDED_TWICE, f"--add {hex32(address)} given twice")
        if address in members:
            return SetRefused(
                ChangeFault.ALREADY_MEMBER, f"--add {hex32(address)}: already a member"
            )
        try:
            members[address] = Validator(address, jurisdiction)
        except ValueError as err:
            return SetRefused(ChangeFault.BAD_JURISDICTION, f"--add {hex32(address)}: {err}")
        adding.add(address)
    ordered = tuple(members[a] for a in sorted(members))
    violation = validate_set(
        [m.address for m in ordered],
        [m.jurisdiction for m in ordered],
        threshold,
        min_jurisdictions,
    )
    if violation is not None:
        return SetRefused(violation.rule.value, violation.detail)
    if (
        ordered == current.members
        and threshold == current.threshold
        and min_jurisdictions == current.min_jurisdictions
    ):
        return SetRefused(ChangeFault.NO_CHANGE, "the proposed set is the current set")
    return ValidatorSet(current.set_id + 1, ordered, threshold, min_jurisdictions)


def set_difference(a: ValidatorSet, b: ValidatorSet) -> str | None:
    """How two chains' current sets differ (None when they are the same set)."""
    if a.set_id != b.set_id:
        return f"set id {a.set_id} vs {b.set_id}"
    if a.members != b.members:
        return "members or jurisdictions differ"
    if a.threshold != b.threshold:
        return f"threshold {a.threshold} vs {b.threshold}"
    if a.min_jurisdictions != b.min_jurisdictions:
        return f"min jurisdictions {a.min_jurisdictions} vs {b.min_jurisdictions}"
    return None


def propose(
    current: ValidatorSet,
    chains: Sequence[ChainTarget],
    add: Sequence[tuple[Address, str]],
    remove: Sequence[Address],
    threshold: int,
    min_jurisdictions: int,
    deadline: int,
    now: int,
) -> SetProposal | SetRefused:
    """The proposal for ``chains`` (all holding ``current``), or why not."""
    if deadline <= now:
        return SetRefused(ChangeFault.DEADLINE_PASSED, f"deadline {deadline} is not after now")
    built = build_set(current, add, remove, threshold, min_jurisdictions)
    if isinstance(built, SetRefused):
        return built
    return SetProposal(
        built.set_id,
        built.members,
        built.threshold,
        built.min_jurisdictions,
        deadline,
        tuple(sorted(chains, key=lambda c: c.chain_id)),
    )


# ------------------------------------------------------------ where a rotation stands


@dataclass(frozen=True, slots=True)
class Applied:
    """The chain's current set is the proposed one: the rotation happened (final)."""


@dataclass(frozen=True, slots=True)
class Superseded:
    """The chain's set moved on to another set: this proposal can never apply (final)."""

    set_id: int


@dataclass(frozen=True, slots=True)
class Expired:
    """The deadline passed before the rotation was applied (final)."""

    deadline: int


@dataclass(frozen=True, slots=True)
class AwaitingQuorum:
    """Not enough of the current set signed yet."""

    shortfall: QuorumNotMet


@dataclass(frozen=True, slots=True)
class ReadyToSubmit:
    """A bundle the contract accepts: ``rotateValidatorSet`` may be sent."""

    quorum: QuorumMet


RotationOutcome = Applied | Superseded | Expired | AwaitingQuorum | ReadyToSubmit
FINAL = (Applied, Superseded, Expired)


@dataclass(frozen=True, slots=True)
class SetSignature:
    """One validator's signature of a proposal for one chain."""

    proposal_id: Hash32
    chain_id: int
    signer: Address
    digest: Hash32
    signature: bytes


def rotation_state(
    proposal: SetProposal,
    target: ChainTarget,
    current: ValidatorSet,
    current_hash: Hash32,
    now: int,
    signatures: Iterable[SetSignature],
) -> RotationOutcome:
    """Where ``proposal`` stands on ``target``'s chain, given that chain's current set,
    its ``validatorSetHash()`` and the time (``block.timestamp`` rule: valid through
    ``deadline`` inclusive), and the signatures collected so far."""
    if current.set_id >= proposal.set_id:
        if current == proposal.validator_set:
            return Applied()
        return Superseded(current.set_id)
    if current.set_id + 1 != proposal.set_id or current_hash != target.replaced_set_hash:
        return Superseded(current.set_id)  # not the set this proposal replaces
    if now > proposal.deadline:
        return Expired(proposal.deadline)
    digest = proposal.digest(target)
    attestations = [
        Attestation(s.proposal_id, s.digest, s.signer, s.signature)
        for s in signatures
        if s.chain_id == target.chain_id and s.proposal_id == proposal.proposal_id
    ]
    outcome = evaluate_quorum(current, digest, attestations)
    if isinstance(outcome, QuorumMet):
        return ReadyToSubmit(outcome)
    return AwaitingQuorum(outcome)
