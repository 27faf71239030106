"""``relayer portal --config FILE``: the bridge's page and public status API.

User-facing: it serves the static page and asks every validator's status API, holding no
key (docs/portal.md). Imported lazily: the validator's process never loads the portal.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Formatter = Callable[[str], argparse.HelpFormatter]


def _cmd_portal(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relayer.cli import _supervise
    from relayer.log import configure_logging
    from relayer.portal.app import run_portal
    from relayer.portal.settings import load_portal_settings

    settings = load_portal_settings(Path(args.config))
    configure_logging(settings.log_format, "info")
    return _supervise(lambda: run_portal(settings))


def add_parsers(commands: Any, formatter: Formatter) -> None:
    portal = commands.add_parser(
        "portal",
        help="serve the bridge's page and its public status API (/v1)",
        formatter_class=formatter,
        epilog="examples:\n"
        "  relayer portal --config portal.toml\n"
        "  PORTAL_SERVER__PORT=9000 relayer portal --config config/portal.example.toml\n",
    )
    portal.add_argument(
        "--config", required=True, help="the portal's TOML settings (see docs/portal.md)"
    )
    portal.set_defaults(func=_cmd_portal)
