"""The container test's parts: a Docker engine, the images, the devnet chains with the
contracts deployed, and ops/docker-compose.yml brought up on the host network.

Missing parts (the docker CLI, dockerd, debootstrap, docker-compose) fail the test loudly.
Seconds spent per phase go to ``.cache/container-test-timings.json``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from container_compose import (
    VALIDATORS,
    ComposeNetwork,
    Ports,
    container,
    export_tracked_tree,
    prepare,
)
from container_engine import REPO, Engine, build_images, compose, docker_engine, machine_lock

from relayer.devnet.stack import Stack, StackOptions

TIMINGS: dict[str, float] = {}
UP_TIMEOUT_S = 240.0
PROJECT_PREFIX = "bridgeimg"


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, float]]:
    start = time.monotonic()
    yield TIMINGS
    TIMINGS["package_total_s"] = round(time.monotonic() - start, 1)
    out = REPO / ".cache" / "container-test-timings.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(TIMINGS, indent=2) + "\n")


@pytest.fixture(scope="module")
def engine(timings: dict[str, float]) -> Iterator[Engine]:
    start = time.monotonic()
    with machine_lock(), docker_engine() as found:
        timings["engine_s"] = round(time.monotonic() - start, 1)
        yield found


@pytest.fixture(scope="module")
def images(engine: Engine, timings: dict[str, float]) -> None:
    timings.update(build_images(engine))


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory, timings: dict[str, float]) -> Iterator[Stack]:
    """Conflux dev node and anvil on the host, contracts deployed for the five devnet
    validators; no relayer processes (the containers are the relayers)."""
    start = time.monotonic()
    options = StackOptions(
        validators=len(VALIDATORS),
        users=1,
        start_relayers=False,
        packs=False,
        broker="embedded",
    )
    stack = Stack.up(options, tmp_path_factory.mktemp("chains"))
    timings["chains_s"] = round(time.monotonic() - start, 1)
    try:
        yield stack
    finally:
        stack.stop()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=3) as answer:  # noqa: S310 - loopback
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


@pytest.fixture(scope="module")
def project() -> str:
    return f"{PROJECT_PREFIX}{uuid.uuid4().hex[:8]}"


def remove_leftovers(engine: Engine) -> None:
    """Containers and volumes of an earlier run that died before `down` (its relayers
    would restart with the engine and hold ports on the host network)."""
    found = engine.docker("ps", "-aq", "--filter", f"name={PROJECT_PREFIX}").split()
    if found:
        engine.docker("rm", "-f", "-v", *found, timeout=120)
    volumes = engine.docker("volume", "ls", "-q", "--filter", f"name={PROJECT_PREFIX}").split()
    if volumes:
        engine.docker("volume", "rm", *volumes, timeout=120)


@pytest.fixture(scope="module")
def network(
    engine: Engine,
    images: None,
    chains: Stack,
    project: str,
    tmp_path_factory: pytest.TempPathFactory,
    timings: dict[str, float],
) -> Iterator[ComposeNetwork]:
    """The compose network up: five relayers healthy and ready."""
    remove_leftovers(engine)
    tree = export_tracked_tree(tmp_path_factory.mktemp("tree"))
    net = prepare(tree, chains, Ports.free())
    start = time.monotonic()
    try:
        up = compose(engine, net.compose_file, project, "up", "-d", "--no-build")
        assert up.returncode == 0, f"docker-compose up failed:\n{up.stderr[-4000:]}"
        deadline = time.monotonic() + UP_TIMEOUT_S
        pending = set(VALIDATORS)
        while pending and time.monotonic() < deadline:
            for i in list(pending):
                state = engine.inspect(container(project, f"relayer-{i}"))["State"]
                health = state.get("Health", {}).get("Status")
                if _ready(net.api(i)) and health == "healthy":
                    pending.discard(i)
            time.sleep(1.0)
        if pending:
            logs = compose(engine, net.compose_file, project, "logs", "--tail", "30")
            pytest.fail(f"relayers {sorted(pending)} not healthy and ready:\n{logs.stdout[-8000:]}")
        timings["compose_up_s"] = round(time.monotonic() - start, 1)
        yield net
    finally:
        done = compose(engine, net.compose_file, project, "down", "-v", "--timeout", "30")
        if done.returncode != 0:
            print(f"docker-compose down failed:\n{done.stderr[-2000:]}")
