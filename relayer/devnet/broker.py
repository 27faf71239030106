"""An MQTT broker for the local bridge on a free port: the system ``mosquitto`` when it
is installed, otherwise the embedded pure-Python broker (amqtt), so a machine without
Mosquitto still runs the devnet."""

from __future__ import annotations

import shutil
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from relayer.devnet.processes import DevnetError, ManagedProcess, free_ports


@dataclass
class Broker:
    """A running broker on 127.0.0.1:``port``."""

    port: int
    process: ManagedProcess
    kind: str  # "mosquitto" or "embedded"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.stop(grace=5.0)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def mosquitto_binary() -> str | None:
    """The installed mosquitto, if any."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )


def _wait_listening(process: ManagedProcess, port: int, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _listening(port):
        if process.exit_code() is not None or time.monotonic() > deadline:
            tail = process.log_tail()
            process.stop()
            raise DevnetError(f"{what} did not start on port {port}:\n{tail}")
        time.sleep(0.05)


def start_broker(
    workdir: Path, kind: str = "auto", timeout: float = 15.0, port: int | None = None
) -> Broker:
    """Start a broker (anonymous, loopback only) and wait for its port.

    ``kind``: "mosquitto", "embedded", or "auto" (mosquitto when installed).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    if port is None:
        (port,) = free_ports(1)
    binary = mosquitto_binary()
    if kind == "mosquitto" and binary is None:
        raise DevnetError("mosquitto is not installed (apt-get install mosquitto)")
    if kind in ("auto", "mosquitto") and binary is not None:
        config = workdir / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_inflight_messages 0\nmax_queued_messages 100000\n"
        )
        process = ManagedProcess([binary, "-c", str(config)], workdir / "mosquitto.log")
        _wait_listening(process, port, "mosquitto", timeout)
        return Broker(port, process, "mosquitto")
    argv = [sys.executable, "-m", "relayer.devnet.embedded_broker", str(port)]
    process = ManagedProcess(argv, workdir / "embedded-broker.log")
    _wait_listening(process, port, "the embedded broker", timeout)
    return Broker(port, process, "embedded")
