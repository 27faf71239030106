"""Asking every validator's status API at once, each request under a timeout.

A validator that refuses the connection, times out, answers 5xx or answers something that
is not the JSON its API gives is :class:`Unreachable` with the reason; the others' answers
are kept. Nothing here raises for one validator's failure.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp

from relayer.portal.aggregate import (
    Answer,
    Found,
    ListAnswer,
    Listed,
    NotFound,
    Source,
    Unreachable,
)
from relayer.portal.settings import ValidatorEndpoint

T = TypeVar("T")
MAX_BODY_BYTES = 4 * 1024 * 1024  # a validator's answer larger than this is refused


class _Refused(Exception):
    """One validator's answer is unusable (carried to an ``Unreachable``)."""


class Upstream:
    """The validators' status APIs, asked concurrently through one HTTP session."""

    def __init__(
        self,
        endpoints: Sequence[ValidatorEndpoint],
        timeout_s: float,
        session: aiohttp.ClientSession,
    ) -> None:
        self.endpoints = list(endpoints)
        self.timeout_s = timeout_s
        self.session = session
        self.sources = [Source(e.name, e.jurisdiction, e.address) for e in self.endpoints]

    async def transfer(self, key: str) -> list[tuple[Source, Answer]]:
        """Every validator's ``GET /transfers/{key}``, in settings order."""

        async def one(endpoint: ValidatorEndpoint) -> Answer:
            status, body = await self._get(f"{endpoint.url.rstrip('/')}/transfers/{key}")
            if status == 404:
                return NotFound()
            if status != 200 or not isinstance(body, dict) or "status" not in body:
                raise _Refused(f"unexpected answer (HTTP {status})")
            return Found(body)

        return await self._ask_all(one)

    async def listing(self, address: str, limit: int) -> list[tuple[Source, ListAnswer]]:
        """Every validator's ``GET /transfers?address=…&limit=…``, in settings order."""
        query = urlencode({"address": address, "limit": limit})

        async def one(endpoint: ValidatorEndpoint) -> ListAnswer:
            status, body = await self._get(f"{endpoint.url.rstrip('/')}/transfers?{query}")
            if status != 200 or not isinstance(body, list):
                raise _Refused(f"unexpected answer (HTTP {status})")
            return Listed(tuple(v for v in body if isinstance(v, dict) and "transfer_id" in v))

        return await self._ask_all(one)

    async def _ask_all(
        self, ask: Callable[[ValidatorEndpoint], Awaitable[T]]
    ) -> list[tuple[Source, T | Unreachable]]:
        async def guarded(endpoint: ValidatorEndpoint) -> T | Unreachable:
            try:
                async with asyncio.timeout(self.timeout_s):
                    return await ask(endpoint)
            except TimeoutError:
                return Unreachable(f"no answer within {self.timeout_s}s")
            except _Refused as err:
                return Unreachable(str(err))
            except (aiohttp.ClientError, OSError, ValueError) as err:
                return Unreachable(f"{type(err).__name__}: {err}".rstrip(": "))

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(guarded(e)) for e in self.endpoints]
        return [(s, t.result()) for s, t in zip(self.sources, tasks, strict=True)]

    async def _get(self, url: str) -> tuple[int, Any]:
        async with self.session.get(url, allow_redirects=False) as response:
            raw = await response.content.read(MAX_BODY_BYTES + 1)
            if len(raw) > MAX_BODY_BYTES:
                raise _Refused("answer too large")
            if response.status >= 500:
                raise _Refused(f"HTTP {response.status}")
            try:
                return response.status, json.loads(raw)
            except ValueError as err:
                raise _Refused("answer is not JSON") from err
