"""Audit heads: the signed digest, two heads of one validator, a chain against its heads."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.audit_heads import (
    GENESIS_HASH,
    MAX_SEQ,
    AuditHead,
    ChainExtends,
    ChainMissesHead,
    ConflictKind,
    MissingKind,
    audit_head_digest,
    check_extends,
    conflict_between,
)
from relayer.domain.signature import recover_signer
from relayer.domain.types import Address, Hash32
from relayer.keys import signer_from_hex

V = Address(bytes.fromhex("11" * 20))
KEY = "0x" + "42" * 32


def _chain(length: int, salt: bytes = b"") -> dict[int, bytes]:
    """seq -> hash of a chain of ``length`` links (a stand-in for store.audit's rule)."""
    links, prev = {}, bytes(GENESIS_HASH)
    for seq in range(1, length + 1):
        prev = hashlib.sha256(prev + salt + seq.to_bytes(8, "big")).digest()
        links[seq] = prev
    return links


def _head(links: dict[int, bytes], seq: int, at: int = 0) -> AuditHead:
    return AuditHead(V, seq, Hash32(links[seq]) if seq else GENESIS_HASH, at)


def test_audit_head_digest_matches_eth_account_typed_data() -> None:
    head = AuditHead(V, 7, Hash32(bytes.fromhex("ab" * 32)), 1_765_000_000)
    typed = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                ],
                "AuditHead": [
                    {"name": "validator", "type": "address"},
                    {"name": "seq", "type": "uint64"},
                    {"name": "hash", "type": "bytes32"},
                    {"name": "at", "type": "uint64"},
                ],
            },
            "primaryType": "AuditHead",
            "domain": {"name": "ConfluxBridgeAudit", "version": "1"},
            "message": {
                "validator": "0x" + V.hex(),
                "seq": 7,
                "hash": head.hash,
                "at": 1_765_000_000,
            },
        }
    )
    signed = Account.sign_message(typed, KEY)
    assert signed.message_hash == audit_head_digest(head)
    signer = signer_from_hex(KEY)
    assert recover_signer(audit_head_digest(head), signer.sign_digest(audit_head_digest(head))) == (
        signer.address
    )


@pytest.mark.parametrize(
    ("seq", "hash_", "at"),
    [
        (-1, b"\x01" * 32, 0),
        (MAX_SEQ + 1, b"\x01" * 32, 0),
        (1, b"\x01" * 31, 0),
        (0, b"\x01" * 32, 0),
        (1, bytes(32), 0),
        (1, b"\x01" * 32, -1),
        (True, b"\x01" * 32, 0),
    ],
)
def test_audit_head_refuses_bad_values(seq: int, hash_: bytes, at: int) -> None:
    with pytest.raises(ValueError, match=r"seq|hash|at"):
        AuditHead(V, seq, Hash32(hash_), at)


# -- two heads of one validator ----------------------------------------------------------


@given(st.integers(1, 40), st.integers(0, 40), st.integers(0, 10**6), st.integers(0, 10**6))
def test_heads_of_one_growing_chain_never_conflict(
    length: int, earlier_seq: int, t0: int, dt: int
) -> None:
    links = _chain(length)
    earlier_seq = min(earlier_seq, length)
    earlier = _head(links, earlier_seq, t0)
    later = _head(links, length, t0 + dt)
    assert conflict_between(earlier, later) is None
    assert conflict_between(later, earlier) is None


@given(st.integers(1, 40), st.integers(0, 10**6), st.integers(0, 10**6))
def test_one_seq_two_hashes_is_a_rewrite(seq: int, t0: int, t1: int) -> None:
    one, other = _head(_chain(seq), seq, t0), _head(_chain(seq, b"x"), seq, t1)
    conflict = conflict_between(one, other)
    assert conflict is not None and conflict.kind is ConflictKind.REWRITTEN


@given(st.integers(2, 40), st.data())
def test_a_later_head_with_a_lower_seq_is_a_regression(length: int, data: st.DataObject) -> None:
    links = _chain(length)
    low = data.draw(st.integers(0, length - 1))
    t0 = data.draw(st.integers(0, 10**6))
    high_head, low_head = _head(links, length, t0), _head(links, low, t0 + 1)
    for stored, new in ((high_head, low_head), (low_head, high_head)):
        conflict = conflict_between(stored, new)
        assert conflict is not None and conflict.kind is ConflictKind.REGRESSED
    # the same two heads signed in the growing order are fine
    assert conflict_between(_head(links, low, t0), _head(links, length, t0 + 1)) is None


def test_heads_of_two_validators_are_not_compared() -> None:
    other = AuditHead(Address(bytes(20)), 0, GENESIS_HASH, 0)
    with pytest.raises(ValueError, match="two different validators"):
        conflict_between(AuditHead(V, 0, GENESIS_HASH, 0), other)


# -- a chain against the heads it showed --------------------------------------------------


@given(st.integers(0, 30), st.lists(st.integers(0, 30), max_size=8))
def test_a_chain_extends_every_head_of_its_prefixes(length: int, seqs: list[int]) -> None:
    links = _chain(length)
    heads = [_head(links, min(s, length)) for s in seqs]
    verdict = check_extends(links, heads)
    assert verdict == ChainExtends(len(heads), max((h.seq for h in heads), default=0))


@given(st.integers(1, 30), st.data())
def test_truncating_the_tail_names_the_first_missing_head(length: int, data: st.DataObject) -> None:
    links = _chain(length)
    seqs = data.draw(st.lists(st.integers(0, length), min_size=1, max_size=8))
    keep = data.draw(st.integers(0, length - 1))
    truncated = {s: h for s, h in links.items() if s <= keep}
    heads = [_head(links, s) for s in seqs]
    verdict = check_extends(truncated, heads)
    beyond = sorted(s for s in seqs if s > keep)
    if not beyond:
        assert isinstance(verdict, ChainExtends)
        return
    assert isinstance(verdict, ChainMissesHead)
    assert verdict.head.seq == beyond[0]
    assert verdict.kind is MissingKind.TRUNCATED
    assert verdict.chain_last_seq == keep and verdict.chain_hash is None


@given(st.integers(1, 30), st.data())
def test_rewriting_a_link_names_the_first_head_at_or_after_it(
    length: int, data: st.DataObject
) -> None:
    links = _chain(length)
    at = data.draw(st.integers(1, length))
    rewritten = {s: h for s, h in links.items() if s < at}
    rewritten.update({s: h for s, h in _chain(length, b"evil").items() if s >= at})
    seqs = data.draw(st.lists(st.integers(0, length), min_size=1, max_size=8))
    verdict = check_extends(rewritten, [_head(links, s) for s in seqs])
    after = sorted(s for s in seqs if s >= at)
    if not after:
        assert isinstance(verdict, ChainExtends)
        return
    assert isinstance(verdict, ChainMissesHead)
    assert verdict.head.seq == after[0] and verdict.kind is MissingKind.REWRITTEN
    assert verdict.chain_hash == rewritten[after[0]]


def test_an_empty_chain_contains_only_the_empty_head() -> None:
    assert check_extends({}, [AuditHead(V, 0, GENESIS_HASH, 5)]) == ChainExtends(1, 0)
    verdict = check_extends({}, [_head(_chain(3), 3)])
    assert isinstance(verdict, ChainMissesHead) and verdict.kind is MissingKind.TRUNCATED
