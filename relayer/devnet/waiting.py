"""Wait on a condition with a deadline instead of sleeping a fixed time (tests, devnet)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]], limit: float, interval: float = 0.05
) -> T:
    """Call ``probe`` until it returns something other than ``None``/``False``; return it.

    Raises ``TimeoutError`` after ``limit`` seconds.
    """
    async with asyncio.timeout(limit):
        while True:
            value = await probe()
            if value is not None and value is not False:
                return value
            await asyncio.sleep(interval)
