"""A real Mosquitto process for the gossip tests: own config, free port, stop/start
(the one launcher, relayer.devnet.mosquitto, with the gossip tests' config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relayer.devnet.mosquitto import Mosquitto
from relayer.devnet.processes import DevnetError


class MosquittoBroker(Mosquitto):
    """One mosquitto that tests may stop and start again on the same port.

    Persistence is on so retained attestations survive a restart, as in production.
    """

    def __init__(self, binary: str, workdir: Path) -> None:
        def configure(port: int, log: Path) -> str:
            return (
                f"listener {port} 127.0.0.1\n"
                "allow_anonymous true\n"
                "persistence true\n"
                f"persistence_location {workdir}/\n"
                "max_queued_messages 0\n"
                "max_inflight_messages 0\n"
                f"log_dest file {log}\n"
            )

        super().__init__(binary, workdir, configure)

    def start(self, timeout: float = 10.0) -> None:
        try:
            super().start(timeout)
        except DevnetError as err:
            pytest.fail(str(err))
