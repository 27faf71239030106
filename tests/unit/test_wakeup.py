"""The stage loops' wait (relayer/wakeup.py)."""

from __future__ import annotations

import asyncio

import pytest

from relayer.wakeup import wait_for_wake

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_set_event_wakes_at_once_and_is_cleared() -> None:
    event = asyncio.Event()
    event.set()
    assert await asyncio.wait_for(wait_for_wake(event, 600), 5) is True
    assert not event.is_set()


async def test_a_signal_during_the_wait_wakes_it() -> None:
    event = asyncio.Event()
    waiting = asyncio.create_task(wait_for_wake(event, 600))
    await asyncio.sleep(0)  # let it start waiting
    assert not waiting.done()
    event.set()
    assert await asyncio.wait_for(waiting, 5) is True
    assert not event.is_set()


async def test_no_signal_returns_after_the_timeout() -> None:
    event = asyncio.Event()
    assert await asyncio.wait_for(wait_for_wake(event, 0.01), 5) is False
    assert await asyncio.wait_for(wait_for_wake(event, -1.0), 5) is False  # overdue: at once
