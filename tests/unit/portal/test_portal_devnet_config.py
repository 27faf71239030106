"""The devnet's portal settings (relayer/devnet/portal.py ``portal_toml``) load through
the portal's own settings model and name the stack's chains, contracts, tokens and
validators."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from relayer.devnet.portal import portal_toml
from relayer.devnet.stack import ZERO, Stack, StackOptions, TokenInfo, ValidatorInfo
from relayer.portal.settings import load_portal_settings

VAULT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
GATEWAY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
AXHKD = ("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9")


def test_the_devnet_portal_settings_load(tmp_path: Path) -> None:
    stack = Stack(StackOptions(), tmp_path)
    stack.conflux = SimpleNamespace(chain_id=2029, rpc_url="http://127.0.0.1:1")  # type: ignore[assignment]
    stack.anvil = SimpleNamespace(chain_id=31337, rpc_url="http://127.0.0.1:2")  # type: ignore[assignment]
    stack.vault = SimpleNamespace(address=VAULT)  # type: ignore[assignment]
    stack.gateway = SimpleNamespace(address=GATEWAY)  # type: ignore[assignment]
    stack.tokens = [TokenInfo("AxHKD", 6, *AXHKD), TokenInfo("CFX", 18, ZERO, AXHKD[1])]
    stack.validators = [
        ValidatorInfo(i, VAULT, j, "0x", f"http://127.0.0.1:{900 + i}", "", tmp_path, tmp_path)
        for i, j in enumerate(("HK", "SG"))
    ]
    path = tmp_path / "portal.toml"
    path.write_text(portal_toml(stack, 8123))
    settings = load_portal_settings(path)
    assert settings.server.port == 8123
    assert "http://127.0.0.1:8123" in settings.server.cors_origins
    assert [(c.chain_id, c.kind, c.bridge) for c in settings.chains] == [
        (2029, "conflux-espace", VAULT),
        (31337, "ethereum", GATEWAY),
    ]
    assert settings.chains[0].confirmation == "depth:5"
    assert [(v.name, v.url, v.jurisdiction) for v in settings.validators] == [
        ("devnet-0", "http://127.0.0.1:900", "HK"),
        ("devnet-1", "http://127.0.0.1:901", "SG"),
    ]
    assert settings.tokens[0].addresses == {"2029": AXHKD[0], "31337": AXHKD[1]}
    assert settings.tokens[1].addresses["2029"] == ZERO
