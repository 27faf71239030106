"""Render docs/configuration.md from the settings model, so the two never drift.

``python -m relayer.settings_doc > docs/configuration.md`` rewrites it; a unit test
fails when the committed file differs from a fresh rendering.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from relayer.settings import Settings

HEADER = """# Configuration

A relayer reads a TOML file (`relayer run --config FILE`) and then the environment:
`RELAYER_<SECTION>__<NAME>` overrides `[section] name`, e.g.
`RELAYER_ETHEREUM__RPC_URL=http://…`. Unknown settings, wrong types, addresses with a bad
EIP-55 checksum and contradictory values stop the relayer at start with one line naming
the setting, exit code 2. At start it also checks each RPC's chain id against
`chain_id` and that the vault and gateway addresses hold code.

Examples: `config/devnet.example.toml`, `config/testnet.toml`,
`config/mainnet.example.toml`, `config/.env.example`.

This page is generated from `relayer/settings.py` by `python -m relayer.settings_doc`.
"""


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "(see its section)" if info.default is PydanticUndefined else "[]"
    value = info.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _model_of(info: FieldInfo) -> type[BaseModel] | None:
    annotation = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _rows(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, info in model.model_fields.items():
        nested = _model_of(info)
        if nested is not None:
            continue
        default = _default(info)
        if default == "(see its section)":
            default = "[]"
        description = (info.description or "").replace("|", "\\|")
        yield f"| `{prefix}{name}` | {default} | {description} |"
        for arg in get_args(info.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                yield from _rows(arg, f"{prefix}{name}[].")


def render() -> str:
    """The whole of docs/configuration.md."""
    parts = [HEADER]
    for section, info in Settings.model_fields.items():
        model = _model_of(info)
        if model is None:
            continue
        doc = (model.__doc__ or "").strip().splitlines()
        required = " This section is required." if info.is_required() else ""
        lines = [
            f"## [{section}]",
            "",
            f"{doc[0] if doc else ''} Environment: `RELAYER_{section.upper()}__<NAME>`.{required}",
            "",
            "| setting | default | meaning |",
            "|---|---|---|",
            *_rows(model, ""),
        ]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
