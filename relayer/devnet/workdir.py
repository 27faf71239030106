"""One devnet per workdir, and each devnet starts from clean relayer state.

``relayer devnet`` starts new chains every time, so whatever the previous run left in the
workdir (relayer databases with its cursors, heads and transfers; configs, policy packs,
broker files) describes chains that no longer exist. Relayers started on it saw a "reorg"
below transfers they had signed and halted, and the demo's transfer id (the same sender,
nonce and chains) was already "released". So a start takes the workdir's lock, then wipes
what the previous run left (:func:`clear_previous_run`), then builds the stack.

The lock is ``devnet.lock`` in the workdir: a file holding the pid of the devnet that
runs there, with an exclusive ``flock`` on it for as long as that process lives. The
kernel drops the ``flock`` when the process ends, however it ends, so a lock file left
by a dead devnet (a stale lock) is simply taken over, and a recycled pid can never keep a
workdir locked. A start that finds the lock held refuses with the workdir and the pid.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from relayer.errors import ConfigError

LOCK_NAME = "devnet.lock"
# What a devnet run writes into its workdir (relayer/devnet/stack.py): one folder per
# validator (relayer.toml, relayer.db with its -wal/-shm, relayer.log, deny-list.txt),
# the jurisdictions' policy packs, the broker's config and log. Only these are removed:
# a workdir given by hand may hold other files.
RUN_STATE_GLOBS = ("validator-*", "supervisors", "broker", "portal")


class WorkdirBusyError(ConfigError):
    """A devnet already runs in this workdir (exit code 2, like a bad argument)."""


@dataclass
class WorkdirLock:
    """The held lock of one workdir; :meth:`release` it when the devnet stops."""

    path: Path
    _fd: int | None

    def release(self) -> None:
        """Give the workdir up (idempotent). The emptied file stays; the next start reuses it."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return "pid unknown"
    return f"pid {text}" if text.isdecimal() else "pid unknown"


def acquire(workdir: Path) -> WorkdirLock:
    """Lock ``workdir`` for this process, or raise :class:`WorkdirBusyError`.

    Creates the workdir if needed. Never blocks: a lock held by a live devnet is refused
    at once; a lock file whose process has ended is taken over.
    """
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise WorkdirBusyError(
            f"a devnet is already running in {workdir} ({_holder(path)}, lock {path}); "
            "stop it first (Ctrl-C where it runs) or pass another --workdir"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return WorkdirLock(path, fd)


def clear_previous_run(workdir: Path) -> list[Path]:
    """Remove what an earlier run left in ``workdir`` (hold its lock); returns what went."""
    removed: list[Path] = []
    for pattern in RUN_STATE_GLOBS:
        for entry in sorted(workdir.glob(pattern)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed
