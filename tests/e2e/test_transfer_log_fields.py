"""Every log line about a transfer carries ``transfer_id``, ``src_chain_id``,
``dst_chain_id`` and ``stage`` (ops/README.md: what monitoring teams filter on).

Reads the logs of every validator of the session's devnet after transfers in both
directions went through it (this file runs after the bridge, governor, operations and
portal tests of tests/e2e, which add refusals, delays and resubmissions to the logs)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from bridge_client import burn, lock, wait_executed

from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
FIELDS = ("transfer_id", "src_chain_id", "dst_chain_id", "stage")
# test instrumentation, armed only by RELAYER_TESTING__CRASH_AFTER (tests/e2e/test_crash_points):
# its one line names the crash point and the transfer it stopped at, and the process dies
INSTRUMENTATION = {"crashpoints"}


def _lines(bridge: Stack) -> list[dict[str, Any]]:
    lines = []
    for validator in bridge.validators:
        for raw in validator.log_path.read_text().splitlines():
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                continue  # a traceback's continuation, say
            if isinstance(line, dict):
                lines.append(line)
    return lines


def test_every_line_about_a_transfer_names_it_its_chains_and_its_stage(bridge: Stack) -> None:
    user = bridge.users[0]
    out = lock(bridge, user, "AxHKD", 2_000_000, user.address)
    wait_executed(bridge, out)
    wait_executed(bridge, burn(bridge, user, "AxHKD", 1_000_000, user.address))
    about = [
        line
        for line in _lines(bridge)
        if "transfer_id" in line and line.get("component") not in INSTRUMENTATION
    ]
    assert len(about) >= 10 * len(bridge.validators), "too few transfer lines to judge"
    incomplete = Counter(
        (line.get("component"), line.get("event"))
        for line in about
        if any(line.get(field) is None for field in FIELDS)
    )
    assert not incomplete, f"transfer lines without all of {FIELDS}: {incomplete.most_common()}"
    stages = {line["stage"] for line in about}
    assert {"confirmed", "attested", "quorum", "released"} <= stages, stages
    chains = {(line["src_chain_id"], line["dst_chain_id"]) for line in about}
    assert len(chains) >= 2, chains  # both directions
