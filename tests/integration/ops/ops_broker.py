"""The production broker setup of ops/, run for real: certs, users, ACL, config, process.

Everything is made by the ops scripts (`make-dev-certs.sh`, `make-broker-users.sh`) and
the config is ops/mosquitto/mosquitto.conf itself with only its port and file locations
rewritten, so the tests check what operators deploy.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from relayer.devnet.mosquitto import Mosquitto
from relayer.devnet.processes import DevnetError
from relayer.domain.types import Address, hex32

REPO = Path(__file__).resolve().parents[3]
OPS = REPO / "ops"
SCRIPT_TIMEOUT_S = 60.0


def run_script(name: str, *args: str | Path) -> None:
    """Run an ops script; fail the test with its stderr if it fails."""
    done = subprocess.run(
        [str(OPS / "scripts" / name), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"{name} exited with {done.returncode}:\n{done.stderr}")


@dataclass(frozen=True)
class BrokerUser:
    """A broker account: name (a validator's signer hex, or a service user), password,
    and its client certificate (mutual TLS)."""

    name: str
    password: str
    cert: Path
    key: Path

    @property
    def address(self) -> Address:
        return Address(bytes.fromhex(self.name.removeprefix("0x")))


def validator_name() -> str:
    """A fresh signer address as the broker username (lower-case hex, as topics have it)."""
    return hex32(secrets.token_bytes(20))


class OpsBroker:
    """Mosquitto configured exactly like ops/ (TLS + client certs, passwords, ACL)."""

    def __init__(self, binary: str, workdir: Path, users: list[str]) -> None:
        self.binary = binary
        self.workdir = workdir
        self.certs = workdir / "certs"
        self.ca = self.certs / "ca.crt"
        self.users = self._make_users(users)
        (workdir / "data").mkdir()
        self._process = Mosquitto(binary, workdir, self._config_text)
        self.port = self._process.port
        self.log = self._process.log

    def _make_users(self, names: list[str]) -> dict[str, BrokerUser]:
        # a client certificate for every user and one for an anonymous client
        run_script("make-dev-certs.sh", self.certs, *names, "anonymous")
        lines = []
        users = {}
        for name in names:
            password_file = self.workdir / f"{name}.password"
            password = secrets.token_urlsafe(18)
            password_file.write_text(password + "\n")  # as operators write them
            lines.append(f"{name} @{password_file}")
            clients = self.certs / "clients"
            users[name] = BrokerUser(
                name, password, clients / f"{name}.crt", clients / f"{name}.key"
            )
        users_file = self.workdir / "users.txt"
        users_file.write_text("# broker users\n" + "\n".join(lines) + "\n")
        run_script("make-broker-users.sh", users_file, self.workdir / "passwd")
        return users

    def anonymous_cert(self) -> tuple[Path, Path]:
        clients = self.certs / "clients"
        return clients / "anonymous.crt", clients / "anonymous.key"

    def _config_text(self, port: int, log: Path) -> str:
        text = (OPS / "mosquitto" / "mosquitto.conf").read_text()
        data = self.workdir / "data"
        rewrites = {
            "\nlistener 8883\n": f"\nlistener {port} 127.0.0.1\n",
            "/mosquitto/data/": f"{data}/",
            "/run/secrets/broker-passwd": str(self.workdir / "passwd"),
            "/mosquitto/config/acl": str(OPS / "mosquitto" / "acl"),
            "/run/secrets/broker-ca.pem": str(self.ca),
            "/run/secrets/broker.crt": str(self.certs / "broker.crt"),
            "/run/secrets/broker.key": str(self.certs / "broker.key"),
            "\nlog_dest stdout\n": f"\nlog_dest file {log}\n",
        }
        for old, new in rewrites.items():
            # the template drifting away from what this test rewrites must fail loudly
            assert text.count(old) == 1, f"ops/mosquitto/mosquitto.conf: expected one {old!r}"
            text = text.replace(old, new)
        return text  # the launcher adds ``user``: as root, mosquitto would drop privileges

    def start(self) -> None:
        """Start the broker and wait (bounded) until it runs and listens."""
        try:
            self._process.start()
        except DevnetError as err:
            pytest.fail(str(err))

    def stop(self) -> None:
        self._process.stop()

    def log_text(self) -> str:
        return self._process.log_text()


def require_binary(name: str, *fallbacks: str) -> str:
    """The path of a required tool; FAIL (never skip) when it is missing."""
    for candidate in (name, *fallbacks):
        found = shutil.which(candidate)
        if found is not None:
            return found
    pytest.fail(
        f"{name} is required for the ops integration tests (looked in PATH and {fallbacks})"
    )
