"""A Docker engine and the images for the container test, through the repository's own
scripts (ops/scripts/dockerd.sh, build-base-image.sh, build-image.sh): the test builds and
starts things exactly as `make image` and an operator do.

Persistent state: the engine started here keeps its data root in the machine's cache
(``$RELAYER_DOCKER_ROOT``, else ``/var/cache/conflux-bridge/docker``: images, build cache),
shared by every clone on the machine, so the debootstrap base and every unchanged layer are
built once per machine (CI's fresh clones reuse them); ``ops/scripts/dockerd.sh stop && rm
-rf /var/cache/conflux-bridge/docker`` clears it. One container test runs at a time on a
machine (``machine_lock``: a second run, say a second clone's CI, waits for the first). A
missing engine binary or debootstrap fails the test: nothing is skipped.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "ops" / "scripts"
IMAGES = Path(__file__).resolve().parent / "images"
RELAYER_IMAGE = "conflux-bridge-relayer:local"
POSTGRES_IMAGE = "conflux-bridge-test/postgres:15"
MOSQUITTO_IMAGE = "conflux-bridge-test/mosquitto:2"
BUILD_TIMEOUT_S = 1200.0
MACHINE_CACHE = Path(os.environ.get("RELAYER_DOCKER_ROOT", "/var/cache/conflux-bridge/docker"))


@contextmanager
def machine_lock() -> Iterator[None]:
    """Hold the machine's container-test lock (one engine, one compose project at a time);
    blocks until another run's test is done with it."""
    lock = MACHINE_CACHE.parent / "container-test.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, even on a crash
        yield


def require_binary(name: str, hint: str) -> str:
    """The path of ``name`` (also /usr/sbin, /sbin), or fail the test loudly."""
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None
    )
    if found is None:
        pytest.fail(f"{name} not found: {hint} (`make install` installs it)", pytrace=False)
    return found


@dataclass(frozen=True)
class Engine:
    host: str  # DOCKER_HOST
    started_here: bool

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {**os.environ, "DOCKER_HOST": self.host}
        env.update(extra or {})
        return env

    def run(
        self,
        *args: str,
        timeout: float = 120.0,
        check: bool = True,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(env),
            cwd=cwd,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n"
                f"{done.stderr[-3000:]}"
            )
        return done

    def docker(self, *args: str, timeout: float = 120.0, check: bool = True) -> str:
        return self.run("docker", *args, timeout=timeout, check=check).stdout

    def inspect(self, name: str) -> dict[str, Any]:
        loaded: list[dict[str, Any]] = json.loads(self.docker("inspect", name))
        return loaded[0]


def _answers(host: str) -> bool:
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=15,
            env={**os.environ, "DOCKER_HOST": host},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextmanager
def docker_engine() -> Iterator[Engine]:
    """An engine that answers: DOCKER_HOST's, the default socket's, or one started here
    (ops/scripts/dockerd.sh, data root in the machine's cache) and stopped afterwards."""
    require_binary("docker", "the docker CLI (Debian: docker.io)")
    require_binary("debootstrap", "Debian: apt-get install debootstrap")
    for host in (os.environ.get("DOCKER_HOST"), "unix:///var/run/docker.sock"):
        if host and _answers(host):
            yield Engine(host, started_here=False)
            return
    require_binary("dockerd", "the Docker engine (Debian: apt-get install docker.io)")
    script = str(SCRIPTS / "dockerd.sh")
    own = subprocess.run(
        [script, "host"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    already = _answers(own)  # e.g. left running by `make image`: use it, leave it running
    started = subprocess.run(
        [script, "start"], capture_output=True, text=True, timeout=120, check=False
    )
    if started.returncode != 0:
        pytest.fail(f"could not start a Docker engine:\n{started.stderr}", pytrace=False)
    try:
        yield Engine(started.stdout.strip(), started_here=not already)
    finally:
        if not already:
            subprocess.run([script, "stop"], capture_output=True, timeout=120, check=False)


def build_cli(engine: Engine) -> str:
    """A docker CLI that builds with BuildKit: one with buildx, else Debian's 20.10 one."""
    if engine.run("docker", "buildx", "version", check=False).returncode == 0:
        return "docker"
    return "/usr/bin/docker"


def build_images(engine: Engine) -> dict[str, float]:
    """The relayer image from the git-tracked files (as `make image`), then the test's
    PostgreSQL and Mosquitto images from Debian packages on the same base. Returns the
    seconds each took (unchanged layers come from the cache)."""
    import time

    took: dict[str, float] = {}
    start = time.monotonic()
    engine.run(str(SCRIPTS / "build-image.sh"), RELAYER_IMAGE, timeout=BUILD_TIMEOUT_S)
    took["relayer_image_s"] = round(time.monotonic() - start, 1)
    cli = build_cli(engine)
    for tag, folder in ((POSTGRES_IMAGE, "postgres"), (MOSQUITTO_IMAGE, "mosquitto")):
        start = time.monotonic()
        engine.run(
            cli,
            *("build", "--quiet", "--network", "host", "-t", tag, str(IMAGES / folder)),
            timeout=BUILD_TIMEOUT_S,
            env={"DOCKER_BUILDKIT": "1"},
        )
        took[f"{folder}_image_s"] = round(time.monotonic() - start, 1)
    return took


def compose(
    engine: Engine, compose_file: Path, project: str, *args: str, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    binary = require_binary("docker-compose", "Debian: apt-get install docker-compose")
    return engine.run(
        binary,
        *("--project-name", project, "-f", str(compose_file), *args),
        timeout=timeout,
        cwd=compose_file.parent,
        check=False,
    )


def saved_layer_files(
    engine: Engine, images: Sequence[str], out: Path
) -> Iterator[tuple[str, bytes]]:
    """(path, content) of every regular file in every layer of ``images`` (`docker save`)."""
    import tarfile

    archive = out / "images.tar"
    engine.docker("save", "-o", str(archive), *images, timeout=600)
    with tarfile.open(archive) as outer:
        for member in outer.getmembers():
            if not member.name.endswith("layer.tar"):
                continue
            layer = outer.extractfile(member)
            assert layer is not None
            with tarfile.open(fileobj=layer) as inner:
                for entry in inner:
                    if not entry.isfile():
                        continue
                    content = inner.extractfile(entry)
                    assert content is not None
                    yield f"{member.name}:{entry.name}", content.read()
    archive.unlink()
