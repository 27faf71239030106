"""Which root a validator signs over a window of source nonces (committed roots).

Validators can only agree on a root if they agree on its nonce range, so the ranges are
fixed in advance: aligned windows of ``size`` consecutive source nonces of one source chain
(nonces start at 1: window ``k`` is ``k*size+1 .. (k+1)*size``). For one destination, a
validator's root over a window is the ``relayer.domain.merkle`` root of the releases it
signed among the window's transfers bound there, in nonce order, and it signs it only once
every nonce of the window is final on the source and decided by it:

- a transfer to this destination is decided once this validator signed its release (a leaf)
  or will never sign it (refused, or already released or cancelled without its signature);
- a transfer to another destination only has to be final on the source (it is no leaf, but
  a reorg could still turn its nonce into a transfer to this destination).

A window that is incomplete, or holds no release this validator signed, has no root: its
transfers go the per-transfer way. Validators that decided differently sign different
roots; only a root with a quorum is ever committed, so a refusal or a hold costs the others
nothing but the per-transfer path. Plain functions over frozen values: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from relayer.domain.digest import release_struct_hash
from relayer.domain.merkle import MultiProof, Tree, build_tree, multiproof_of, root_of
from relayer.domain.types import UINT64_MAX, Hash32, Release


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """The source nonces ``first_nonce..last_nonce`` of ``src_chain_id`` one root covers."""

    src_chain_id: int
    first_nonce: int
    last_nonce: int

    def __post_init__(self) -> None:
        if not 1 <= self.first_nonce <= self.last_nonce <= UINT64_MAX:
            raise ValueError(f"not a nonce window: {self.first_nonce}..{self.last_nonce}")

    @property
    def size(self) -> int:
        return self.last_nonce - self.first_nonce + 1

    def holds(self, nonce: int) -> bool:
        return self.first_nonce <= nonce <= self.last_nonce


def window_of(src_chain_id: int, nonce: int, size: int) -> Window:
    """The aligned window of ``size`` nonces that holds ``nonce`` (nonces start at 1; the
    last window below 2**64 may be shorter)."""
    if size < 1:
        raise ValueError(f"a root window holds at least one nonce, not {size}")
    if nonce < 1:
        raise ValueError(f"source nonces start at 1, not {nonce}")
    first = (nonce - 1) // size * size + 1
    return Window(src_chain_id, first, min(first + size - 1, UINT64_MAX))  # the top one: short


@dataclass(frozen=True, slots=True)
class Entry:
    """What this validator knows of one nonce of a window.

    ``final``: the lock is final on the source chain. ``signed``: the release this validator
    signed for it (None if it did not). ``settled``: it never will sign it (refused, or the
    transfer ended without its signature)."""

    nonce: int
    dst_chain_id: int
    final: bool
    signed: Release | None = None
    settled: bool = False


@dataclass(frozen=True, slots=True)
class Incomplete:
    """No root yet: these nonces are missing or undecided (ascending)."""

    nonces: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NothingSigned:
    """The window is decided but holds no release this validator signed for the destination."""


@dataclass(frozen=True, slots=True)
class RootProposal:
    """The root this validator signs for ``window`` on ``dst_chain_id``: ``releases`` are
    its leaves' releases in nonce order, ``tree`` the Merkle tree over their struct hashes."""

    window: Window
    dst_chain_id: int
    releases: tuple[Release, ...]
    tree: Tree

    @property
    def root(self) -> Hash32:
        return root_of(self.tree)

    def leaf_index(self, transfer_id: Hash32) -> int | None:
        """Where ``transfer_id``'s release is among the leaves (None: not a leaf)."""
        for i, release in enumerate(self.releases):
            if release.transfer_id == transfer_id:
                return i
        return None

    def multiproof(self, transfer_ids: Iterable[Hash32]) -> tuple[tuple[Release, ...], MultiProof]:
        """The releases of ``transfer_ids`` in the order the contract takes them (the
        multiproof's leaf order) and their multiproof. Raises ValueError for a non-leaf."""
        indices = []
        for tid in transfer_ids:
            index = self.leaf_index(tid)
            if index is None:
                raise ValueError(f"0x{tid.hex()} is not a leaf of this root")
            indices.append(index)
        proof = multiproof_of(self.tree, indices)
        by_leaf = {release_struct_hash(r): r for r in (self.releases[i] for i in indices)}
        return tuple(by_leaf[leaf] for leaf in proof.leaves), proof


RootOutcome = RootProposal | Incomplete | NothingSigned


def propose_root(window: Window, dst_chain_id: int, entries: Sequence[Entry]) -> RootOutcome:
    """The root this validator may sign over ``window`` for ``dst_chain_id``, given what it
    knows of the window's nonces (in any order; nonces outside the window are ignored)."""
    known = {e.nonce: e for e in entries if window.holds(e.nonce)}
    open_nonces: list[int] = []
    releases: list[Release] = []
    for nonce in range(window.first_nonce, window.last_nonce + 1):
        entry = known.get(nonce)
        if entry is None or not entry.final:
            open_nonces.append(nonce)
        elif entry.dst_chain_id != dst_chain_id:
            continue
        elif entry.signed is not None:
            if entry.signed.nonce != nonce or entry.signed.src_chain_id != window.src_chain_id:
                raise ValueError(f"the release signed for nonce {nonce} is not that nonce's")
            releases.append(entry.signed)
        elif not entry.settled:
            open_nonces.append(nonce)
    if open_nonces:
        return Incomplete(tuple(open_nonces))
    if not releases:
        return NothingSigned()
    tree = build_tree([release_struct_hash(r) for r in releases])
    return RootProposal(window, dst_chain_id, tuple(releases), tree)
