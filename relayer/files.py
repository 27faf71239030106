"""Reading an operator's or a supervisor's file with a size cap (packs, signatures, exports)."""

from __future__ import annotations

from pathlib import Path


class FileReadError(ValueError):
    """The file cannot be read, or is larger than allowed; the message names it."""


def read_capped(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path`` (``what`` names it in errors), refused above ``limit`` bytes
    without reading more than ``limit + 1`` of them."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as err:
        raise FileReadError(
            f"cannot read {what}{' ' if what else ''}{path}: {err.strerror}"
        ) from err
    if len(data) > limit:
        raise FileReadError(f"{what}{' ' if what else ''}{path} is larger than {limit} bytes")
    return data
