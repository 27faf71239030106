"""What the attester and the submitter need from a key, whatever holds it.

A ``Signer`` knows its address and signs 32-byte digests; it never hands out key
material. Backends: an encrypted keystore in this process (``keystore.py``), a key
inside an HSM reached over PKCS#11 (``hsm.py``) and an AWS KMS key (``kms.py``).
``sign_digest`` is synchronous: a backend that goes over the network bounds every call
with timeouts and a few tries. Transactions are signed through the same
``sign_digest`` (``transaction.py``), so no code path outside a backend needs a raw key.
"""

from __future__ import annotations

from typing import Protocol

from relayer.domain.types import Address


class Signer(Protocol):
    """A key that signs digests; ``repr`` shows the address only."""

    @property
    def address(self) -> Address:
        """The Ethereum address of the key."""
        ...

    def sign_digest(self, digest: bytes) -> bytes:
        """65 bytes r || s || v over a 32-byte digest: v is 27 or 28, s in the low half
        (what ``relayer.domain.signature.recover_signer`` and the contracts accept)."""
        ...
