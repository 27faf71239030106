"""Structured logging: JSON lines by default, a readable console format for humans.

Every line about a transfer should be bound with ``transfer_id``, ``src_chain_id``,
``dst_chain_id`` and ``stage`` (see :func:`transfer_logger`). A last processor scrubs
anything that looks like a private key from every value, so a secret that slips into
an exception message still never reaches a log line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# A 32-byte hex string is either a hash (fine to log) or a private key (never). We
# cannot tell them apart by shape, so the scrubber only removes values registered as
# secrets plus anything in a field whose name says it is secret.
_SECRET_FIELD = re.compile(r"(private_?key|password|secret|mnemonic|passphrase)", re.IGNORECASE)
_registered_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Make sure ``value`` (a key in hex, a password) is masked wherever it appears,
    in any letter case."""
    global _secret_pattern
    body = value.removeprefix("0x")
    if len(body) >= 8:
        _registered_secrets.add(body.lower())
        alternatives = "|".join(re.escape(s) for s in sorted(_registered_secrets, key=len)[::-1])
        _secret_pattern = re.compile(alternatives, re.IGNORECASE)


def _mask(text: str) -> str:
    if _secret_pattern is None:
        return text
    return _secret_pattern.sub("[REDACTED]", text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _mask(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def scrub_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret-named fields and every registered secret."""
    for key in list(event_dict):
        if _SECRET_FIELD.search(key):
            event_dict[key] = "[REDACTED]"
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


class _StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is at that moment (not at set-up time,
    so a replaced or closed stream never breaks logging)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


class _StderrLoggerFactory:
    def __call__(self, *_args: Any) -> _StderrLogger:
        return _StderrLogger()


def configure_logging(fmt: str = "json", level: str = "info") -> None:
    """Set up structlog (and stdlib logging underneath) once per process."""
    renderer: Any
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    else:
        renderer = structlog.processors.JSONRenderer()
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_StderrLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(
        level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(message)s"
    )


def get_logger(name: str, **bound: Any) -> Any:
    """A lazy structlog logger bound to a component name (configured on first use)."""
    return structlog.get_logger(name, component=name, **bound)


def transfer_logger(
    log: Any, transfer_id: bytes, src_chain_id: int | None, dst_chain_id: int, stage: str
) -> Any:
    """Bind the four fields every transfer log line carries."""
    return log.bind(
        transfer_id="0x" + transfer_id.hex(),
        src_chain_id=src_chain_id,
        dst_chain_id=dst_chain_id,
        stage=stage,
    )
