"""A real Mosquitto process for the gossip tests: own config, free port, stop/start."""

from __future__ import annotations

import getpass
import socket
import subprocess
import time
from pathlib import Path

import pytest

READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class MosquittoBroker:
    """One mosquitto process that tests may stop and start again on the same port.

    Persistence is on so retained attestations survive a restart, as in production.
    """

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        self._started = False  # once started, restarts keep the port
        self._use_port(_free_port())
        self._process: subprocess.Popen[bytes] | None = None

    def _use_port(self, port: int) -> None:
        self.port = port
        self.config.write_text(
            f"listener {port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"user {getpass.getuser()}\n"  # as root, mosquitto would drop to "mosquitto"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            f"log_dest file {self.workdir}/mosquitto.log\n"
        )

    def start(self) -> None:
        """Start the broker and wait (bounded) until it accepts connections.

        The free port is picked before mosquitto binds it; should another process take
        it meanwhile, the first start moves to a fresh port (up to 3 times)."""
        for _ in range(3):
            failure = self._try_start()
            if failure is None:
                self._started = True
                return
            if self._started or "Address already in use" not in failure:
                break
            self._use_port(_free_port())
        pytest.fail(failure)

    def _try_start(self) -> str | None:
        """None once this process says it runs and the port answers, else what failed."""
        assert self._process is None, "broker already running"
        log_path = self.workdir / "mosquitto.log"
        offset = log_path.stat().st_size if log_path.exists() else 0

        def new_log() -> str:
            if not log_path.exists():
                return ""
            with log_path.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")

        self._process = process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        # "running" is logged once the listener is bound: another process's listener on
        # the same port must not pass for this broker
        while not (" running" in new_log() and _port_open(self.port)):
            if process.poll() is not None:
                self._process = None
                return f"mosquitto exited with {process.returncode}:\n{new_log()}"
            if time.monotonic() > deadline:
                self.stop()
                return f"mosquitto not listening on {self.port} after {READY_TIMEOUT_S}s"
            time.sleep(0.02)
        return None

    def stop(self) -> None:
        """Stop the broker (SIGTERM: it saves its retained messages) and wait for it."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
