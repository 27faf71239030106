"""The public API's input rules: what a caller may send, and the message when it is not.

Pure; each parser returns the value or raises :class:`BadInput` (answered as 400 with
its message).
"""

from __future__ import annotations

import re

from eth_utils.address import to_checksum_address

from relayer.errors import RejectedInputError

_KEY = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class BadInput(RejectedInputError):
    """A request the portal refuses (HTTP 400); the message says what was wrong."""


def parse_key(text: str) -> str:
    """A transfer id or a source transaction hash: ``0x`` and 64 hex digits; lower-cased."""
    if not _KEY.match(text):
        raise BadInput("expected a transfer id or source transaction hash: 0x and 64 hex digits")
    return text.lower()


def parse_address(text: str | None) -> str:
    """``?address=``: a 0x address; a mixed-case one must carry its EIP-55 checksum.
    Returns the checksummed form."""
    if text is None or text == "":
        raise BadInput("address is required: ?address=0x… (40 hex digits)")
    if not _ADDRESS.match(text):
        raise BadInput("address must be 0x and 40 hex digits")
    body = text[2:]
    checksummed = to_checksum_address(text)
    if body not in (body.lower(), body.upper()) and checksummed != text:
        raise BadInput(f"address has a bad EIP-55 checksum (did you mean {checksummed}?)")
    return checksummed


def parse_limit(text: str | None, *, default: int, maximum: int) -> int:
    """``?limit=``: an integer from 1 to ``maximum``; ``default`` when absent."""
    if text is None:
        return min(default, maximum)
    if not re.fullmatch(r"[0-9]{1,6}", text):
        raise BadInput(f"limit must be an integer from 1 to {maximum}")
    value = int(text)
    if not 1 <= value <= maximum:
        raise BadInput(f"limit must be an integer from 1 to {maximum}")
    return value
