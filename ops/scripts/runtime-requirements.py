#!/usr/bin/env python3
"""Print the part of requirements.lock the relayer needs at run time.

usage: runtime-requirements.py requirements.lock > runtime.lock

requirements.lock (``make lock``: ``uv pip compile --group dev --generate-hashes``) pins the
service's dependencies *and* the dev group (pytest, mypy, ruff, playwright, ...). The image
wants only the first kind, with the same versions and hashes. uv annotates every pin with
what pulled it in (``# via web3``, ``# via relayer (pyproject.toml)``); a package belongs to
the runtime if ``relayer (pyproject.toml)`` or another runtime package pulled it in. The
entries are copied verbatim (pin and hashes), so ``pip install --require-hashes`` checks
them against the lock. Standard library only: it runs in the image's build stage.
"""

from __future__ import annotations

import re
import sys

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==")
ROOT = "relayer (pyproject.toml)"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Entries (name -> lines, in file order) and what pulled each one in."""
    entries: dict[str, list[str]] = {}
    vias: dict[str, set[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        pin = PIN.match(line)
        if pin:
            current = normalise(pin.group(1))
            entries[current] = [line]
            vias[current] = set()
            continue
        if current is None:
            continue
        entries[current].append(line)
        comment = line.strip().removeprefix("#").strip()
        if line.strip().startswith("#") and comment:
            comment = comment.removeprefix("via").strip()
            if comment:
                name = comment if comment.startswith("relayer (") else comment.split()[0]
                vias[current].add(name if name.startswith("relayer (") else normalise(name))
    return entries, vias


def runtime(vias: dict[str, set[str]]) -> set[str]:
    keep = {name for name, by in vias.items() if ROOT in by}
    changed = True
    while changed:
        changed = False
        for name, by in vias.items():
            if name not in keep and by & keep:
                keep.add(name)
                changed = True
    return keep


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as lock:
        entries, vias = parse(lock.read())
    keep = runtime(vias)
    if not keep:
        print(f"runtime-requirements: no '{ROOT}' annotations in {argv[1]}", file=sys.stderr)
        return 1
    for name, lines in entries.items():
        if name in keep:
            print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
