"""The ABIs shipped in relayer/chain/abi match a fresh forge build, and the exporter is strict."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from relayer.chain import artifacts
from relayer.chain.artifacts import ARTIFACT_NAMES, Artifact, check, export, load_artifact, main

CONTRACTS = artifacts.REPO_ROOT / "contracts"
FORGE = CONTRACTS / "tools" / "forge"  # passes forge's exit code on (the npm launcher does not)


@pytest.fixture(scope="module")
def fresh_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A forge build of the current sources into a private out/ (never the shared one)."""
    base = tmp_path_factory.mktemp("forge")
    out = base / "out"
    subprocess.run(
        [
            str(FORGE),
            "build",
            "--quiet",
            "--skip",
            "test",
            "--skip",
            "script",
            "--out",
            str(out),
            "--cache-path",
            str(base / "cache"),
            "--extra-output",
            "storageLayout",
        ],
        cwd=CONTRACTS,
        check=True,
        timeout=300,
    )
    return out


def test_shipped_artifacts_match_fresh_build(fresh_out: Path) -> None:
    assert check(fresh_out) == [], "run `make build` and commit relayer/chain/abi"


def test_export_is_deterministic(fresh_out: Path, tmp_path: Path) -> None:
    export(fresh_out, tmp_path / "a")
    export(fresh_out, tmp_path / "b")
    for name in ARTIFACT_NAMES:
        a = (tmp_path / "a" / f"{name}.json").read_text()
        b = (tmp_path / "b" / f"{name}.json").read_text()
        assert a == b
        assert a.endswith("}\n")
        data = json.loads(a)
        assert list(data) == ["abi", "bytecode"]
        assert data["bytecode"].startswith("0x")
        assert len(data["bytecode"]) > 2


def test_check_names_drifted_files(fresh_out: Path, tmp_path: Path) -> None:
    abi_dir = tmp_path / "abi"
    export(fresh_out, abi_dir)
    assert check(fresh_out, abi_dir) == []
    (abi_dir / "BridgeVault.json").write_text('{"abi": [], "bytecode": "0x00"}\n')
    (abi_dir / "TestToken.json").unlink()
    drifted = check(fresh_out, abi_dir)
    assert len(drifted) == 2
    assert any(p.endswith("BridgeVault.json") for p in drifted)
    assert any(p.endswith("TestToken.json") for p in drifted)


def test_main_check_exits_one_on_drift(
    fresh_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    abi_dir = tmp_path / "abi"
    assert main(["export", "--out", str(fresh_out), "--abi-dir", str(abi_dir)]) == 0
    assert main(["check", "--out", str(fresh_out), "--abi-dir", str(abi_dir)]) == 0
    shutil.copy(abi_dir / "TestToken.json", abi_dir / "MirroredToken.json")
    assert main(["check", "--out", str(fresh_out), "--abi-dir", str(abi_dir)]) == 1
    assert "MirroredToken.json" in capsys.readouterr().err


def test_main_reports_missing_build(tmp_path: Path) -> None:
    assert main(["check", "--out", str(tmp_path / "nothing")]) == 1


def test_load_artifact_is_frozen_and_complete() -> None:
    for name in ARTIFACT_NAMES:
        artifact = load_artifact(name)
        assert isinstance(artifact, Artifact)
        assert artifact.name == name
        assert artifact.bytecode.startswith("0x")
        assert any(item.get("type") == "constructor" for item in artifact.abi)
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_artifact("BridgeVault").bytecode = "0x"  # type: ignore[misc]


def test_gateway_abi_exposes_the_relayer_interface() -> None:
    names = {item.get("name") for item in load_artifact("BridgeGateway").abi}
    for needed in (
        "release",
        "burn",
        "registerToken",
        "registerChain",
        "mirrorOf",
        "sourceOf",
        "isProcessed",
        "hashRelease",
        "hashValidatorSetUpdate",
        "domainSeparator",
        "validatorSet",
        "previousValidatorSet",
        "rotateValidatorSet",
        "Released",
        "Burned",
        "TokenRegistered",
        "ValidatorSetRotated",
        "BelowThreshold",
        "AlreadyProcessed",
    ):
        assert needed in names, needed
    vault = {item.get("name") for item in load_artifact("BridgeVault").abi}
    for needed in ("lock", "lockNative", "unlock", "lockedBalance", "Locked", "Unlocked"):
        assert needed in vault, needed


def test_load_artifact_unknown_name_raises() -> None:
    with pytest.raises(artifacts.ArtifactError):
        load_artifact("NoSuchContract")


def _storage_layout(out: Path, source: str, contract: str) -> list[tuple[str, str, int, str]]:
    data = json.loads((out / source / f"{contract}.json").read_text())
    # a struct's type names its AST id, which differs between compilation profiles: drop it
    return [
        (e["label"], e["slot"], int(e["offset"]), re.sub(r"\)\d+", ")", e["type"]))
        for e in data["storageLayout"]["storage"]
    ]


def test_admin_module_shares_the_bridge_contracts_storage_layout(fresh_out: Path) -> None:
    """BridgeAdmin runs by delegatecall in the vault's and the gateway's storage: its layout
    (all of it declared in BridgeStorage) must be exactly the start of theirs."""
    module = _storage_layout(fresh_out, "BridgeAdmin.sol", "BridgeAdmin")
    assert [label for label, *_ in module][-3:] == [
        "_pendingGovernors",
        "_pendingParameters",
        "_roots",
    ]
    for source, name in (
        ("BridgeVault.sol", "BridgeVault"),
        ("BridgeGateway.sol", "BridgeGateway"),
    ):
        layout = _storage_layout(fresh_out, source, name)
        assert layout[: len(module)] == module, name
        assert len(layout) > len(module), f"{name} appends its own state after the shared one"
