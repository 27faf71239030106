"""Five real relayers exchange signed audit heads: every validator's chain is witnessed by
the four others, and `relayer audit verify` says so for each of them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bridge_client import lock, wait_status, wait_until
from eth_utils.address import to_checksum_address

from relayer.cli import main
from relayer.devnet.stack import Stack


def _verify(config: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, Any]]]:
    capsys.readouterr()
    code = main(["audit", "verify", "--config", config])
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_every_chain_is_witnessed_by_the_others_and_verifies(
    bridge: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in bridge.hsm_keys.values():  # the CLI runs as the operator's: beside its token
        monkeypatch.setenv("SOFTHSM2_CONF", str(key.conf))
    user = bridge.users[0]
    sent = lock(bridge, user, "CFXT", 10**18, user.address)
    for v in range(5):
        wait_status(bridge, v, sent, "released")  # every chain has moved

    for v, info in enumerate(bridge.validators):
        others = {to_checksum_address(o.address) for o in bridge.validators if o is not info}

        def witnessed(
            config: str = str(info.config_path), others: set[str] = others
        ) -> list[dict[str, Any]] | None:
            code, lines = _verify(config, capsys)
            assert code == 0, lines
            return lines if {line.get("witness") for line in lines[1:]} == others else None

        lines = wait_until(witnessed, timeout=90)
        assert lines[0]["intact"] is True, v
        assert all(line["extends"] and line["highest_seq"] > 0 for line in lines[1:]), lines
