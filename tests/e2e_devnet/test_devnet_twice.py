"""`relayer devnet` started twice in a row in one workdir: both demos deliver exactly.

The second start used to inherit the first run's relayer databases: the demo's transfer id
(chain, vault address, nonce: the same on new chains) was already "released", the demo
printed "0.0 more bAxHKD", and the relayers saw a reorg below what they had signed and
halted. Here a user's sequence runs for real, as `make devnet` runs it (`python -m relayer
devnet`, a Conflux dev node, anvil, a broker and three relayer processes): start, a
second start in the same workdir while the first runs (refused, exit 2, naming the
workdir and the pid), Ctrl-C (SIGTERM), start again. Its own folder, not tests/e2e: the
bridge of that package (five relayers, both chains) must not run at the same time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import relayer
from relayer.devnet.processes import ManagedProcess

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(relayer.__file__).resolve().parents[1]
# Small and quick: three validators (threshold 3), 200 ms Conflux blocks, a 2 s delay for
# the demo's large transfer.
ARGS = [
    "--validators",
    "3",
    "--jurisdictions",
    "HK,SG,AE",
    "--min-jurisdictions",
    "2",
    "--block-time-ms",
    "200",
    "--delay-s",
    "2",
]
UP_LIMIT_S = 300.0
RUNNING = "[devnet] running; press Ctrl-C to stop"
DELIVERED = re.compile(
    r"\[devnet\] released: 0x[0-9a-fA-F]{40} holds ([0-9.]+) more bAxHKD .*exactly"
)
LOCKED = re.compile(r"\[devnet\] locked: transfer (0x[0-9a-f]{64})")


PORTAL = re.compile(r"\[devnet\]   portal \(page and public status API\): (http://[0-9.:]+)/")


def _env() -> dict[str, str]:
    """This checkout's code for the devnet and, through its environment, its relayers."""
    path = [str(REPO_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(path)}


def _argv(workdir: Path) -> list[str]:
    devnet = ["-m", "relayer", "devnet", "--workdir", str(workdir), *ARGS]
    return [sys.executable, *devnet, "--manifest", str(workdir / "manifest.json")]


def _start(workdir: Path, log: Path) -> ManagedProcess:
    return ManagedProcess(_argv(workdir), log, cwd=workdir.parent, env=_env())


def _wait_running(devnet: ManagedProcess) -> str:
    """The devnet's output once it says it runs (after its demo); fails on an early exit."""
    deadline = time.monotonic() + UP_LIMIT_S
    while True:
        output = devnet.log_path.read_text(errors="replace")
        if RUNNING in output:
            return output
        code = devnet.exit_code()
        assert code is None, f"devnet exited with {code}:\n{output[-6000:]}"
        assert time.monotonic() < deadline, f"devnet not running in {UP_LIMIT_S}s:\n{output}"
        time.sleep(0.5)


def _relayer_pids(workdir: Path) -> list[int]:
    """Live `relayer run` processes whose config lies in ``workdir``, from /proc."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"run" in argv and any(a.startswith(f"{workdir}/validator-".encode()) for a in argv):
            pids.append(int(cmdline.parent.name))
    return pids


def _pythonpath_of(pid: int) -> str:
    for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if entry.startswith(b"PYTHONPATH="):
            return entry.split(b"=", 1)[1].decode()
    return ""


def _check_demo(output: str) -> list[str]:
    """Both demo transfers delivered exactly (the command checks the balance), and the
    portal it started answers with the set's view of each; their ids."""
    assert [float(m) for m in DELIVERED.findall(output)] == [12.5, 600.0], output[-6000:]
    ids = LOCKED.findall(output)
    assert len(ids) == 2, output[-6000:]
    (portal,) = PORTAL.findall(output)
    for tid in ids:
        with urllib.request.urlopen(f"{portal}/v1/transfers/{tid}", timeout=30) as answer:  # noqa: S310
            assert json.loads(answer.read())["state"] == "released"
    return ids


def test_devnet_twice_in_one_workdir_delivers_both_demos(tmp_path: Path) -> None:
    workdir = tmp_path.resolve() / "devnet"  # as the devnet names it
    first = _start(workdir, tmp_path / "first.log")
    try:
        first_ids = _check_demo(_wait_running(first))
        relayers = _relayer_pids(workdir)
        assert len(relayers) == 3, relayers
        for pid in relayers:  # the relayers import this checkout, not another install
            assert _pythonpath_of(pid).split(os.pathsep)[0] == str(REPO_ROOT)

        second = subprocess.run(
            _argv(workdir), capture_output=True, text=True, timeout=60, env={**os.environ, **_env()}
        )
        assert second.returncode == 2, second
        message = second.stderr.strip()
        assert message.startswith(f"relayer: error: a devnet is already running in {workdir}")
        assert f"pid {first.pid}" in message, message
        assert first.exit_code() is None  # the running devnet is untouched
        assert (workdir / "manifest.json").exists()
        assert sorted(_relayer_pids(workdir)) == sorted(relayers)
    finally:
        assert first.stop(grace=60.0) == 0, first.log_tail(4000)
    assert _relayer_pids(workdir) == []
    assert (workdir / "validator-0" / "relayer.db").exists()  # the state a second run finds

    again = _start(workdir, tmp_path / "again.log")
    try:
        output = _wait_running(again)
        assert f"cleared the previous run's relayer state in {workdir}" in output
        # The same ids as the first run (same chain, vault address and nonces): exactly the
        # transfers the first run's databases held as released.
        assert _check_demo(output) == first_ids
    finally:
        assert again.stop(grace=60.0) == 0, again.log_tail(4000)
    assert _relayer_pids(workdir) == []
