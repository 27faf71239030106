"""Contract ABIs and deploy bytecode shipped with the relayer.

``python -m relayer.chain.artifacts export`` copies the ABI and creation bytecode of the
contracts the relayer deploys or talks to from Foundry's build output (``contracts/out``) to
``relayer/chain/abi/<Name>.json`` as ``{"abi": [...], "bytecode": "0x..."}`` with sorted keys
and a trailing newline, so the files are byte-for-byte reproducible. ``check`` compares the
shipped files with a build and exits 1 naming every drifted file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
FORGE_OUT = REPO_ROOT / "contracts" / "out"
ABI_DIR = Path(__file__).resolve().parent / "abi"

#: Contracts exported for the relayer, the devnet, the benchmarks and the tests.
ARTIFACT_NAMES: tuple[str, ...] = (
    "BridgeAdmin",
    "BridgeVault",
    "BridgeGateway",
    "MirroredToken",
    "TestToken",
    "FeeOnTransferToken",
    "BlacklistToken",
)


class ArtifactError(RuntimeError):
    """A build output or shipped artifact is missing or malformed."""


@dataclass(frozen=True)
class Artifact:
    """One contract's ABI and creation bytecode (``0x``-prefixed hex)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str


def render(name: str, out_dir: Path = FORGE_OUT) -> str:
    """The shipped JSON text of ``name`` made from Foundry's ``out_dir``."""
    path = out_dir / f"{name}.sol" / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        abi = raw["abi"]
        bytecode = raw["bytecode"]["object"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ArtifactError(f"no usable build output for {name} at {path}") from err
    if not isinstance(bytecode, str) or len(bytecode) <= 2:
        raise ArtifactError(f"{name} has no bytecode in {path} (abstract or not built?)")
    if not bytecode.startswith("0x"):
        bytecode = "0x" + bytecode
    return json.dumps({"abi": abi, "bytecode": bytecode}, sort_keys=True, indent=1) + "\n"


def export(out_dir: Path = FORGE_OUT, abi_dir: Path = ABI_DIR) -> list[Path]:
    """Write every artifact to ``abi_dir``; returns the paths written."""
    abi_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ARTIFACT_NAMES:
        target = abi_dir / f"{name}.json"
        text = render(name, out_dir)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    load_artifact.cache_clear()
    return written


def check(out_dir: Path = FORGE_OUT, abi_dir: Path = ABI_DIR) -> list[str]:
    """Names of the shipped files that differ from (or are missing against) the build."""
    drifted = []
    for name in ARTIFACT_NAMES:
        target = abi_dir / f"{name}.json"
        expected = render(name, out_dir)
        if not target.exists() or target.read_text(encoding="utf-8") != expected:
            drifted.append(
                str(target.relative_to(REPO_ROOT))
                if target.is_relative_to(REPO_ROOT)
                else str(target)
            )
    return drifted


@cache
def load_artifact(name: str) -> Artifact:
    """The shipped artifact ``name`` (one of ``ARTIFACT_NAMES``)."""
    path = ABI_DIR / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        abi = raw["abi"]
        bytecode = raw["bytecode"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ArtifactError(f"no shipped artifact {name} at {path}; run `make build`") from err
    if not isinstance(abi, list) or not isinstance(bytecode, str):
        raise ArtifactError(f"malformed artifact {path}")
    return Artifact(name=name, abi=abi, bytecode=bytecode)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m relayer.chain.artifacts", description=__doc__)
    parser.add_argument("mode", choices=("export", "check"))
    parser.add_argument("--out", type=Path, default=FORGE_OUT, help="Foundry out/ directory")
    parser.add_argument("--abi-dir", type=Path, default=ABI_DIR, help="shipped artifacts directory")
    args = parser.parse_args(argv)
    try:
        if args.mode == "export":
            for path in export(args.out, args.abi_dir):
                print(path)
            return 0
        drifted = check(args.out, args.abi_dir)
    except ArtifactError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if drifted:
        print("drifted from the contracts build (run `make build`):", file=sys.stderr)
        for name in drifted:
            print(f"  {name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
