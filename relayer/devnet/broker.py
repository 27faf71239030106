"""An MQTT broker for the local bridge on a free port: the system ``mosquitto`` when it
is installed (through the one launcher, relayer.devnet.mosquitto), otherwise the embedded
pure-Python broker (amqtt), so a machine without Mosquitto still runs the devnet."""

from __future__ import annotations

import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from relayer.devnet.mosquitto import Mosquitto, mosquitto_binary
from relayer.devnet.processes import DevnetError, ManagedProcess, free_ports

__all__ = ["Broker", "mosquitto_binary", "start_broker"]


@dataclass
class Broker:
    """A running broker on 127.0.0.1:``port``."""

    port: int
    process: ManagedProcess | Mosquitto
    kind: str  # "mosquitto" or "embedded"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if isinstance(self.process, Mosquitto):
            self.process.stop(timeout=5.0)
        else:
            self.process.stop(grace=5.0)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _devnet_config(port: int, log: Path) -> str:
    return (
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_inflight_messages 0\nmax_queued_messages 100000\n"
        f"log_dest file {log}\n"
    )


def start_broker(
    workdir: Path, kind: str = "auto", timeout: float = 15.0, port: int | None = None
) -> Broker:
    """Start a broker (anonymous, loopback only) and wait until it is ready.

    ``kind``: "mosquitto", "embedded", or "auto" (mosquitto when installed).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    binary = mosquitto_binary()
    if kind == "mosquitto" and binary is None:
        raise DevnetError("mosquitto is not installed (apt-get install mosquitto)")
    if kind in ("auto", "mosquitto") and binary is not None:
        broker = Mosquitto(binary, workdir, _devnet_config, port)
        broker.start(timeout)
        return Broker(broker.port, broker, "mosquitto")
    if port is None:
        (port,) = free_ports(1)
    argv = [sys.executable, "-m", "relayer.devnet.embedded_broker", str(port)]
    process = ManagedProcess(argv, workdir / "embedded-broker.log")
    deadline = time.monotonic() + timeout
    while not _listening(port):
        if process.exit_code() is not None or time.monotonic() > deadline:
            tail = process.log_tail()
            process.stop()
            raise DevnetError(f"the embedded broker did not start on port {port}:\n{tail}")
        time.sleep(0.05)
    return Broker(port, process, "embedded")
