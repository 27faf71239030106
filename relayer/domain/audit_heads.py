"""Audit chain heads: what a validator signs about its own audit chain, and the checks on it.

A validator signs the head of its audit chain (relayer.store.audit) from time to time and
gossips it; the others keep every head they receive. Later, the chain must still contain
every head it ever showed: a head whose ``seq`` the chain no longer reaches means the tail
was cut (truncated), a head whose ``seq`` holds another hash means links were rewritten.

Signed in the off-chain audit domain (no chain id: the contracts never see it)::

    EIP712Domain(string name,string version) = ("ConfluxBridgeAudit", "1")
    AuditHead(address validator,uint64 seq,bytes32 hash,uint64 at)

``seq`` and ``hash`` are those of the chain's newest link (``seq`` 0 and 32 zero bytes for an
empty chain); ``at`` is when it was signed (unix seconds), so two heads of one validator can
be ordered: a later head with a lower ``seq`` is a chain that went backwards.

Everything here is pure: no clock, no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.domain.types import Address, Hash32

AUDIT_DOMAIN_NAME: Final = "ConfluxBridgeAudit"
AUDIT_DOMAIN_VERSION: Final = "1"
AUDIT_DOMAIN_TYPE: Final = "EIP712Domain(string name,string version)"
AUDIT_HEAD_TYPE: Final = "AuditHead(address validator,uint64 seq,bytes32 hash,uint64 at)"
AUDIT_HEAD_TYPEHASH: Final = Hash32(keccak(text=AUDIT_HEAD_TYPE))
GENESIS_HASH: Final = Hash32(bytes(32))  # the hash "before" the first link (store.audit)
MAX_SEQ: Final = 2**63 - 1  # the audit log's key is a signed 64-bit integer
MAX_AT: Final = 2**64 - 1

AUDIT_SEPARATOR: Final = Hash32(
    keccak(
        encode(
            ["bytes32", "bytes32", "bytes32"],
            [
                keccak(text=AUDIT_DOMAIN_TYPE),
                keccak(text=AUDIT_DOMAIN_NAME),
                keccak(text=AUDIT_DOMAIN_VERSION),
            ],
        )
    )
)


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The newest link of one validator's audit chain, as that validator states it."""

    validator: Address
    seq: int  # the newest link's seq; 0 for an empty chain
    hash: Hash32  # the newest link's hash; GENESIS_HASH for an empty chain
    at: int  # unix seconds when signed

    def __post_init__(self) -> None:
        if len(self.validator) != 20:
            raise ValueError("validator must be a 20-byte address")
        if type(self.seq) is not int or not 0 <= self.seq <= MAX_SEQ:
            raise ValueError(f"seq must be an int in [0, 2**63), got {self.seq!r}")
        if len(self.hash) != 32:
            raise ValueError("hash must be 32 bytes")
        if type(self.at) is not int or not 0 <= self.at <= MAX_AT:
            raise ValueError(f"at must be a uint64, got {self.at!r}")
        if (self.seq == 0) != (self.hash == GENESIS_HASH):
            raise ValueError("seq 0 goes with the genesis hash (an empty chain), and only it")


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A head with its validator's signature (r || s || v over `audit_head_digest`)."""

    head: AuditHead
    signature: bytes


@dataclass(frozen=True, slots=True)
class WitnessedHead:
    """A signed head as this validator received it: from its validator (``witness`` is the
    validator itself) or relayed by another validator (``witness``)."""

    signed: SignedHead
    witness: Address

    @property
    def head(self) -> AuditHead:
        return self.signed.head


def audit_head_digest(head: AuditHead) -> Hash32:
    """The EIP-712 digest a validator signs for ``head``."""
    struct = keccak(
        encode(
            ["bytes32", "address", "uint64", "bytes32", "uint64"],
            [AUDIT_HEAD_TYPEHASH, head.validator, head.seq, head.hash, head.at],
        )
    )
    return Hash32(keccak(b"\x19\x01" + AUDIT_SEPARATOR + struct))


# ----------------------------------------------------------- two heads of one validator


class ConflictKind(enum.StrEnum):
    """How two signed heads of one validator contradict each other (evidence of a rewrite)."""

    REWRITTEN = "rewritten"  # one seq, two hashes: two different chains
    REGRESSED = "regressed"  # the later head has a lower seq: the chain went backwards


@dataclass(frozen=True, slots=True)
class HeadConflict:
    """``new`` contradicts ``stored`` (both signed by the same validator)."""

    kind: ConflictKind
    stored: AuditHead
    new: AuditHead


def conflict_between(stored: AuditHead, new: AuditHead) -> HeadConflict | None:
    """Whether two heads of one validator cannot both come from one growing chain.

    Equal ``at``: only the hash can be compared (clocks have seconds; a chain may grow
    within one).
    """
    if stored.validator != new.validator:
        raise ValueError("heads of two different validators are not comparable")
    if stored.seq == new.seq and stored.hash != new.hash:
        return HeadConflict(ConflictKind.REWRITTEN, stored, new)
    later, earlier = (new, stored) if new.at > stored.at else (stored, new)
    if later.at != earlier.at and later.seq < earlier.seq:
        return HeadConflict(ConflictKind.REGRESSED, stored, new)
    return None


# ----------------------------------------------------- a chain against witnessed heads


class MissingKind(enum.StrEnum):
    """Why a chain does not contain a head it once showed."""

    TRUNCATED = "truncated"  # the chain ends before the head's seq
    REWRITTEN = "rewritten"  # the link at the head's seq has another hash, or is missing


@dataclass(frozen=True, slots=True)
class ChainExtends:
    """The chain contains every head checked (``heads`` of them, the highest ``seq``)."""

    heads: int
    highest_seq: int


@dataclass(frozen=True, slots=True)
class ChainMissesHead:
    """The first head (lowest ``seq``) the chain does not contain, and why."""

    head: AuditHead
    kind: MissingKind
    chain_last_seq: int  # the chain's newest seq (0: empty)
    chain_hash: Hash32 | None  # the chain's hash at the head's seq, if it has that link


ExtendsVerdict = ChainExtends | ChainMissesHead


def check_extends(links: Mapping[int, bytes], heads: Iterable[AuditHead]) -> ExtendsVerdict:
    """Whether the chain ``links`` (seq -> hash) contains every head in ``heads``.

    Only membership is checked here; that the links themselves chain correctly is
    ``relayer.store.audit.verify_links``'s job. The head reported is the one with the
    lowest ``seq`` among those missing (ties: by hash), so the verdict is deterministic.
    """
    last = max(links, default=0)
    checked, highest = 0, 0
    missing: list[ChainMissesHead] = []
    for head in heads:
        checked += 1
        highest = max(highest, head.seq)
        if head.seq == 0 and head.hash == GENESIS_HASH:
            continue  # an empty chain is a prefix of every chain
        found = links.get(head.seq)
        if found == head.hash:
            continue
        kind = MissingKind.TRUNCATED if head.seq > last else MissingKind.REWRITTEN
        hash_there = None if found is None else Hash32(found)
        missing.append(ChainMissesHead(head, kind, last, hash_there))
    if missing:
        return min(missing, key=lambda m: (m.head.seq, m.head.hash))
    return ChainExtends(checked, highest)
