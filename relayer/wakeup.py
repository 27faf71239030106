"""The wait every stage loop makes between rounds: until it is signalled, or a timeout.

``wait_for_wake`` clears the event when it returns; a signal that arrives while the stage
then works wakes the next wait at once, so no signal is lost. (A stage may also clear it
right before a round: what signalled before that is seen by the round.)
"""

from __future__ import annotations

import asyncio


async def wait_for_wake(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until ``event`` is set (True) or ``timeout_s`` passed (False); clear it."""
    try:
        async with asyncio.timeout(max(0.0, timeout_s)):
            await event.wait()
        woken = True
    except TimeoutError:
        woken = False
    event.clear()
    return woken
