"""Process-wide limits that keep hostile input from crashing a relayer.

py_ecc, which web3 imports, raises the interpreter's recursion limit to 100,000 when it is
imported. With that limit ``json.loads`` of a deeply nested document (``[[[[...`` a few
hundred kilobytes long: a WebSocket message, an RPC answer) recurses until the C stack
overflows, and the process dies of a segmentation fault instead of raising
``RecursionError``, which the parsers turn into a rejected input. ``cap_recursion`` puts
the limit back below that depth; the relayer's entry point calls it after its imports (and
the tests' session does too). Nothing the relayer runs recurses anywhere near it.
"""

from __future__ import annotations

import sys

RECURSION_LIMIT = 4000


def cap_recursion() -> None:
    """Lower the interpreter's recursion limit to ``RECURSION_LIMIT`` if it is above it."""
    if sys.getrecursionlimit() > RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
