"""The devnet's ports come from below the kernel's ephemeral range, which outgoing
connections use: a relayer's client socket can never take the port a node is about to bind
(seen as "address already in use" when five relayers and two stacks shared a machine)."""

from __future__ import annotations

import socket

import pytest

from relayer.devnet import processes
from relayer.devnet.processes import EPHEMERAL_RANGE, free_ports


def test_ports_are_distinct_free_and_below_the_ephemeral_range() -> None:
    low = int(EPHEMERAL_RANGE.read_text().split()[0])
    ports = free_ports(40)
    assert len(set(ports)) == 40
    assert all(1024 <= p < low for p in ports), ports
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))  # free: nothing else holds it
    assert not set(ports) & set(free_ports(40))  # never handed out twice


def test_without_room_below_the_range_the_kernel_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "_pickable_range", lambda: None)
    (port,) = free_ports(1)
    assert port > 0
