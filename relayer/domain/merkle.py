"""The Merkle tree of a committed root (``commitRoot`` / ``releaseWithProof``).

Construction (docs/contracts.md, "Committed roots"), the layout of OpenZeppelin's
``@openzeppelin/merkle-tree`` ``makeMerkleTree`` so that its proofs and multiproofs verify
with OpenZeppelin's ``MerkleProof`` in the contracts:

- the leaves are the EIP-712 struct hashes of the ``Release`` values a validator approved
  (``digest.release_struct_hash``), in ascending source nonce, never sorted by value;
- the tree is an array of ``2n - 1`` nodes: leaf ``i`` at index ``2n - 2 - i``, and node
  ``k`` (for ``k < n - 1``) is ``hash_pair(node[2k + 1], node[2k + 2])``, where
  ``hash_pair(a, b) = keccak256(min(a, b) ‖ max(a, b))`` (OpenZeppelin's commutative hash);
- the root is node 0.

A leaf is a 224-byte preimage (typehash and six words) and an inner node a 64-byte one, so
no inner node can pass for a release. Plain functions over tuples of ``Hash32``: no clock, no
I/O; ``tests/vectors/merkle.json`` (from the npm library itself) checks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils.crypto import keccak

from relayer.domain.types import Hash32

Tree = tuple[Hash32, ...]


class MerkleError(ValueError):
    """A tree with no leaves, an index that is not a leaf, or a repeated index."""


@dataclass(frozen=True, slots=True)
class MultiProof:
    """OpenZeppelin's multiproof: the leaves in the order the contract wants them (ascending
    leaf index), the sibling hashes it cannot rebuild, and one flag per inner hash."""

    leaves: tuple[Hash32, ...]
    proof: tuple[Hash32, ...]
    flags: tuple[bool, ...]


def hash_pair(a: bytes, b: bytes) -> Hash32:
    """OpenZeppelin ``Hashes.commutativeKeccak256``: keccak256 of the sorted pair."""
    return Hash32(keccak(a + b) if a <= b else keccak(b + a))


def build_tree(leaves: Sequence[Hash32]) -> Tree:
    """The node array of the tree over ``leaves`` (in the given order)."""
    n = len(leaves)
    if n == 0:
        raise MerkleError("a Merkle tree needs at least one leaf")
    nodes: list[Hash32] = [Hash32(b"")] * (2 * n - 1)
    for i, leaf in enumerate(leaves):
        if len(leaf) != 32:
            raise MerkleError(f"leaf {i} is {len(leaf)} bytes, not 32")
        nodes[2 * n - 2 - i] = leaf
    for k in range(n - 2, -1, -1):
        nodes[k] = hash_pair(nodes[2 * k + 1], nodes[2 * k + 2])
    return tuple(nodes)


def root_of(tree: Tree) -> Hash32:
    """The root (node 0)."""
    return tree[0]


def _leaf_node(tree: Tree, leaf_index: int) -> int:
    n = (len(tree) + 1) // 2
    if not 0 <= leaf_index < n:
        raise MerkleError(f"leaf index {leaf_index} is outside 0..{n - 1}")
    return len(tree) - 1 - leaf_index


def _sibling(k: int) -> int:
    return k + 1 if k % 2 == 1 else k - 1


def proof_of(tree: Tree, leaf_index: int) -> tuple[Hash32, ...]:
    """The sibling hashes from leaf ``leaf_index`` up to the root (``MerkleProof.verify``)."""
    k = _leaf_node(tree, leaf_index)
    proof: list[Hash32] = []
    while k > 0:
        proof.append(tree[_sibling(k)])
        k = (k - 1) // 2
    return tuple(proof)


def multiproof_of(tree: Tree, leaf_indices: Sequence[int]) -> MultiProof:
    """OpenZeppelin ``getMultiProof`` over the leaves ``leaf_indices``."""
    nodes = sorted((_leaf_node(tree, i) for i in leaf_indices), reverse=True)
    if len(set(nodes)) != len(nodes):
        raise MerkleError("a multiproof cannot prove the same leaf twice")
    if not nodes:
        raise MerkleError("a multiproof needs at least one leaf")
    queue = list(nodes)
    proof: list[Hash32] = []
    flags: list[bool] = []
    while queue and queue[0] > 0:
        k = queue.pop(0)
        sibling = _sibling(k)
        if queue and queue[0] == sibling:
            flags.append(True)
            queue.pop(0)
        else:
            flags.append(False)
            proof.append(tree[sibling])
        queue.append((k - 1) // 2)
    return MultiProof(tuple(tree[k] for k in nodes), tuple(proof), tuple(flags))


def process_proof(leaf: Hash32, proof: Sequence[Hash32]) -> Hash32:
    """The root a single proof leads to (``MerkleProof.processProof``)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def process_multiproof(multiproof: MultiProof) -> Hash32:
    """The root a multiproof leads to (``MerkleProof.processMultiProof``)."""
    leaves, proof, flags = multiproof.leaves, multiproof.proof, multiproof.flags
    if len(leaves) + len(proof) != len(flags) + 1:
        raise MerkleError("the multiproof's lengths do not fit its leaves")
    queue = list(leaves)
    siblings = list(proof)
    for flag in flags:
        a = queue.pop(0)
        b = queue.pop(0) if flag else siblings.pop(0)
        queue.append(hash_pair(a, b))
    if siblings or len(queue) != 1:
        raise MerkleError("the multiproof leaves hashes unused")
    return queue[0]
