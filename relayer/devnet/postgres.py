"""A private, throw-away PostgreSQL server for tests that stop or restart the database.

``PostgresServer.start(workdir)`` runs ``initdb`` (trust auth, superuser ``postgres``,
UTF8, no fsync) and ``pg_ctl start`` on a free 127.0.0.1 port, so a test can restart
PostgreSQL under a running relayer without touching the machine's shared cluster.
``close()`` stops it (immediate mode) and removes its temporary runtime directory.

Binaries come from the newest ``/usr/lib/postgresql/*/bin`` holding them, else from
``PATH``. ``initdb``, ``pg_ctl`` and ``postgres`` refuse to run as root, so as root they
run as the ``postgres`` OS user (``runuser``) and the data directory lives in a fresh
``/tmp/relayer-pg-*`` directory owned by that user (a pytest ``tmp_path`` is mode 700,
root's only); its log is copied into ``workdir`` on ``close()``. Otherwise the data
directory is ``workdir/data``. The Unix socket always goes to the short ``/tmp`` runtime
directory (socket paths are limited to ~107 bytes); clients here use TCP.

The server is a daemon (``pg_ctl`` detaches it), so an ``atexit`` hook stops whatever a
test left running; a SIGKILLed test runner leaves it behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from relayer.devnet.processes import DevnetError, free_ports

PG_LIB_DIR = Path("/usr/lib/postgresql")
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres", "pg_isready", "createdb")
OS_USER = "postgres"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 30
START_ATTEMPTS = 3
STOP_MODES = ("smart", "fast", "immediate")

_live: set[PostgresServer] = set()


def _version_key(bindir: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in bindir.parent.name.split("."))
    except ValueError:
        return (-1,)


def _missing(bindir: Path) -> list[str]:
    return [n for n in REQUIRED_BINARIES if not os.access(bindir / n, os.X_OK)]


def find_bindir() -> Path:
    """The directory with the server binaries; ``DevnetError`` naming what is missing."""
    candidates = sorted(PG_LIB_DIR.glob("*/bin"), key=_version_key, reverse=True)
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    notes = []
    for bindir in candidates:
        missing = _missing(bindir)
        if not missing:
            return bindir
        notes.append(f"{bindir} lacks {', '.join(missing)}")
    raise DevnetError(
        f"PostgreSQL server binaries not found (need {', '.join(REQUIRED_BINARIES)}; "
        f"looked in {PG_LIB_DIR}/*/bin and PATH"
        + (f": {'; '.join(notes)}" if notes else "")
        + "); install them with `apt-get install postgresql`"
    )


def _as_postgres_prefix() -> tuple[list[str], pwd.struct_passwd | None]:
    """``runuser`` argv prefix and the OS user when running as root, else nothing."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(OS_USER)
    except KeyError as err:
        raise DevnetError(
            f"running as root, and initdb/postgres refuse root, but there is no "
            f"{OS_USER!r} OS user to run them as"
        ) from err
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if not os.access(runuser, os.X_OK):
        raise DevnetError("running as root needs `runuser` (util-linux) to start PostgreSQL")
    return [runuser, "-u", OS_USER, "--"], user


def _clean_env() -> dict[str, str]:
    """The environment without ``PG*`` variables (PGDATA, PGPORT, ... would interfere)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


class PostgresServer:
    """A PostgreSQL cluster of its own on 127.0.0.1:``port`` (superuser ``postgres``)."""

    def __init__(
        self, bindir: Path, workdir: Path, runtime: Path, port: int, prefix: list[str]
    ) -> None:
        self.bindir = bindir
        self.workdir = workdir
        self.port = port
        self._runtime = runtime  # fresh /tmp directory: socket (and data when root)
        self._prefix = prefix  # runuser ... when root
        data_root = runtime if prefix else workdir
        self.data_dir = data_root / "data"
        self.log_path = data_root / "postgres.log"
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------

    @classmethod
    def start(cls, workdir: Path, port: int | None = None) -> PostgresServer:
        """initdb a new cluster and start it; blocks until it accepts connections."""
        bindir = find_bindir()
        prefix, os_user = _as_postgres_prefix()
        workdir.mkdir(parents=True, exist_ok=True)
        runtime = Path(tempfile.mkdtemp(prefix="relayer-pg-", dir="/tmp"))
        if os_user is not None:
            os.chown(runtime, os_user.pw_uid, os_user.pw_gid)
        server = cls(bindir, workdir, runtime, port or free_ports(1)[0], prefix)
        _live.add(server)
        try:
            server._initdb()
            server._start_first(fixed_port=port is not None)
        except BaseException:
            server.close()
            raise
        return server

    def _initdb(self) -> None:
        self._run(
            "initdb",
            [
                *("-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "--no-sync"),
                *("--encoding=UTF8", "--locale=C"),
            ],
            timeout=120,
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self._runtime}'",
            "fsync": "off",  # a throw-away cluster; a clean stop still checkpoints
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            "max_connections": "50",
        }
        self._append_conf(
            "\n# relayer devnet\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
        )

    def _append_conf(self, text: str) -> None:
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(text)

    def _start_first(self, *, fixed_port: bool) -> None:
        """Start on ``port``; with a port of our choosing, retry fresh ones if taken."""
        for attempt in range(1, START_ATTEMPTS + 1):
            self._append_conf(f"port = {self.port}\n")  # the last ``port`` line wins
            try:
                self.start_again()
            except DevnetError:
                taken = "Address already in use" in self.log_tail()
                if fixed_port or not taken or attempt == START_ATTEMPTS:
                    raise
                (self.port,) = free_ports(1)
            else:
                return

    def start_again(self) -> None:
        """``pg_ctl start -w`` on the same data directory and port."""
        self._run(
            "pg_ctl",
            [
                *("start", "-w", "-t", str(START_TIMEOUT_SECONDS)),
                *("-D", str(self.data_dir), "-l", str(self.log_path)),
            ],
            timeout=START_TIMEOUT_SECONDS + 15,
        )
        self._wait_ready(START_TIMEOUT_SECONDS)

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m mode -w``: ``smart``, ``fast`` (the default) or ``immediate``."""
        if mode not in STOP_MODES:
            raise ValueError(f"stop mode must be one of {STOP_MODES}: {mode!r}")
        self._run(
            "pg_ctl",
            ["stop", "-w", "-t", str(STOP_TIMEOUT_SECONDS), "-m", mode, "-D", str(self.data_dir)],
            timeout=STOP_TIMEOUT_SECONDS + 15,
        )

    def restart(self, down_s: float = 0.0) -> None:
        """Stop (fast), stay down ``down_s`` seconds, start again on the same port."""
        self.stop("fast")
        time.sleep(down_s)
        self.start_again()

    def is_running(self) -> bool:
        """True while the postmaster of this data directory is alive."""
        if not self.data_dir.exists():
            return False
        argv = [*self._prefix, str(self.bindir / "pg_ctl"), "status", "-D", str(self.data_dir)]
        return self._succeeds(argv)

    def close(self) -> None:
        """Stop the server (immediate) if it runs; remove the runtime directory."""
        if self._closed:
            return
        self._closed = True
        _live.discard(self)
        try:
            if self.is_running():
                self.stop("immediate")
        finally:
            if self.log_path.parent == self._runtime:
                with contextlib.suppress(OSError):
                    shutil.copyfile(self.log_path, self.workdir / "postgres.log")
            shutil.rmtree(self._runtime, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- clients ------------------------------------------------------------------

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server (asyncpg driver)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        """``createdb`` ``name`` (it quotes the name itself)."""
        self._run("createdb", [*self._tcp_args(), name], timeout=60, as_os_user=False)

    def log_tail(self, max_chars: int = 3000) -> str:
        """The end of the server log, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-max_chars:]
        except OSError:
            return ""

    # --- helpers ------------------------------------------------------------------

    def _tcp_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def _succeeds(self, argv: list[str]) -> bool:
        """Whether a quick status command exits 0 (its output is not needed)."""
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self._runtime,
            env=_clean_env(),
            timeout=30,
            check=False,
        )
        return done.returncode == 0

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        argv = [str(self.bindir / "pg_isready"), *self._tcp_args(), "-d", "postgres", "-t", "2"]
        while True:
            if self._succeeds(argv):
                return
            if time.monotonic() > deadline:
                raise DevnetError(
                    f"PostgreSQL on port {self.port} did not accept connections within "
                    f"{timeout}s; server log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def _run(self, tool: str, args: list[str], *, timeout: float, as_os_user: bool = True) -> str:
        """Run ``tool`` from the bindir (as ``postgres`` when root); raise on failure."""
        argv = [*(self._prefix if as_os_user else []), str(self.bindir / tool), *args]
        # a file, not a pipe: the daemonized postmaster must not hold our pipe open
        with tempfile.TemporaryFile() as out:
            try:
                done = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self._runtime,
                    env=_clean_env(),
                    timeout=timeout,
                    check=False,
                )
                failure = None if done.returncode == 0 else f"exited with {done.returncode}"
            except subprocess.TimeoutExpired:
                failure = f"timed out after {timeout}s"
            out.seek(0)
            output = out.read().decode(errors="replace")[-3000:]
        if failure is not None:
            raise DevnetError(
                f"{tool} {' '.join(args)} {failure}:\n{output}\n"
                f"server log {self.log_path}:\n{self.log_tail()}"
            )
        return output


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live):
        server.close()
