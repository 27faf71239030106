"""A deeply nested JSON document is a rejected input, never a crashed process."""

from __future__ import annotations

import subprocess
import sys

from relayer.hardening import RECURSION_LIMIT

DEEP = (
    "import json\n"
    "try:\n"
    '    json.loads("[" * 100_000 + "]" * 100_000)\n'
    "except RecursionError:\n"
    '    print("rejected")\n'
)


def _run(prelude: str) -> subprocess.CompletedProcess[str]:
    code = "import relayer.node  # imports web3 and so py_ecc\n" + prelude + DEEP
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_capped_limit_turns_deep_json_into_a_recursion_error() -> None:
    capped = _run("from relayer.hardening import cap_recursion\ncap_recursion()\n")
    assert capped.returncode == 0 and capped.stdout.strip() == "rejected", capped.stderr[-500:]


def test_without_the_cap_py_ecc_s_limit_is_in_force() -> None:
    """What the cap is for: py_ecc raises the limit when web3 is imported."""
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, relayer.node; print(sys.getrecursionlimit())"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert int(probe.stdout) > RECURSION_LIMIT


def test_the_relayer_command_caps_it() -> None:
    code = (
        "import sys\nfrom relayer import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sys.getrecursionlimit())\n"
    )
    probe = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert int(probe.stdout.strip().splitlines()[-1]) <= RECURSION_LIMIT
