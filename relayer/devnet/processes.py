"""Launching and stopping local node processes, free ports, readiness probes.

Every process runs in its own process group (``start_new_session``) and is stopped
with SIGTERM to the whole group, then SIGKILL after a grace period, so nothing is
left behind. An ``atexit`` hook kills whatever a crashed test run did not stop, and
each child asks the kernel for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so
even a SIGKILLed test runner or devnet leaves no node running.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import ctypes.util
import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_BIN_DIR = REPO_ROOT / "contracts" / "node_modules" / ".bin"

STOP_GRACE_SECONDS = 10.0
PROBE_TIMEOUT_SECONDS = 1.0
POLL_SECONDS = 0.1

_live: set[ManagedProcess] = set()
_handed_out: set[int] = set()
_random = random.SystemRandom()  # independent of any test's random.seed


class DevnetError(RuntimeError):
    """A local node could not be started (missing binary, early exit, no RPC)."""


def require_binary(path: Path, hint: str) -> Path:
    """Return ``path`` if it is an executable file; raise a loud ``DevnetError`` if not."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise DevnetError(f"node binary missing: {path} ({hint})")
    return path


def _port_is_free(port: int, *, udp: bool) -> bool:
    kinds = [socket.SOCK_STREAM] + ([socket.SOCK_DGRAM] if udp else [])
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("0.0.0.0", port))  # noqa: S104 - nodes bind all interfaces
            except OSError:
                return False
    return True


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_PICKABLE_BELOW_EPHEMERAL = 12_000  # ports picked from just below the kernel's ephemeral range


def _pickable_range() -> tuple[int, int] | None:
    """Ports no outgoing connection is ever given: just below the ephemeral range.

    A port the kernel hands out for ``bind(0)`` lies in the ephemeral range, which the
    kernel also uses for every outgoing connection (five relayers make many): between our
    check and the node's bind, a client socket could take it ("address already in use").
    """
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if low - _PICKABLE_BELOW_EPHEMERAL < 1024:
        return None
    return low - _PICKABLE_BELOW_EPHEMERAL, low - 1


def free_ports(count: int, *, udp: bool = False) -> list[int]:
    """``count`` distinct ports that are free now (TCP, and UDP too if asked).

    Picked at random below the kernel's ephemeral range where it leaves room (else the
    kernel's ``bind(0)`` choice). Ports are never handed out twice by this process; another
    process may still grab one before the node binds it, so launchers retry a failed start
    with fresh ports.
    """
    span = _pickable_range()
    ports: list[int] = []
    while len(ports) < count:
        if span is not None:
            port = _random.randint(*span)
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("0.0.0.0", 0))  # noqa: S104
                port = int(sock.getsockname()[1])
        if port in _handed_out or port in ports or not _port_is_free(port, udp=udp):
            continue
        ports.append(port)
    _handed_out.update(ports)
    return ports


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM me when the parent goes away (Linux)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ManagedProcess:
    """A child process in its own process group, with its output in a log file."""

    def __init__(
        self,
        argv: Sequence[str],
        log_path: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        with log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=None if env is None else {**os.environ, **env},
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.pid = self._popen.pid
        _live.add(self)

    def exit_code(self) -> int | None:
        """The exit code if the process has ended, else ``None``."""
        return self._popen.poll()

    def log_tail(self, max_chars: int = 2000) -> str:
        """The end of the process output, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-max_chars:]
        except OSError:
            return ""

    def send_signal(self, sig: signal.Signals) -> None:
        """Signal the whole process group (e.g. SIGSTOP / SIGCONT to freeze a node)."""
        self._signal_group(sig)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """SIGTERM the group, wait up to ``grace`` seconds, then SIGKILL it (blocking)."""
        _live.discard(self)
        if self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait(timeout=grace)
        self._signal_group(signal.SIGKILL)  # stragglers the leader left in its group
        return self._popen.returncode

    async def async_stop(self, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """``stop`` without blocking the event loop."""
        return await asyncio.to_thread(self.stop, grace)


def live_group_members(pgid: int) -> list[int]:
    """Pids of processes (zombies excluded) in process group ``pgid``, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_live):
        proc.stop(grace=2.0)


def rpc_call_sync(url: str, method: str, params: list[Any], timeout: float) -> Any:
    """One JSON-RPC call over HTTP with the standard library; raises on any failure."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        answer = json.loads(response.read())
    if "error" in answer:
        raise DevnetError(f"{method} failed: {answer['error']}")
    return answer["result"]


async def rpc_call(url: str, method: str, params: list[Any], limit: float = 10.0) -> Any:
    """``rpc_call_sync`` off the event loop, under ``asyncio.timeout(limit)``."""
    async with asyncio.timeout(limit + 1.0):
        return await asyncio.to_thread(rpc_call_sync, url, method, params, limit)


def _probe(url: str, method: str) -> bool:
    try:
        rpc_call_sync(url, method, [], PROBE_TIMEOUT_SECONDS)
    except (OSError, urllib.error.URLError, ValueError, DevnetError):
        return False
    return True


def wait_until_ready(proc: ManagedProcess, url: str, method: str, timeout: float) -> None:
    """Poll ``method`` on ``url`` until it answers; raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        code = proc.exit_code()
        if code is not None:
            raise DevnetError(f"{proc.argv[0]} exited with {code}:\n{proc.log_tail()}")
        if _probe(url, method):
            return
        if time.monotonic() > deadline:
            raise DevnetError(f"{url} did not answer within {timeout}s:\n{proc.log_tail()}")
        time.sleep(POLL_SECONDS)


async def run_blocking(fn: Callable[..., T], limit: float, *args: Any, **kwargs: Any) -> T:
    """Run a blocking launcher or stopper in a thread, under ``asyncio.timeout(limit)``."""
    async with asyncio.timeout(limit):
        return await asyncio.to_thread(fn, *args, **kwargs)
