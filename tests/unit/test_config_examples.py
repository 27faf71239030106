"""Every example config in config/ loads through the settings model."""

from __future__ import annotations

from pathlib import Path

import pytest

from relayer.settings import load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.mark.parametrize("name", ["devnet.example.toml", "testnet.toml", "mainnet.example.toml"])
def test_example_config_loads(name: str) -> None:
    settings = load_settings(CONFIG / name)
    assert settings.validator.jurisdiction == "HK"


def test_testnet_and_mainnet_chains_and_finality() -> None:
    testnet = load_settings(CONFIG / "testnet.toml")
    assert (testnet.conflux.chain_id, testnet.ethereum.chain_id) == (71, 11155111)
    mainnet = load_settings(CONFIG / "mainnet.example.toml")
    assert (mainnet.conflux.chain_id, mainnet.ethereum.chain_id) == (1030, 1)
    for chain in (mainnet.conflux, mainnet.ethereum):  # production: a second node vouches
        assert chain.cross_check_rpc_url not in (None, chain.rpc_url)
    for settings in (testnet, mainnet):
        assert settings.conflux.confirmation == "finalized"
        assert settings.conflux.max_log_window == 1000


def test_env_example_names_only_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for line in (CONFIG / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            monkeypatch.setenv(key, value)
    settings = load_settings(CONFIG / "testnet.toml")
    assert settings.broker.username == "hk-1"
    assert settings.database.url.startswith("postgresql+asyncpg://")
