"""recover_signer makes exactly the contract's checks: length, v, low s, recoverable."""

from __future__ import annotations

import pytest
from domain_strategies import KEYS, hashes
from eth_keys.datatypes import Signature
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.errors import InvalidSignatureError, SignatureFault
from relayer.domain.signature import (
    SECP256K1_HALF_N,
    SECP256K1_N,
    address_of_private_key,
    recover_signer,
    recoverable_signature,
    sign_digest,
)
from relayer.errors import RelayerError

key_indexes = st.integers(0, len(KEYS) - 1)


@given(key_indexes, hashes)
def test_sign_then_recover_round_trips(index: int, digest: bytes) -> None:
    signature = sign_digest(KEYS[index], digest)
    assert len(signature) == 65
    assert signature[64] in (27, 28)
    assert int.from_bytes(signature[32:64], "big") <= SECP256K1_HALF_N
    signer = recover_signer(digest, signature)
    assert signer == address_of_private_key(KEYS[index])
    eth_keys_sig = Signature(signature[:64] + bytes([signature[64] - 27]))
    assert eth_keys_sig.recover_public_key_from_msg_hash(digest).to_canonical_address() == signer


def _fault(digest: bytes, signature: bytes) -> SignatureFault:
    with pytest.raises(InvalidSignatureError) as info:
        recover_signer(digest, signature)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RelayerError)
    return info.value.fault


@given(key_indexes, hashes)
def test_high_s_twin_is_rejected(index: int, digest: bytes) -> None:
    signature = sign_digest(KEYS[index], digest)
    s = int.from_bytes(signature[32:64], "big")
    v = 55 - signature[64]  # the twin (r, n - s) recovers with the other parity
    twin = signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([v])
    assert _fault(digest, twin) is SignatureFault.HIGH_S


@given(key_indexes, hashes, st.integers(0, 255).filter(lambda v: v not in (27, 28)))
def test_v_outside_27_28_is_rejected(index: int, digest: bytes, v: int) -> None:
    signature = sign_digest(KEYS[index], digest)
    assert _fault(digest, signature[:64] + bytes([v])) is SignatureFault.BAD_V


@given(hashes, st.binary(max_size=130).filter(lambda b: len(b) != 65))
def test_wrong_length_is_rejected(digest: bytes, signature: bytes) -> None:
    assert _fault(digest, signature) is SignatureFault.BAD_LENGTH


@pytest.mark.parametrize("r", [0, SECP256K1_N, 2**256 - 1])
def test_out_of_range_r_is_unrecoverable(r: int) -> None:
    signature = r.to_bytes(32, "big") + (1).to_bytes(32, "big") + bytes([27])
    assert _fault(b"\x01" * 32, signature) is SignatureFault.UNRECOVERABLE


def test_zero_s_is_unrecoverable() -> None:
    signature = (1).to_bytes(32, "big") + bytes(32) + bytes([28])
    assert _fault(b"\x01" * 32, signature) is SignatureFault.UNRECOVERABLE


@given(hashes, st.binary(min_size=65, max_size=65))
def test_random_bytes_recover_or_raise_only_the_typed_error(digest: bytes, sig: bytes) -> None:
    try:
        signer = recover_signer(digest, sig)
    except InvalidSignatureError:
        return
    assert len(signer) == 20


@given(key_indexes, hashes, st.booleans())
def test_a_bare_r_s_becomes_the_low_s_signature(index: int, digest: bytes, flip: bool) -> None:
    """What an HSM answers (r, s with either s) gives back the one low-s signature."""
    signature = sign_digest(KEYS[index], digest)
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    bare_s = SECP256K1_N - s if flip else s
    signer = address_of_private_key(KEYS[index])
    assert recoverable_signature(digest, r, bare_s, signer) == signature


@given(hashes)
def test_a_bare_r_s_by_another_key_is_refused(digest: bytes) -> None:
    signature = sign_digest(KEYS[0], digest)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    with pytest.raises(ValueError, match="does not recover"):
        recoverable_signature(digest, r, s, address_of_private_key(KEYS[1]))
    with pytest.raises(ValueError, match=r"\[1, n - 1\]"):
        recoverable_signature(digest, 0, s, address_of_private_key(KEYS[0]))
