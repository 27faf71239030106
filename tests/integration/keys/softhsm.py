"""A real PKCS#11 token: SoftHSM2 with its own config and token directory.

SoftHSM2 missing makes the fixture FAIL (``make system-tools`` installs Debian's
softhsm2): these tests are never skipped.

The PKCS#11 library is loaded once per process and reads ``SOFTHSM2_CONF`` when it is
initialised, so the fixture unloads it (``pkcs11.unload``) before pointing it at a new
token directory and again afterwards. A test closes its signers before it ends.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pkcs11
import pytest

from relayer.keys.hsm import Pkcs11Key

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")


@dataclass(frozen=True)
class Token:
    """An initialised, empty SoftHSM2 token."""

    module: Path
    label: str
    pin: str
    pin_file: Path

    def key(self, key_label: str, prefix: str = "validator.pkcs11_") -> Pkcs11Key:
        return Pkcs11Key(self.module, self.label, key_label, self.pin_file, prefix=prefix)

    def cli_args(self, key_label: str) -> list[str]:
        return [
            *("keys", "new", "--pkcs11", "--module", str(self.module)),
            *("--token-label", self.label, "--key-label", key_label),
            *("--pin-file", str(self.pin_file)),
        ]


@contextmanager
def softhsm_token_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Token]:
    """An initialised token under ``tmp_path``; SOFTHSM2_CONF points at it meanwhile."""
    util = shutil.which("softhsm2-util")
    if util is None or not SOFTHSM_MODULE.is_file():
        pytest.fail(
            "SoftHSM2 is not installed (softhsm2-util, "
            f"{SOFTHSM_MODULE}): `make system-tools` or `apt-get install softhsm2`"
        )
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    pkcs11.unload(str(SOFTHSM_MODULE))
    label = f"relayer-{uuid.uuid4().hex[:8]}"
    pin = f"user-pin-{uuid.uuid4().hex}"
    subprocess.run(
        [
            *(util, "--init-token", "--free", "--label", label),
            *("--pin", pin, "--so-pin", f"so-pin-{uuid.uuid4().hex}"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pin_file = tmp_path / "pin"
    pin_file.write_text(pin + "\n")
    pin_file.chmod(0o600)
    try:
        yield Token(SOFTHSM_MODULE, label, pin, pin_file)
    finally:
        pkcs11.unload(str(SOFTHSM_MODULE))
