"""Recovering and producing the 65-byte (r ‖ s ‖ v) signatures the contracts accept.

``recover_signer`` makes exactly the checks of ``SignatureBundle.check`` in
``contracts/src/libraries/SignatureBundle.sol``: 65 bytes, ``v`` in {27, 28},
``s <= secp256k1n / 2``, and ``ecrecover`` yielding a non-zero address.
"""

from __future__ import annotations

from coincurve import PrivateKey, PublicKey
from eth_utils.crypto import keccak

from relayer.domain.errors import InvalidSignatureError, SignatureFault
from relayer.domain.types import Address

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2  # 0x7fff…5d576e7357a4501ddfe92f46681b20a0, as in the contract
SIGNATURE_LENGTH = 65


def address_of_public_key(public_key: PublicKey) -> Address:
    """The Ethereum address of a public key: last 20 bytes of keccak(x ‖ y)."""
    return Address(keccak(public_key.format(compressed=False)[1:])[-20:])


def recover_signer(digest: bytes, signature: bytes) -> Address:
    """Mirrors one iteration of ``SignatureBundle.check``: the signer of ``digest``.

    Raises ``InvalidSignatureError`` (a ``ValueError``) naming the failed check.
    """
    if len(digest) != 32:
        raise InvalidSignatureError(SignatureFault.UNRECOVERABLE, "digest must be 32 bytes")
    if len(signature) != SIGNATURE_LENGTH:
        raise InvalidSignatureError(
            SignatureFault.BAD_LENGTH, f"expected 65 bytes, got {len(signature)}"
        )
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if s > SECP256K1_HALF_N:
        raise InvalidSignatureError(SignatureFault.HIGH_S, "s is above secp256k1n / 2")
    if v not in (27, 28):
        raise InvalidSignatureError(SignatureFault.BAD_V, f"v must be 27 or 28, got {v}")
    try:
        public_key = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
    except ValueError as err:  # r or s zero or >= n, or no point: ecrecover returns 0
        raise InvalidSignatureError(SignatureFault.UNRECOVERABLE, str(err)) from err
    return address_of_public_key(public_key)


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """Sign a 32-byte digest: 65 bytes r ‖ s ‖ v with low s and v in {27, 28}.

    libsecp256k1 always produces low-s signatures, so the result passes ``recover_signer``.
    """
    if len(digest) != 32:
        raise ValueError("digest must be 32 bytes")
    compact = PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return compact[:64] + bytes([compact[64] + 27])


def address_of_private_key(private_key: bytes) -> Address:
    """The address that ``sign_digest(private_key, …)`` signs as."""
    return address_of_public_key(PrivateKey(private_key).public_key)


def recoverable_signature(digest: bytes, r: int, s: int, signer: Address) -> bytes:
    """65 bytes r ‖ s ‖ v from a bare ECDSA (r, s) by ``signer`` (what an HSM returns).

    ``s`` is moved to the low half (``n - s`` signs the same digest with the other
    recovery id), then ``v`` is whichever of 27 and 28 recovers ``signer``; the result
    passes ``recover_signer``. Raises ``ValueError`` when neither does: the signature is
    not by ``signer`` or not over ``digest``.
    """
    if len(digest) != 32:
        raise ValueError("digest must be 32 bytes")
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise ValueError("r and s must lie in [1, n - 1]")
    if s > SECP256K1_HALF_N:
        s = SECP256K1_N - s
    rs = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    for v in (27, 28):
        candidate = rs + bytes([v])
        try:
            if recover_signer(digest, candidate) == signer:
                return candidate
        except InvalidSignatureError:
            continue
    raise ValueError(f"the signature does not recover to 0x{signer.hex()}")
