"""The strict DER parsers of keys/der.py against coincurve's own DER encoder and against
encodings a strict parser must refuse."""

from __future__ import annotations

import pytest
from coincurve import PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.signature import SECP256K1_N
from relayer.keys.der import parse_ecdsa_signature, parse_secp256k1_public_key

SPKI_PREFIX = bytes.fromhex("3056301006072a8648ce3d020106052b8104000a034200")
P256_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def der_integer(value: int) -> bytes:
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if body[0] & 0x80:
        body = b"\x00" + body
    return bytes([0x02, len(body)]) + body


def der_signature(r: int, s: int) -> bytes:
    body = der_integer(r) + der_integer(s)
    return bytes([0x30, len(body)]) + body


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_a_libsecp256k1_der_signature_parses_to_its_r_and_s(secret: bytes, digest: bytes) -> None:
    try:
        key = PrivateKey(secret)
    except ValueError:
        return  # zero or >= n: not a key
    compact = key.sign_recoverable(digest, hasher=None)
    der = key.sign(digest, hasher=None)  # coincurve's own DER encoder
    assert der == der_signature(int.from_bytes(compact[:32]), int.from_bytes(compact[32:64]))
    assert parse_ecdsa_signature(der) == (
        int.from_bytes(compact[:32], "big"),
        int.from_bytes(compact[32:64], "big"),
    )


@given(st.integers(1, SECP256K1_N - 1), st.integers(1, SECP256K1_N - 1))
def test_any_r_and_s_round_trip(r: int, s: int) -> None:
    assert parse_ecdsa_signature(der_signature(r, s)) == (r, s)


@pytest.mark.parametrize(
    ("der", "says"),
    [
        (b"", "truncated"),
        (b"\x31\x06\x02\x01\x01\x02\x01\x01", "expected tag 0x30"),
        (b"\x30\x06\x02\x01\x01\x02\x01\x01\x00", "1 trailing bytes"),
        (b"\x30\x07\x02\x01\x01\x02\x01\x01\x00", "trailing bytes after s"),
        (b"\x30\x06\x02\x01\x81\x02\x01\x01", "negative integer"),
        (b"\x30\x07\x02\x02\x00\x01\x02\x01\x01", "not minimally encoded"),
        (b"\x30\x05\x02\x00\x02\x01\x01", "empty integer"),
        (b"\x30\x81\x06\x02\x01\x01\x02\x01\x01", "length not minimally encoded"),
        (b"\x30\x80\x02\x01\x01\x02\x01\x01\x00\x00", "unsupported length encoding"),
        (b"\x30\x08\x02\x01\x01\x02\x01\x01", "truncated"),
    ],
)
def test_a_signature_that_is_not_strict_der_is_refused(der: bytes, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_ecdsa_signature(der)


def test_a_secp256k1_public_key_parses_to_its_point() -> None:
    point = PrivateKey().public_key.format(compressed=False)
    assert parse_secp256k1_public_key(SPKI_PREFIX + point) == point


@pytest.mark.parametrize(
    ("der", "says"),
    [
        (P256_PREFIX + b"\x04" + b"\x01" * 64, "on NIST P-256, not secp256k1"),
        (SPKI_PREFIX[:-1] + b"\x01" + b"\x04" + b"\x01" * 64, "not an uncompressed point"),
        (SPKI_PREFIX + b"\x02" + b"\x01" * 64, "not an uncompressed point"),
        (SPKI_PREFIX + b"\x04" + b"\x01" * 63, "truncated"),
        (bytes.fromhex("3056301006072a8648ce3d020206052b8104000a034200") + b"\x04" * 65, "not an"),
        (SPKI_PREFIX + b"\x04" + b"\x01" * 64 + b"\x00", "1 trailing bytes"),
    ],
)
def test_a_public_key_that_is_not_secp256k1_is_refused(der: bytes, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_secp256k1_public_key(der)
