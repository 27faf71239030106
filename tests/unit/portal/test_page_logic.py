"""The wallet page's pure logic (relayer/portal/web/src: exact amounts, both languages,
locale formatting) under Node's own test runner, so `make test` runs it with the rest."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[3] / "relayer" / "portal" / "web"


def test_the_page_logic_passes_its_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: install Node.js (the page and the devnet need it)")
    done = subprocess.run(
        [node, "--test", "test/"], cwd=WEB, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", done.stdout, re.MULTILINE)
    assert passed and failed, done.stdout
    assert int(passed.group(1)) >= 8 and int(failed.group(1)) == 0, done.stdout
