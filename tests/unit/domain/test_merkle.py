"""relayer.domain.merkle against OpenZeppelin's own library and as properties.

``tests/vectors/merkle.json`` and the random trees come from ``@openzeppelin/merkle-tree``
(``tests/vectors/make_merkle_vectors.cjs``, run with Node against ``contracts/node_modules``):
an implementation independent of ours, whose proofs OpenZeppelin's ``MerkleProof`` verifies.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.digest import release_struct_hash
from relayer.domain.merkle import (
    MerkleError,
    MultiProof,
    build_tree,
    hash_pair,
    multiproof_of,
    process_multiproof,
    process_proof,
    proof_of,
    root_of,
)
from relayer.domain.types import Hash32, Release, parse_address, parse_hash32

VECTORS_DIR = Path(__file__).resolve().parents[2] / "vectors"
GENERATOR = VECTORS_DIR / "make_merkle_vectors.cjs"
VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "merkle.json").read_text())


def _node() -> str:
    node = shutil.which("node")
    assert node is not None, "node (Node.js) is required: it runs OpenZeppelin's merkle-tree"
    return node


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_node(), str(GENERATOR), *args], capture_output=True, text=True, check=False, timeout=120
    )


def _release(raw: dict[str, Any]) -> Release:
    return Release(
        transfer_id=parse_hash32(raw["transferId"]),
        src_chain_id=raw["srcChainId"],
        nonce=raw["nonce"],
        token=parse_address(raw["token"]),
        recipient=parse_address(raw["recipient"]),
        amount=int(raw["amount"]),
    )


def _hashes(values: list[str]) -> tuple[Hash32, ...]:
    return tuple(parse_hash32(v) for v in values)


def _check_case(case: dict[str, Any]) -> None:
    releases = [_release(r) for r in case["releases"]]
    leaves = [release_struct_hash(r) for r in releases]
    assert leaves == [parse_hash32(r["leaf"]) for r in case["releases"]]
    tree = build_tree(leaves)
    root = root_of(tree)
    assert root == parse_hash32(case["root"])
    for i, expected in enumerate(case["proofs"]):
        proof = proof_of(tree, i)
        assert proof == _hashes(expected)
        assert process_proof(leaves[i], proof) == root
    for raw in case["multiproofs"]:
        multi = multiproof_of(tree, raw["indices"])
        assert multi == MultiProof(
            _hashes(raw["leaves"]), _hashes(raw["proof"]), tuple(raw["flags"])
        )
        assert process_multiproof(multi) == root


def test_json_is_a_fresh_run_of_the_generator() -> None:
    result = _generate("--check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["label"])
def test_matches_openzeppelin_vectors(case: dict[str, Any]) -> None:
    _check_case(case)


def test_matches_openzeppelin_on_random_trees() -> None:
    result = _generate("--random", "150", "7")
    assert result.returncode == 0, result.stderr
    cases = json.loads(result.stdout)["cases"]
    assert len(cases) == 150
    for case in cases:
        _check_case(case)


_leaves = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=80).map(
    lambda xs: [Hash32(x) for x in xs]
)


@given(_leaves, st.data())
def test_every_proof_and_multiproof_leads_to_the_root(leaves: list[Hash32], data: Any) -> None:
    tree = build_tree(leaves)
    root = root_of(tree)
    for i, leaf in enumerate(leaves):
        assert process_proof(leaf, proof_of(tree, i)) == root
    subset = data.draw(st.sets(st.integers(0, len(leaves) - 1), min_size=1, max_size=len(leaves)))
    multi = multiproof_of(tree, sorted(subset))
    assert multi.leaves == tuple(leaves[i] for i in sorted(subset))
    assert process_multiproof(multi) == root


@given(_leaves, st.data())
def test_a_changed_leaf_is_not_in_the_tree(leaves: list[Hash32], data: Any) -> None:
    tree = build_tree(leaves)
    i = data.draw(st.integers(0, len(leaves) - 1))
    forged = Hash32(keccak(leaves[i] + b"forged"))
    assert process_proof(forged, proof_of(tree, i)) != root_of(tree)
    multi = multiproof_of(tree, [i])
    changed = MultiProof((forged,), multi.proof, multi.flags)
    assert process_multiproof(changed) != root_of(tree)


def test_an_inner_node_is_not_a_leaf_of_its_own_tree() -> None:
    leaves = [Hash32(keccak(bytes([i]))) for i in range(4)]
    tree = build_tree(leaves)
    assert tree[1] == hash_pair(leaves[3], leaves[2])
    assert tree[1] not in leaves


def test_bad_arguments_are_named() -> None:
    with pytest.raises(MerkleError, match="at least one leaf"):
        build_tree([])
    with pytest.raises(MerkleError, match="leaf 1 is 31 bytes"):
        build_tree([Hash32(bytes(32)), Hash32(bytes(31))])
    tree = build_tree([Hash32(keccak(b"a")), Hash32(keccak(b"b"))])
    with pytest.raises(MerkleError, match=r"outside 0\.\.1"):
        proof_of(tree, 2)
    with pytest.raises(MerkleError, match="same leaf twice"):
        multiproof_of(tree, [0, 0])
    with pytest.raises(MerkleError, match="at least one leaf"):
        multiproof_of(tree, [])
    with pytest.raises(MerkleError, match="lengths"):
        process_multiproof(MultiProof((), (), (True,)))
