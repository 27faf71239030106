"""End to end: a burst of locks sent at once, with each chain's node frozen (SIGSTOP)
part-way through. While a node is frozen every relayer's API still answers within a
second (``/readyz`` saying which node is silent, ``/metrics`` never calling a chain); once
it runs again (SIGCONT) every transfer of the burst completes exactly once."""

from __future__ import annotations

import contextlib
import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from bridge_client import Sent, assert_exactly_once, lock_burst, status, wait_status, wait_until

from relayer.devnet.processes import ManagedProcess
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BURST = 40
ANSWER_WITHIN_S = 1.0


def _get(stack: Stack, validator: int, path: str) -> tuple[int, bytes]:
    """(HTTP status, body) of one API request, failing if it takes over a second."""
    url = stack.validators[validator].http_url + path
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            code, body = response.status, response.read()
    except urllib.error.HTTPError as err:
        code, body = err.code, err.read()
    took = time.monotonic() - started
    assert took <= ANSWER_WITHIN_S, f"validator {validator} {path} took {took:.2f}s"
    return code, body


def _readiness_names_the_silent_node(stack: Stack, validator: int, rpc: str) -> bool:
    code, body = _get(stack, validator, "/readyz")
    checks: dict[str, Any] = json.loads(body)["checks"]
    return code == 503 and not checks[f"rpc:{rpc}"]["ok"]


@contextlib.contextmanager
def frozen(process: ManagedProcess) -> Iterator[None]:
    process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.send_signal(signal.SIGCONT)


def _every_api_answers_while(stack: Stack, rpc: str) -> None:
    for v in range(len(stack.validators)):
        assert _get(stack, v, "/healthz")[0] == 200
        code, body = _get(stack, v, "/metrics")
        assert code == 200 and b"relayer_submissions_total" in body
        wait_until(lambda v=v: _readiness_names_the_silent_node(stack, v, rpc), timeout=20)


def _any_at_quorum(stack: Stack, burst: list[Sent]) -> bool:
    """Whether validator 0 holds a quorum for (or released) some transfer of the burst."""
    views = [status(stack, 0, sent) for sent in burst]
    return any(v is not None and v["status"] in ("quorum", "submitted", "released") for v in views)


def test_a_burst_with_each_node_frozen_part_way_keeps_every_api_answering_then_completes(
    bridge: Stack,
) -> None:
    assert bridge.conflux is not None and bridge.anvil is not None
    user = bridge.users[1]
    burst = lock_burst(bridge, user, "CFXT", [10**16 + i for i in range(BURST)])
    with frozen(bridge.conflux.process):  # while the relayers confirm and sign the burst
        _every_api_answers_while(bridge, "conflux")
    wait_until(lambda: _any_at_quorum(bridge, burst), timeout=120)
    with frozen(bridge.anvil.process):  # while the releases go out
        _every_api_answers_while(bridge, "ethereum")
    for sent in burst:
        assert_exactly_once(bridge, sent)
    for sent in burst:
        for v in range(len(bridge.validators)):
            wait_status(bridge, v, sent, "released")
