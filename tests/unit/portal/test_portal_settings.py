"""The portal's settings (relayer/portal/settings.py): the example loads, mistakes are
refused with a line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from relayer.errors import ConfigError
from relayer.portal.app import config_json
from relayer.portal.settings import (
    STATIC_DIR,
    ChainEntry,
    NativeCurrency,
    PortalSettings,
    RateLimitSettings,
    ServerSettings,
    TokenEntry,
    UpstreamSettings,
    ValidatorEndpoint,
    load_portal_settings,
    settings_table,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "portal.example.toml"


def test_the_example_loads_and_the_page_config_shows_it() -> None:
    settings = load_portal_settings(EXAMPLE)
    assert settings.static_path == STATIC_DIR and (STATIC_DIR / "index.html").is_file()
    shown = config_json(settings)
    assert [(c["chain_id"], c["kind"]) for c in shown["chains"]] == [
        (71, "conflux-espace"),
        (11155111, "ethereum"),
    ]
    assert shown["chains"][0]["chain_id_hex"] == "0x47"
    assert shown["chains"][0]["confirmation"] == {
        "rule": "finalized",
        "blocks": None,
        "typical_s": 300.0,
    }
    assert shown["jurisdictions"] == ["AE", "HK", "SG"]
    assert shown["tokens"][0]["addresses"]["71"] == "0x" + "0" * 40


def _write(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text
    path = tmp_path / "portal.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("burst = 30", "burst = 30\nbursts = 2", "rate_limit.bursts: unknown setting"),
        ("burst = 30", "burst = 0", "rate_limit.burst: Input should be greater than"),
        ('jurisdiction = "HK"', 'jurisdiction = "hk"', "validators.0: jurisdiction must be"),
        (
            'kind = "ethereum"',
            'kind = "conflux-espace"',
            "one 'conflux-espace' and one 'ethereum' chain",
        ),
        ('"11155111" = "0x', '"5" = "0x', "tokens.CFX.addresses: unknown chain ids ['5']"),
        ("/tx/{hash}", "/tx/", "chains.0: explorer_tx_url must contain {hash}"),
        (
            'bridge = "0x0000000000000000000000000000000000000000"',
            'bridge = "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"',
            "chains.0.bridge: address has a bad EIP-55 checksum",
        ),
        ('url = "http://10.0.0.5:8080"', 'url = "10.0.0.5:8080"', "validators.0.url"),
        ('confirmation = "finalized"', 'confirmation = "soon"', "chains.0.confirmation"),
    ],
)
def test_a_bad_setting_is_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_portal_settings(_write(tmp_path, old, new))
    assert message in str(caught.value)


def test_a_missing_file_or_static_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_portal_settings(tmp_path / "nope.toml")
    path = _write(tmp_path, "port = 8090", f'port = 8090\nstatic_dir = "{tmp_path / "x"}"')
    with pytest.raises(ConfigError, match=r"server\.static_dir: not a folder"):
        load_portal_settings(path)


def test_the_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_SERVER__PORT", "9123")
    assert load_portal_settings(EXAMPLE).server.port == 9123


def test_docs_portal_lists_every_setting_as_the_model_defines_it() -> None:
    doc = (EXAMPLE.parents[1] / "docs" / "portal.md").read_text()
    start = doc.index("<!-- settings: generated")
    block = doc[doc.index("\n", start) + 1 : doc.index("<!-- end of settings -->")]
    assert block == settings_table(), "docs/portal.md settings are stale: paste settings_table()"


def test_every_portal_setting_has_a_description() -> None:
    for name, info in PortalSettings.model_fields.items():
        assert info.description or name in ("server", "rate_limit", "upstream"), name
    for model in (ServerSettings, RateLimitSettings, UpstreamSettings, ValidatorEndpoint):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name}"
    for model in (ChainEntry, TokenEntry, NativeCurrency):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name}"
