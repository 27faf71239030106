"""Make sign.json: recorded AWS KMS answers for one fixed secp256k1 key, and the 65-byte
signature the relayer must make of each, checked byte for byte by
tests/integration/keys/test_kms_signer.py.

Independent of the relayer's code: libsecp256k1 (coincurve) signs deterministically
(RFC 6979, low s) and gives the recovery id; the answers are encoded here the way KMS
encodes them (DER, minimal positive integers, s NOT normalised: for the high-s cases the
answer carries n - s, which KMS returns about half the time). Digests are chosen so that
r and s of both lengths occur (a leading 0x00 pad, and a value shorter than 32 bytes).

Run: .venv/bin/python tests/vectors/kms/make_kms_vectors.py > tests/vectors/kms/sign.json
"""

from __future__ import annotations

import base64
import json

from coincurve import PrivateKey
from eth_utils.crypto import keccak

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
KEY_ID = "0d3f6a4e-7b1c-4c8e-9a52-5f0e2b6c9d41"
ARN = f"arn:aws:kms:eu-west-1:111122223333:key/{KEY_ID}"
SPKI_PREFIX = bytes.fromhex("3056301006072a8648ce3d020106052b8104000a034200")


def der_integer(value: int) -> bytes:
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if body[0] & 0x80:
        body = b"\x00" + body
    return bytes([0x02, len(body)]) + body


def der_signature(r: int, s: int) -> bytes:
    body = der_integer(r) + der_integer(s)
    return bytes([0x30, len(body)]) + body


def rs(key: PrivateKey, digest: bytes) -> tuple[int, int, int]:
    compact = key.sign_recoverable(digest, hasher=None)
    return int.from_bytes(compact[:32], "big"), int.from_bytes(compact[32:64], "big"), compact[64]


def pick_digests(key: PrivateKey) -> list[tuple[str, bytes]]:
    """Plain digests, then the first ones whose r or s is shorter than 32 bytes."""
    chosen = [
        ("keccak256('release')", keccak(b"release")),
        ("keccak256('audit head')", keccak(b"audit head")),
    ]
    wanted = {"short r": lambda r, s: r < 1 << 248, "short s": lambda r, s: s < 1 << 248}
    i = 0
    while wanted:
        digest = keccak(f"kms vector {i}".encode())
        r, s, _ = rs(key, digest)
        for name, test in list(wanted.items()):
            if test(r, s):
                chosen.append((f"keccak256('kms vector {i}'): {name}", digest))
                del wanted[name]
        i += 1
    return chosen


def main() -> None:
    key = PrivateKey(KEY)
    point = key.public_key.format(compressed=False)
    cases = []
    for about, digest in pick_digests(key):
        r, s, recid = rs(key, digest)
        expected = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + recid])
        for high_s in (False, True):
            der = der_signature(r, N - s if high_s else s)
            cases.append(
                {
                    "about": about + (", KMS answered high s" if high_s else ", low s"),
                    "digest": "0x" + digest.hex(),
                    "answer": {
                        "KeyId": ARN,
                        "Signature": base64.b64encode(der).decode(),
                        "SigningAlgorithm": "ECDSA_SHA_256",
                    },
                    "expected": "0x" + expected.hex(),
                }
            )
    vectors = {
        "about": "recorded AWS KMS answers (JSON protocol 1.1) for one ECC_SECG_P256K1 key; "
        "made by make_kms_vectors.py",
        "key_id": KEY_ID,
        "address": "0x" + keccak(point[1:])[-20:].hex(),
        "get_public_key": {
            "CustomerMasterKeySpec": "ECC_SECG_P256K1",
            "KeyId": ARN,
            "KeySpec": "ECC_SECG_P256K1",
            "KeyUsage": "SIGN_VERIFY",
            "PublicKey": base64.b64encode(SPKI_PREFIX + point).decode(),
            "SigningAlgorithms": ["ECDSA_SHA_256"],
        },
        "sign": cases,
    }
    print(json.dumps(vectors, indent=2))


if __name__ == "__main__":
    main()
