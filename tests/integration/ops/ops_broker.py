"""The production broker setup of ops/, run for real: certs, users, ACL, config, process.

Everything is made by the ops scripts (`make-dev-certs.sh`, `make-broker-users.sh`) and
the config is ops/mosquitto/mosquitto.conf itself with only its port and file locations
rewritten, so the tests check what operators deploy.
"""

from __future__ import annotations

import getpass
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from relayer.domain.types import Address, hex32

REPO = Path(__file__).resolve().parents[3]
OPS = REPO / "ops"
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
SCRIPT_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


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
        self.port = free_port()
        self.certs = workdir / "certs"
        self.ca = self.certs / "ca.crt"
        self.log = workdir / "mosquitto.log"
        self.users = self._make_users(users)
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(self._config_text())
        self._process: subprocess.Popen[bytes] | None = None

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

    def _config_text(self) -> str:
        text = (OPS / "mosquitto" / "mosquitto.conf").read_text()
        data = self.workdir / "data"
        data.mkdir()
        rewrites = {
            "\nlistener 8883\n": f"\nlistener {self.port} 127.0.0.1\n",
            "/mosquitto/data/": f"{data}/",
            "/run/secrets/broker-passwd": str(self.workdir / "passwd"),
            "/mosquitto/config/acl": str(OPS / "mosquitto" / "acl"),
            "/run/secrets/broker-ca.pem": str(self.ca),
            "/run/secrets/broker.crt": str(self.certs / "broker.crt"),
            "/run/secrets/broker.key": str(self.certs / "broker.key"),
            "\nlog_dest stdout\n": f"\nlog_dest file {self.log}\n",
        }
        for old, new in rewrites.items():
            # the template drifting away from what this test rewrites must fail loudly
            assert text.count(old) == 1, f"ops/mosquitto/mosquitto.conf: expected one {old!r}"
            text = text.replace(old, new)
        # as root, mosquitto would drop to the user "mosquitto", who cannot read tmp_path
        return text + f"\nuser {getpass.getuser()}\n"

    def start(self) -> None:
        """Start the broker and wait (bounded) until it accepts connections."""
        assert self._process is None, "broker already running"
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not port_open(self.port):
            if self._process.poll() is not None:
                stderr = self._process.stderr
                err = stderr.read().decode(errors="replace") if stderr else ""
                code = self._process.returncode
                pytest.fail(f"mosquitto exited with {code}:\n{err}\n{self.log_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"mosquitto not listening on {self.port} after {READY_TIMEOUT_S}s")
            time.sleep(0.02)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
        if process.stderr is not None:
            process.stderr.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def require_binary(name: str, *fallbacks: str) -> str:
    """The path of a required tool; FAIL (never skip) when it is missing."""
    for candidate in (name, *fallbacks):
        found = shutil.which(candidate)
        if found is not None:
            return found
    pytest.fail(
        f"{name} is required for the ops integration tests (looked in PATH and {fallbacks})"
    )
