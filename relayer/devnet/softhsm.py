"""A SoftHSM2 token for a devnet validator, so that the devnet (and its tests) run one
validator whose attesting key lives in a PKCS#11 token, as production keys do (ops/README.md,
"Keep the key in an HSM").

The token is initialised with ``softhsm2-util`` under the validator's folder, and the key is
made by the operator's own command, ``relayer keys new --pkcs11``; the relayer finds the
token through ``SOFTHSM2_CONF`` in its environment. DEV PINs: never reuse them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from relayer.devnet.processes import DevnetError

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
KEY_LABEL = "attester"
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class HsmKey:
    """Where a devnet validator's key lives, and its address."""

    address: str
    conf: Path  # the SOFTHSM2_CONF file
    module: Path
    token_label: str
    key_label: str
    pin_file: Path

    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf)}

    def settings_toml(self) -> str:
        """The ``[validator]`` lines that name this key."""
        return (
            f'pkcs11_module = "{self.module}"\n'
            f'pkcs11_token_label = "{self.token_label}"\n'
            f'pkcs11_key_label = "{self.key_label}"\n'
            f'pkcs11_pin_file = "{self.pin_file}"\n'
        )


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DevnetError(f"{what}: {err}") from err
    if done.returncode != 0:
        raise DevnetError(f"{what} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def make_hsm_key(home: Path, token_label: str) -> HsmKey:
    """A fresh token under ``home`` with one secp256k1 key in it."""
    util = shutil.which("softhsm2-util")
    if util is None or not SOFTHSM_MODULE.is_file():
        raise DevnetError("SoftHSM2 is missing: `make install` installs Debian's softhsm2")
    tokens = home / "tokens"
    if home.exists():
        shutil.rmtree(home)
    tokens.mkdir(parents=True)
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    pin = "devnet-" + os.urandom(8).hex()  # long enough for the log scrubber
    pin_file = home / "pin"
    pin_file.write_text(pin + "\n")
    pin_file.chmod(0o600)
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    init = [util, "--init-token", "--free", "--label", token_label, "--pin", pin]
    _run([*init, "--so-pin", "so-" + pin], env, "softhsm2-util --init-token")
    made = _run(
        [
            *(sys.executable, "-m", "relayer", "keys", "new", "--pkcs11"),
            *("--module", str(SOFTHSM_MODULE), "--token-label", token_label),
            *("--key-label", KEY_LABEL, "--pin-file", str(pin_file)),
        ],
        env,
        "relayer keys new --pkcs11",
    )
    try:
        address = str(json.loads(made)["address"])
    except (ValueError, KeyError, TypeError) as err:
        raise DevnetError(f"relayer keys new --pkcs11 printed no address: {made!r}") from err
    return HsmKey(address, conf, SOFTHSM_MODULE, token_label, KEY_LABEL, pin_file)
