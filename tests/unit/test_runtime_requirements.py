"""ops/scripts/runtime-requirements.py: the image installs the service's dependencies from
requirements.lock (same pins, same hashes) and none of the dev group."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    path = REPO / "ops" / "scripts" / "runtime-requirements.py"
    spec = importlib.util.spec_from_file_location("runtime_requirements", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runtime_closure_has_every_dependency_and_no_dev_tool() -> None:
    script = load_script()
    entries, vias = script.parse((REPO / "requirements.lock").read_text())
    keep = script.runtime(vias)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = script.normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        assert name in keep, name
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    for requirement in dev:
        name = script.normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        assert name not in keep, name
    for name in keep:  # verbatim: the pin and every hash of the lock
        assert entries[name][0].split("==")[0].lower().replace("_", "-") == name
        assert any("--hash=sha256:" in line for line in entries[name])


def test_a_package_pulled_in_by_both_groups_is_kept() -> None:
    script = load_script()
    _, vias = script.parse(
        "a==1 \\\n    --hash=sha256:00\n    # via relayer (pyproject.toml)\n"
        "b==2 \\\n    --hash=sha256:11\n    # via\n    #   a\n    #   pytest\n"
        "pytest==8 \\\n    --hash=sha256:22\n    # via relayer (pyproject.toml:dev)\n"
        "c==3 \\\n    --hash=sha256:33\n    # via pytest\n"
    )
    assert script.runtime(vias) == {"a", "b"}
