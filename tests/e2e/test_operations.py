"""What an operator sees: health, readiness, metrics, start-up checks, clean stops."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bridge_client import metric, metric_lines, wait_until

from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def _relayer(config: Path, timeout: float = 180.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relayer", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _edited_config(bridge: Stack, tmp_path: Path, old: str, new: str) -> Path:
    text = bridge.validators[0].config_path.read_text()
    assert old in text
    path = tmp_path / "relayer.toml"
    path.write_text(text.replace(old, new, 1).replace("port = ", "port = 0 #", 1))
    return path


def test_health_readiness_and_metrics(bridge: Stack) -> None:
    assert bridge.http_get(0, "/healthz") == {"status": "ok"}
    ready = wait_until(lambda: bridge.http_get(0, "/readyz"), timeout=60)  # 503 meanwhile
    assert ready["ready"] is True
    assert set(ready["checks"]) >= {
        "rpc:conflux",
        "rpc:ethereum",
        "broker",
        "database",
        "cursor:conflux",
        "cursor:ethereum",
    }
    text = "\n".join(metric_lines(bridge, 0))
    for name in (
        "relayer_transfers",
        "relayer_attestations_received_total",
        "relayer_chain_head_lag_blocks",
        "relayer_release_latency_seconds_bucket",
        "relayer_submitter_balance_wei",
    ):
        assert name in text
    assert metric(bridge, 0, "relayer_submitter_balance_wei", 'chain="ethereum"') > 0


def test_chain_id_mismatch_stops_with_exit_code_2(bridge: Stack, tmp_path: Path) -> None:
    assert bridge.anvil is not None
    config = _edited_config(bridge, tmp_path, f"chain_id = {bridge.anvil.chain_id}", "chain_id = 5")
    result = _relayer(config)
    assert result.returncode == 2
    assert "ethereum.chain_id: settings say 5, the node at ethereum.rpc_url says 31337" in (
        result.stderr
    )


def test_cross_check_node_of_another_chain_stops_with_exit_code_2(
    bridge: Stack, tmp_path: Path
) -> None:
    """A cross-check node must serve the same chain: here Conflux's points at anvil."""
    assert bridge.anvil is not None and bridge.conflux is not None
    rpc = f'rpc_url = "{bridge.conflux.rpc_url}"'
    witness = f'{rpc}\ncross_check_rpc_url = "{bridge.anvil.rpc_url}"'
    config = _edited_config(bridge, tmp_path, rpc, witness)
    result = _relayer(config)
    assert result.returncode == 2, result.stderr
    expected = (
        f"conflux.chain_id: settings say {bridge.conflux.chain_id}, "
        f"the node at conflux.cross_check_rpc_url says {bridge.anvil.chain_id}"
    )
    assert expected in result.stderr


def test_contract_without_code_stops_with_exit_code_2(bridge: Stack, tmp_path: Path) -> None:
    assert bridge.vault is not None
    nowhere = "0x000000000000000000000000000000000000dEaD"
    config = _edited_config(bridge, tmp_path, bridge.vault.address, nowhere)
    result = _relayer(config)
    assert result.returncode == 2
    assert "conflux.vault: no contract code at" in result.stderr


def test_unknown_setting_stops_with_exit_code_2(bridge: Stack, tmp_path: Path) -> None:
    config = _edited_config(bridge, tmp_path, "[submitter]\n", "[submitter]\nsurprise = 1\n")
    result = _relayer(config)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("submitter.surprise: unknown setting")


def test_sigterm_stops_cleanly_with_exit_code_0(bridge: Stack) -> None:
    bridge.stop_relayer(2)
    process = bridge.start_relayer(2)
    bridge.wait_ready(indexes=[2])
    process._signal_group(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while process.exit_code() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.exit_code() == 0
    assert '"relayer stopped"' in process.log_tail(4000)
    bridge.start_relayer(2)
    bridge.wait_ready(indexes=[2])
