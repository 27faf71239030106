"""An MQTT broker for the local bridge: the system ``mosquitto`` on a free port."""

from __future__ import annotations

import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from relayer.devnet.processes import DevnetError, ManagedProcess, free_ports


@dataclass
class Broker:
    """A running broker on 127.0.0.1:``port``."""

    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.stop(grace=5.0)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_broker(workdir: Path, timeout: float = 10.0) -> Broker:
    """Start mosquitto (anonymous, loopback only, no persistence) and wait for its port."""
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary is None:
        raise DevnetError("mosquitto is not installed (apt-get install mosquitto)")
    workdir.mkdir(parents=True, exist_ok=True)
    (port,) = free_ports(1)
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_inflight_messages 0\nmax_queued_messages 100000\n"
    )
    process = ManagedProcess([binary, "-c", str(config)], workdir / "mosquitto.log")
    deadline = time.monotonic() + timeout
    while not _listening(port):
        if process.exit_code() is not None or time.monotonic() > deadline:
            tail = process.log_tail()
            process.stop()
            raise DevnetError(f"mosquitto did not start on port {port}:\n{tail}")
        time.sleep(0.05)
    return Broker(port, process)
