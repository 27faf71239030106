"""``relayer portal --config FILE`` as an operator runs it: it serves until SIGTERM and
exits 0; a bad setting is one line naming it, exit code 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from relayer.devnet.processes import free_ports

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "portal.example.toml"


def test_the_command_serves_until_sigterm(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    env = {**os.environ, "PORTAL_SERVER__PORT": str(port), "PORTAL_SERVER__HOST": "127.0.0.1"}
    argv = [sys.executable, "-m", "relayer", "portal", "--config", str(EXAMPLE)]
    with subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True) as process:
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    url = f"http://127.0.0.1:{port}/v1/config"
                    with urllib.request.urlopen(url, timeout=2) as answer:
                        config = json.loads(answer.read())
                    break
                except (urllib.error.URLError, OSError):
                    assert process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
            assert [c["chain_id"] for c in config["chains"]] == [71, 11155111]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_a_bad_setting_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "portal.toml"
    bad.write_text(EXAMPLE.read_text().replace("burst = 30", "burst = -1"))
    done = subprocess.run(
        [sys.executable, "-m", "relayer", "portal", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("relayer: error: invalid portal settings: rate_limit.burst")
    assert done.stderr.count("\n") == 1
