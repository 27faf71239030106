"""The ops/ broker setup, run for real: a Mosquitto started from ops/mosquitto/mosquitto.conf
with certificates, users and the ACL made by the ops scripts, on a free port.

A missing mosquitto, mosquitto_passwd or openssl FAILS these tests (never skips): the
broker's access rules are only worth what a real broker shows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from ops_broker import OpsBroker, require_binary, validator_name


@pytest.fixture(scope="session")
def mosquitto_binary() -> str:
    require_binary("openssl")
    require_binary("mosquitto_passwd", "/usr/bin/mosquitto_passwd")
    return require_binary("mosquitto", "/usr/sbin/mosquitto")


@pytest.fixture(scope="module")
def ops_broker(
    mosquitto_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OpsBroker]:
    """Validators A and B (usernames = their signer hex) and the healthcheck user."""
    broker = OpsBroker(
        mosquitto_binary,
        tmp_path_factory.mktemp("ops-mosquitto"),
        [validator_name(), validator_name(), "healthcheck"],
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """Log through structlog's defaults (another suite may have pointed it at a closed
    capture stream)."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)
