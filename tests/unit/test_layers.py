"""The layers the production relayer runs never import the devnet, the benchmarks, the
user-facing client or the portal (docs/architecture.md, "Layers"): deploying contracts,
starting local chains, sending a user's lock and serving the public page stay out of the
process that holds a validator key.

Read from the source with ``ast``, so an import inside a function or behind
``TYPE_CHECKING`` counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import relayer

PACKAGE_ROOT = Path(relayer.__file__).resolve().parent
RELAYER_LAYERS = ("chain", "service", "store", "gossip", "domain", "api", "node.py")
TOOLING = ("relayer.devnet", "relayer.bench", "relayer.client", "relayer.portal")


def module_name(path: Path) -> str:
    """``relayer/chain/rpc.py`` -> ``relayer.chain.rpc``; an ``__init__`` names its package."""
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module ``source`` (the text of ``module``) imports, relative imports resolved;
    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a module)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            yield origin
            yield from (f"{origin}.{alias.name}" for alias in node.names)


def is_tooling(name: str) -> bool:
    return any(name == t or name.startswith(f"{t}.") for t in TOOLING)


def relayer_sources() -> list[Path]:
    files: list[Path] = []
    for layer in RELAYER_LAYERS:
        path = PACKAGE_ROOT / layer
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def test_the_relayer_layers_never_import_the_devnet_bench_or_client() -> None:
    files = relayer_sources()
    assert len(files) > 40  # the walk really found the layers
    offending = {
        module_name(path): sorted(
            {
                name
                for name in imported_modules(
                    path.read_text(encoding="utf-8"),
                    module_name(path),
                    is_package=path.name == "__init__.py",
                )
                if is_tooling(name)
            }
        )
        for path in files
    }
    assert {m: names for m, names in offending.items() if names} == {}


@pytest.mark.parametrize(
    "source",
    [
        "import relayer.devnet.deploy",
        "from relayer.devnet import deploy",
        "from relayer import devnet",
        "from relayer import bench as b",
        "from ..devnet.stack import Stack",
        "from .. import client",
        "from relayer.portal.app import build_portal_app",
        "def f():\n    from relayer.devnet.signing import sign_bundle\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import relayer.client.actions\n",
    ],
)
def test_the_check_sees_every_form_of_import(source: str) -> None:
    assert any(is_tooling(n) for n in imported_modules(source, "relayer.chain.submitter"))


@pytest.mark.parametrize(
    "source",
    [
        "import relayer.chain.transactions",
        "from relayer.chain import fees",
        "from . import devnet_like",
        "from .rpc import RpcClient",
        "import relayer.devnetwork",
    ],
)
def test_the_check_lets_the_relayer_import_its_own_layers(source: str) -> None:
    assert not any(is_tooling(n) for n in imported_modules(source, "relayer.chain.submitter"))


def test_relative_imports_resolve_from_a_package_init() -> None:
    names = set(imported_modules("from .rpc import RpcClient", "relayer.chain", is_package=True))
    assert names == {"relayer.chain.rpc", "relayer.chain.rpc.RpcClient"}


def test_a_relayer_process_loads_no_tooling() -> None:
    """``relayer run`` builds the whole command line (the devnet's arguments included) and
    imports the node: none of the devnet's, the client's or the benchmarks' code loads."""
    code = (
        "import sys\n"
        "from relayer import cli\n"
        "cli.build_parser()\n"
        "import relayer.node\n"
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'relayer.client', 'relayer.bench', 'relayer.portal', 'relayer.devnet.stack', "
        "'relayer.devnet.deploy', "
        "'relayer.devnet.anvil', 'relayer.devnet.conflux', 'relayer.devnet.signing'))))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout
