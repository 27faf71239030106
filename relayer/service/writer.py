"""The one writer of a relayer's state.

Every write of a running relayer goes through ``Writer.transaction()``: this relayer's one
asyncio lock, then one database transaction, so writes never interleave and a stage woken
by a writer can wait for its commit (``committed``). The store's own ``transaction()`` is
left to the operator commands (a separate process) and the tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relayer.store import Store, Transaction


class Writer:
    """Owns the write lock and the store; see the module docstring."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One writing transaction, holding the lock until it committed or rolled back."""
        async with self._lock, self.store.transaction() as tx:
            yield tx

    async def committed(self) -> None:
        """Return once the writer holding the lock (if any) has committed: the lock is
        fair, so whatever was written before this call is readable after it."""
        async with self._lock:
            pass
