"""The two DER structures a cloud KMS answers with, parsed strictly (pure functions).

- An ECDSA signature (RFC 3279 ``Ecdsa-Sig-Value``): ``SEQUENCE { INTEGER r, INTEGER s }``.
- A public key (RFC 5480 ``SubjectPublicKeyInfo``): ``SEQUENCE { SEQUENCE { OID
  id-ecPublicKey, OID secp256k1 }, BIT STRING point }``.

Only definite lengths, minimal encodings and no trailing bytes are accepted: anything else
raises ``ValueError`` saying what was wrong, never the bytes themselves.
"""

from __future__ import annotations

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OBJECT_IDENTIFIER = 0x06
ID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1
SECP256K1 = bytes.fromhex("2b8104000a")  # 1.3.132.0.10
PRIME256V1 = bytes.fromhex("2a8648ce3d030107")  # 1.2.840.10045.3.1.7 (NIST P-256)


def _element(data: bytes, at: int, tag: int, what: str) -> tuple[bytes, int]:
    """The body of the element of type ``tag`` at ``at``, and the offset after it."""
    if at + 2 > len(data):
        raise ValueError(f"{what}: truncated")
    if data[at] != tag:
        raise ValueError(f"{what}: expected tag 0x{tag:02x}, found 0x{data[at]:02x}")
    length, at = data[at + 1], at + 2
    if length & 0x80:
        octets = length & 0x7F
        if octets == 0 or octets > 2 or at + octets > len(data):
            raise ValueError(f"{what}: unsupported length encoding")
        length = int.from_bytes(data[at : at + octets], "big")
        if length < 0x80 or (octets == 2 and length < 0x100):
            raise ValueError(f"{what}: length not minimally encoded")
        at += octets
    if at + length > len(data):
        raise ValueError(f"{what}: truncated")
    return data[at : at + length], at + length


def _only(data: bytes, tag: int, what: str) -> bytes:
    body, end = _element(data, 0, tag, what)
    if end != len(data):
        raise ValueError(f"{what}: {len(data) - end} trailing bytes")
    return body


def _integer(data: bytes, at: int, what: str) -> tuple[int, int]:
    body, end = _element(data, at, INTEGER, what)
    if not body:
        raise ValueError(f"{what}: empty integer")
    if body[0] & 0x80:
        raise ValueError(f"{what}: negative integer")
    if len(body) > 1 and body[0] == 0 and not body[1] & 0x80:
        raise ValueError(f"{what}: integer not minimally encoded")
    return int.from_bytes(body, "big"), end


def parse_ecdsa_signature(der: bytes) -> tuple[int, int]:
    """``(r, s)`` from a DER ``Ecdsa-Sig-Value`` (what KMS ``Sign`` answers)."""
    body = _only(der, SEQUENCE, "signature")
    r, at = _integer(body, 0, "signature r")
    s, at = _integer(body, at, "signature s")
    if at != len(body):
        raise ValueError("signature: trailing bytes after s")
    return r, s


def parse_secp256k1_public_key(der: bytes) -> bytes:
    """The 65-byte uncompressed point (0x04 || x || y) of a DER ``SubjectPublicKeyInfo``
    (what KMS ``GetPublicKey`` answers); ``ValueError`` unless the key is on secp256k1."""
    body = _only(der, SEQUENCE, "public key")
    algorithm, at = _element(body, 0, SEQUENCE, "public key algorithm")
    kind, inner = _element(algorithm, 0, OBJECT_IDENTIFIER, "public key algorithm")
    if kind != ID_EC_PUBLIC_KEY:
        raise ValueError("public key: not an elliptic-curve key")
    curve, inner = _element(algorithm, inner, OBJECT_IDENTIFIER, "public key curve")
    if inner != len(algorithm):
        raise ValueError("public key algorithm: trailing bytes")
    if curve != SECP256K1:
        name = "NIST P-256" if curve == PRIME256V1 else "another curve"
        raise ValueError(f"public key: on {name}, not secp256k1")
    bits, at = _element(body, at, BIT_STRING, "public key point")
    if at != len(body):
        raise ValueError("public key: trailing bytes after the point")
    if len(bits) != 66 or bits[0] != 0 or bits[1] != 0x04:
        raise ValueError("public key: not an uncompressed point")
    return bits[1:]
