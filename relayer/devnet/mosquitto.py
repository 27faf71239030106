"""The one Mosquitto launcher of the devnet and the tests: a config of the caller's, a
free loopback port, and a start that waits until *this* process listens.

Readiness is two facts: the broker logged that it runs (a fresh line in its own log
file) and the port accepts connections. The port alone is not enough: between picking a
free port and binding it, another process may take it, and its listener must not pass
for this broker. When the first start finds the port taken, it moves to a fresh one (a
restart keeps the port: clients reconnect to it).
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from relayer.devnet.processes import DevnetError

READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
START_ATTEMPTS = 3

# configure(port, log_file) -> the config text; it must listen on 127.0.0.1:port and
# log (at least notices) to log_file
Configure = Callable[[int, Path], str]


def mosquitto_binary() -> str | None:
    """The installed mosquitto, if any."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )


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


class Mosquitto:
    """One mosquitto process that may be stopped and started again on the same port."""

    def __init__(
        self, binary: str, workdir: Path, configure: Configure, port: int | None = None
    ) -> None:
        self.binary = binary
        self.workdir = workdir
        self.configure = configure
        self.config = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self._started = False  # once started, restarts keep the port
        self._process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self._use_port(free_port() if port is None else port)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The running broker's process id (None while stopped)."""
        return None if self._process is None else self._process.pid

    def _use_port(self, port: int) -> None:
        self.port = port
        # as root, mosquitto would drop to the user "mosquitto", who cannot use workdir
        text = self.configure(port, self.log).rstrip("\n") + f"\nuser {getpass.getuser()}\n"
        self.config.write_text(text)

    def start(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Start the broker and wait (bounded) until it runs and listens; raises
        ``DevnetError`` with its log when it does not."""
        failure = ""
        for _ in range(START_ATTEMPTS):
            failure = self._try_start(timeout) or ""
            if not failure:
                self._started = True
                return
            if self._started or "Address already in use" not in failure:
                break
            self._use_port(free_port())
        raise DevnetError(failure)

    def _try_start(self, timeout: float) -> str | None:
        """None once this process says it runs and the port answers, else what failed."""
        if self._process is not None:
            raise DevnetError("mosquitto is already running")
        offset = self.log.stat().st_size if self.log.exists() else 0
        stderr = self.workdir / "mosquitto.stderr"
        with stderr.open("ab") as err_file:  # never a pipe nobody reads
            err_offset = err_file.tell()
            self._process = process = subprocess.Popen(
                [self.binary, "-c", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=err_file,
            )
        deadline = time.monotonic() + timeout
        while not (" running" in self._log_since(offset) and port_open(self.port)):
            if process.poll() is not None:
                self._process = None
                with stderr.open("rb") as err_file:
                    err_file.seek(err_offset)
                    err = err_file.read().decode(errors="replace")
                return (
                    f"mosquitto exited with {process.returncode}:\n{err}{self._log_since(offset)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                return f"mosquitto not listening on {self.port} after {timeout}s"
            time.sleep(0.02)
        return None

    def _log_since(self, offset: int) -> str:
        if not self.log.exists():
            return ""
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_text(self) -> str:
        return self._log_since(0)

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the broker (SIGTERM: it saves its retained messages) and wait for it."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
