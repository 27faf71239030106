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
        self.port = _free_port()
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"user {getpass.getuser()}\n"  # as root, mosquitto would drop to "mosquitto"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            f"log_dest file {workdir}/mosquitto.log\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait (bounded) until it accepts connections."""
        assert self._process is None, "broker already running"
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _port_open(self.port):
            if self._process.poll() is not None:
                log = (self.workdir / "mosquitto.log").read_text(errors="replace")
                pytest.fail(f"mosquitto exited with {self._process.returncode}:\n{log}")
            if time.monotonic() > deadline:
                pytest.fail(f"mosquitto not listening on {self.port} after {READY_TIMEOUT_S}s")
            time.sleep(0.02)

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
