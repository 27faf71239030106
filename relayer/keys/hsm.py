"""The PKCS#11 backend: a secp256k1 key that never leaves an HSM.

Any PKCS#11 module works (a hardware HSM's, a cloud HSM's client library, SoftHSM2 in
tests). At start the signer loads the module, finds the token by label, logs in with the
PIN from a file, finds the private and the public key by label and reads the public key's
``EC_POINT`` once: that gives the address. Each ``sign_digest`` is one ``CKM_ECDSA``
operation in the token; the HSM answers a bare 64-byte r || s, which is moved to low s and
given the v that recovers the address (``relayer.domain.signature.recoverable_signature``).

The PIN is registered with the log scrubber (``relayer.log.register_secret``; a PIN
shorter than 8 characters cannot be, so use a long one) and never appears in a ``repr``
or an error message. Errors name the setting (or the command-line flag) that is wrong.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pkcs11
from coincurve import PublicKey
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import (
    MultipleObjectsReturned,
    MultipleTokensReturned,
    NoSuchKey,
    NoSuchToken,
    PinIncorrect,
    PinLocked,
    PKCS11Error,
    UserAlreadyLoggedIn,
)
from pkcs11.types import SignMixin
from pkcs11.util.ec import encode_named_curve_parameters

from relayer.domain.signature import address_of_public_key, recoverable_signature
from relayer.domain.types import Address
from relayer.errors import ConfigError, SignerError
from relayer.keys.keystore import read_secret_file, warn_if_readable_by_others
from relayer.log import register_secret

SECP256K1_PARAMS = encode_named_curve_parameters("secp256k1")
UNCOMPRESSED_POINT = 65  # 0x04 || x || y
DER_OCTET_STRING_65 = b"\x04\x41"  # how PKCS#11 wraps EC_POINT (some modules omit it)


@dataclass(frozen=True, slots=True)
class Pkcs11Key:
    """Where a key lives. ``prefix`` makes error messages name the right setting:
    ``validator.pkcs11_`` gives ``validator.pkcs11_token_label``; ``--`` gives the
    command-line flags (``--token-label``)."""

    module: Path
    token_label: str
    key_label: str
    pin_file: Path
    prefix: str = field(default="pkcs11_", compare=False)

    def name(self, setting: str) -> str:
        """The setting or flag called ``setting`` (module, token_label, key_label, pin_file)."""
        if self.prefix == "--":
            return "--" + setting.replace("_", "-")
        return self.prefix + setting

    def __repr__(self) -> str:
        return (
            f"Pkcs11Key(module={str(self.module)!r}, token_label={self.token_label!r}, "
            f"key_label={self.key_label!r})"
        )


class Pkcs11Signer:
    """A ``Signer`` whose key stays in a PKCS#11 token; holds one logged-in session."""

    def __init__(
        self, session: pkcs11.Session, key: SignMixin, address: Address, where: Pkcs11Key
    ) -> None:
        self._session = session
        self._key = key
        self._address = address
        self._where = where
        self._lock = threading.Lock()  # a PKCS#11 session runs one operation at a time

    @property
    def address(self) -> Address:
        return self._address

    def sign_digest(self, digest: bytes) -> bytes:
        """65-byte r || s || v (v = 27 or 28, low s) over a 32-byte digest, signed in the HSM."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        try:
            with self._lock:
                rs = self._key.sign(digest, mechanism=Mechanism.ECDSA)
        except PKCS11Error as err:
            raise SignerError(
                f"the HSM (token {self._where.token_label!r}) failed to sign: {type(err).__name__}"
            ) from err
        if len(rs) != 64:
            raise SignerError(f"the HSM answered a {len(rs)}-byte signature, expected 64")
        r, s = int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big")
        try:
            return recoverable_signature(digest, r, s, self._address)
        except ValueError as err:
            raise SignerError(f"the HSM's signature does not verify: {err}") from err

    def close(self) -> None:
        """End the session (the process exits anyway; tests call this)."""
        with self._lock:
            self._session.close()

    def __repr__(self) -> str:
        return (
            f"Pkcs11Signer(address=0x{self._address.hex()}, "
            f"token={self._where.token_label!r}, key={self._where.key_label!r})"
        )


def open_pkcs11_signer(where: Pkcs11Key) -> Pkcs11Signer:
    """Log in to the token and find the key; ``ConfigError`` naming the setting on failure."""
    session = _open_session(where, rw=False)
    try:
        return _signer_in(session, where)
    except BaseException:
        session.close()
        raise


def _signer_in(session: pkcs11.Session, where: Pkcs11Key) -> Pkcs11Signer:
    private = _find(session, where, ObjectClass.PRIVATE_KEY)
    if not isinstance(private, SignMixin):
        raise ConfigError(
            f"{where.name('key_label')}: key {where.key_label!r} is not allowed to sign"
        )
    address = _address_of(_find(session, where, ObjectClass.PUBLIC_KEY), where)
    signer = Pkcs11Signer(session, private, address, where)
    try:
        signer.sign_digest(os.urandom(32))  # the two halves belong together
    except SignerError as err:
        raise ConfigError(
            f"{where.name('key_label')}: the private and the public key labelled "
            f"{where.key_label!r} do not sign as one key: {err}"
        ) from err
    return signer


def create_pkcs11_key(where: Pkcs11Key) -> Address:
    """Generate a secp256k1 key pair in the token (private key sensitive, never
    extractable) labelled ``where.key_label``; refuses a label already in use."""
    session = _open_session(where, rw=True)
    try:
        taken = list(session.get_objects({Attribute.LABEL: where.key_label}))
        if taken:
            raise ConfigError(
                f"{where.name('key_label')}: token {where.token_label!r} already holds "
                f"objects labelled {where.key_label!r}; refusing to make another key"
            )
        try:
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: SECP256K1_PARAMS}, local=True
            )
            public, _ = params.generate_keypair(
                store=True,
                label=where.key_label,
                id=os.urandom(8),
                public_template={Attribute.VERIFY: True},
                private_template={
                    Attribute.SIGN: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.PRIVATE: True,
                },
            )
        except PKCS11Error as err:
            raise ConfigError(
                f"{where.name('token_label')}: token {where.token_label!r} cannot make a "
                f"secp256k1 key: {type(err).__name__}"
            ) from err
        return _address_of(public, where)
    finally:
        session.close()


def _open_session(where: Pkcs11Key, *, rw: bool) -> pkcs11.Session:
    if not where.module.is_file():
        raise ConfigError(f"{where.name('module')}: no such file {where.module}")
    if not where.pin_file.is_file():
        raise ConfigError(f"{where.name('pin_file')}: no such file {where.pin_file}")
    warn_if_readable_by_others(where.pin_file)
    try:
        pin = read_secret_file(where.pin_file, where.name("pin_file")).decode()
    except UnicodeDecodeError as err:
        raise ConfigError(f"{where.name('pin_file')}: {where.pin_file} is not UTF-8 text") from err
    if not pin:
        raise ConfigError(f"{where.name('pin_file')}: {where.pin_file} is empty")
    register_secret(pin)
    try:
        library = pkcs11.lib(str(where.module))
    except PKCS11Error as err:
        raise ConfigError(
            f"{where.name('module')}: cannot load {where.module} as a PKCS#11 module"
        ) from err
    try:
        token = library.get_token(token_label=where.token_label)
    except NoSuchToken as err:
        raise ConfigError(
            f"{where.name('token_label')}: no token labelled {where.token_label!r} "
            f"in {where.module}"
        ) from err
    except MultipleTokensReturned as err:
        raise ConfigError(
            f"{where.name('token_label')}: several tokens are labelled {where.token_label!r}"
        ) from err
    try:
        return token.open(rw=rw, user_pin=pin)
    except UserAlreadyLoggedIn:
        # another signer of this process logged in to the same token: the login is shared
        return token.open(rw=rw)
    except PinIncorrect as err:
        raise ConfigError(
            f"{where.name('pin_file')}: token {where.token_label!r} refused the PIN in "
            f"{where.pin_file}"
        ) from err
    except PinLocked as err:
        raise ConfigError(
            f"{where.name('pin_file')}: the PIN of token {where.token_label!r} is locked "
            "(too many wrong tries); the security officer must reset it"
        ) from err
    except PKCS11Error as err:
        raise ConfigError(
            f"{where.name('token_label')}: cannot log in to token {where.token_label!r}: "
            f"{type(err).__name__}"
        ) from err


def _find(session: pkcs11.Session, where: Pkcs11Key, kind: ObjectClass) -> pkcs11.Key:
    what = "private" if kind is ObjectClass.PRIVATE_KEY else "public"
    try:
        return session.get_key(object_class=kind, key_type=KeyType.EC, label=where.key_label)
    except NoSuchKey as err:
        raise ConfigError(
            f"{where.name('key_label')}: token {where.token_label!r} has no EC {what} key "
            f"labelled {where.key_label!r}"
        ) from err
    except MultipleObjectsReturned as err:
        raise ConfigError(
            f"{where.name('key_label')}: token {where.token_label!r} has several {what} keys "
            f"labelled {where.key_label!r}"
        ) from err


def _address_of(public: pkcs11.Key, where: Pkcs11Key) -> Address:
    """The address of a public key object: checks the curve, reads EC_POINT once."""
    try:
        params = bytes(public[Attribute.EC_PARAMS])
        point = bytes(public[Attribute.EC_POINT])
    except PKCS11Error as err:
        raise ConfigError(
            f"{where.name('key_label')}: cannot read the public key {where.key_label!r}: "
            f"{type(err).__name__}"
        ) from err
    if params != SECP256K1_PARAMS:
        raise ConfigError(
            f"{where.name('key_label')}: key {where.key_label!r} is not on secp256k1 "
            "(Ethereum keys are)"
        )
    if len(point) == UNCOMPRESSED_POINT + 2 and point.startswith(DER_OCTET_STRING_65):
        point = point[2:]
    try:
        return address_of_public_key(PublicKey(point))
    except ValueError as err:
        raise ConfigError(
            f"{where.name('key_label')}: the public key {where.key_label!r} is not an "
            "uncompressed secp256k1 point"
        ) from err
