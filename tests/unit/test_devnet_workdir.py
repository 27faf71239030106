"""One devnet per workdir, a clean start, and the demo's exact delivery check.

The lock is exercised for real: files in a temporary folder, other processes holding
it, a killed holder. The end-to-end run (two devnets in a row in one workdir) is
tests/e2e_devnet/test_devnet_twice.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import relayer
from relayer.cli import main
from relayer.devnet.command import DemoError, check_delivered, wait_delivered
from relayer.devnet.databases import reset_database
from relayer.devnet.workdir import (
    LOCK_NAME,
    WorkdirBusyError,
    acquire,
    clear_previous_run,
)
from relayer.errors import ConfigError

REPO_ROOT = Path(relayer.__file__).resolve().parents[1]
HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from relayer.devnet.workdir import acquire\n"
    "acquire(Path(sys.argv[1]))\n"
    "print('held', flush=True)\n"
    "time.sleep(600)\n"
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the lock of ``tmp_path / 'devnet'``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *sys.path[1:]])}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "devnet")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait(timeout=10)
    return process.pid


def test_acquire_writes_the_pid_and_refuses_a_second_start_until_released(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "devnet"
    held = acquire(workdir)
    assert (workdir / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    with pytest.raises(WorkdirBusyError) as refused:
        acquire(workdir)
    assert isinstance(refused.value, ConfigError)  # the CLI's exit code 2
    assert str(workdir) in str(refused.value) and f"pid {os.getpid()}" in str(refused.value)
    held.release()
    held.release()  # idempotent
    acquire(workdir).release()


def test_a_lock_held_by_another_live_process_is_refused_with_its_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(WorkdirBusyError, match=rf"pid {holder.pid}\b"):
        acquire(tmp_path / "devnet")


def test_a_killed_holder_leaves_a_stale_lock_that_is_taken_over(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    lock = tmp_path / "devnet" / LOCK_NAME
    assert lock.read_text().strip() == str(holder.pid)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert lock.read_text().strip() == str(holder.pid)  # the file stays behind: stale
    held = acquire(tmp_path / "devnet")
    assert lock.read_text() == f"{os.getpid()}\n"
    held.release()


def test_a_lock_file_naming_a_dead_pid_is_taken_over(tmp_path: Path) -> None:
    workdir = tmp_path / "devnet"
    workdir.mkdir()
    (workdir / LOCK_NAME).write_text(f"{_dead_pid()}\n")
    held = acquire(workdir)
    assert (workdir / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    held.release()


def test_clear_previous_run_removes_only_what_a_run_writes(tmp_path: Path) -> None:
    for i in range(2):
        home = tmp_path / f"validator-{i}"
        home.mkdir()
        for name in ("relayer.db", "relayer.db-wal", "relayer.toml", "relayer.log"):
            (home / name).write_text("old")
    (tmp_path / "supervisors").mkdir()
    (tmp_path / "broker").mkdir()
    (tmp_path / LOCK_NAME).write_text("1\n")
    (tmp_path / "notes.txt").write_text("mine")
    removed = clear_previous_run(tmp_path)
    names = ["broker", "supervisors", "validator-0", "validator-1"]
    assert sorted(p.name for p in removed) == names
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME, "notes.txt"]
    assert clear_previous_run(tmp_path) == []


def test_reset_database_removes_an_absolute_sqlite_file_and_its_sidecars(tmp_path: Path) -> None:
    files = [tmp_path / f"v0.db{suffix}" for suffix in ("", "-wal", "-shm", "-journal")]
    for f in files:
        f.write_text("old")
    keep = tmp_path / "v1.db"
    keep.write_text("other validator")
    reset_database(f"sqlite+aiosqlite:///{tmp_path}/v0.db")
    assert not any(f.exists() for f in files) and keep.exists()
    reset_database("sqlite+aiosqlite:///relayer.db")  # relative: in the validator's folder


def test_devnet_refuses_a_busy_workdir_with_exit_2_and_touches_nothing(
    tmp_path: Path, holder: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    workdir = tmp_path / "devnet"
    state = workdir / "validator-0" / "relayer.db"
    state.parent.mkdir()
    state.write_text("the running devnet's database")
    manifest = workdir / "manifest.json"
    manifest.write_text("{}")
    code = main(["devnet", "--workdir", str(workdir), "--manifest", str(manifest)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("relayer: error: a devnet is already running in"), err
    assert str(workdir) in err and f"pid {holder.pid}" in err, err
    assert state.read_text() == "the running devnet's database"
    assert manifest.exists()


def test_check_delivered_accepts_exactly_the_amount_only() -> None:
    check_delivered(100, 112, 12, "demo")
    for after in (100, 111, 113):
        with pytest.raises(DemoError, match="expected exactly 12"):
            check_delivered(100, after, 12, "demo")


def test_wait_delivered_waits_for_the_release_to_show_then_checks_it() -> None:
    answers = iter([100, 100, 112])
    assert wait_delivered(lambda: next(answers), 100, 12, "demo", poll=0.0) == 112
    with pytest.raises(DemoError, match="rose by 0"):
        wait_delivered(lambda: 100, 100, 12, "demo", timeout=0.05, poll=0.01)
    with pytest.raises(DemoError, match="rose by 24"):  # too much is as wrong as too little
        wait_delivered(lambda: 124, 100, 12, "demo", timeout=0.05, poll=0.01)
