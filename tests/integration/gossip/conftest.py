"""Real Mosquitto brokers for the gossip tests: own process, own config, free port.

If the ``mosquitto`` binary is missing the tests FAIL (never skip): the transport's
guarantees are only worth what a real broker shows.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
import structlog
from gossip_broker import MosquittoBroker


@pytest.fixture(scope="session")
def mosquitto_binary() -> str:
    binary = shutil.which("mosquitto") or shutil.which("/usr/sbin/mosquitto")
    if binary is None:
        pytest.fail("the mosquitto binary is required for the gossip integration tests")
    return binary


def _broker(binary: str, factory: pytest.TempPathFactory, name: str) -> Iterator[MosquittoBroker]:
    broker = MosquittoBroker(binary, factory.mktemp(name))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def broker(
    mosquitto_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MosquittoBroker]:
    """A broker shared by the tests that never stop it."""
    yield from _broker(mosquitto_binary, tmp_path_factory, "mosquitto")


@pytest.fixture(scope="session")
def restartable_broker(
    mosquitto_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MosquittoBroker]:
    """A broker of its own for the outage test, which stops and restarts it."""
    yield from _broker(mosquitto_binary, tmp_path_factory, "mosquitto-restart")


@pytest.fixture
def prefix() -> str:
    """A fresh topic prefix, so retained messages of other tests never leak in."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """Log through structlog's defaults during these tests.

    Another suite may have configured structlog onto a pytest capture stream that is
    closed by now; the transport's logging must not write there.
    """
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)
