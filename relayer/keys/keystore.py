"""The keystore backend: encrypted keystores (eth-keyfile) plus password files.

A raw private key is accepted only through the explicitly dev-only settings, and
that logs a warning. Keys live in memory as eth_keys PrivateKey objects (signing goes
through the coincurve backend, ~13k signatures/s); their hex is registered with the
log scrubber so it can never appear in a log line.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from eth_keyfile.keyfile import create_keyfile_json, decode_keyfile_json
from eth_keys.backends.coincurve import CoinCurveECCBackend
from eth_keys.datatypes import PrivateKey

from relayer.domain.types import Address
from relayer.errors import ConfigError
from relayer.log import get_logger, register_secret

_BACKEND = CoinCurveECCBackend()
log = get_logger("keys")


@dataclass(frozen=True, slots=True)
class KeystoreSigner:
    """A ``Signer`` holding its private key in memory; ``repr`` never shows the key."""

    _key: PrivateKey

    @property
    def address(self) -> Address:
        return Address(self._key.public_key.to_canonical_address())

    def sign_digest(self, digest: bytes) -> bytes:
        """65-byte r || s || v signature (v = 27 or 28) over a 32-byte digest."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        sig = self._key.sign_msg_hash(digest)
        r: int = sig.r
        s: int = sig.s
        v: int = sig.v
        return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v + 27])

    def __repr__(self) -> str:
        return f"KeystoreSigner(address=0x{self.address.hex()})"


def signer_from_hex(private_key: str, *, dev_only_setting: str | None = None) -> KeystoreSigner:
    """A signer from a raw hex key; with ``dev_only_setting`` a warning names the setting."""
    register_secret(private_key)
    body = private_key.removeprefix("0x")
    try:
        raw = bytes.fromhex(body)
        key = PrivateKey(raw, backend=_BACKEND)
    except (ValueError, TypeError):
        # `from None`: the cause's message could quote the key itself.
        what = dev_only_setting or "private key"
        raise ConfigError(f"{what}: not a 32-byte hex private key") from None
    signer = KeystoreSigner(key)
    if dev_only_setting:
        log.warning(
            "raw private key from a dev-only setting: use a keystore in production",
            setting=dev_only_setting,
            address="0x" + signer.address.hex(),
        )
    return signer


def read_secret_file(path: Path, what: str = "password file") -> bytes:
    """The secret in ``path`` without its trailing newline; ``what`` names it in errors."""
    try:
        return path.read_bytes().rstrip(b"\r\n")
    except OSError as err:
        raise ConfigError(f"cannot read {what} {path}: {err.strerror}") from err


def warn_if_readable_by_others(path: Path) -> bool:
    """Warn (and return True) when a key or password file is readable by group or others."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning(
            "key material is readable by other users: chmod 600 it",
            path=str(path),
            mode=oct(stat.S_IMODE(mode)),
        )
        return True
    return False


def load_keystore(keystore: Path, password_file: Path) -> KeystoreSigner:
    """Decrypt ``keystore`` with the password in ``password_file``; clear errors on failure."""
    for path in (keystore, password_file):
        if not path.is_file():
            raise ConfigError(f"key file not found: {path}")
        warn_if_readable_by_others(path)
    password = read_secret_file(password_file)
    try:
        keyfile = json.loads(keystore.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{keystore} is not a keystore JSON file") from err
    try:
        raw = decode_keyfile_json(keyfile, password)
    except ValueError as err:
        # eth-keyfile says "MAC mismatch" for a wrong password.
        raise ConfigError(f"cannot decrypt {keystore}: wrong password or corrupt file") from err
    except (KeyError, TypeError, NotImplementedError) as err:
        raise ConfigError(f"{keystore} is not a supported keystore file") from err
    register_secret("0x" + bytes(raw).hex())
    return KeystoreSigner(PrivateKey(bytes(raw), backend=_BACKEND))


def new_keystore(out: Path, password: bytes, private_key: bytes | None = None) -> KeystoreSigner:
    """Create an encrypted keystore at ``out`` (mode 0600); a fresh key unless one is given."""
    raw = private_key if private_key is not None else os.urandom(32)
    key = PrivateKey(raw, backend=_BACKEND)
    keyfile = create_keyfile_json(raw, password, kdf="scrypt")
    if out.exists():
        raise ConfigError(f"refusing to overwrite existing file {out}")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keyfile, fh)
    return KeystoreSigner(key)
