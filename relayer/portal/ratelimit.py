"""A token bucket per client: ``rate`` requests a second on average, ``burst`` at once.

Pure: the time arrives as an argument (``time.monotonic()`` in the server, any number in
tests). Buckets are kept for at most ``max_clients`` clients, the least recently seen
dropped first (a dropped client starts again with a full bucket).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Allowed:
    remaining: int  # whole requests left in the bucket after this one


@dataclass(frozen=True, slots=True)
class Limited:
    retry_after_s: int  # whole seconds until one request is allowed again (>= 1)


Decision = Allowed | Limited


class RateLimiter:
    """Per-client token buckets."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000) -> None:
        if rate <= 0 or burst < 1 or max_clients < 1:
            raise ValueError("rate > 0, burst >= 1 and max_clients >= 1")
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def take(self, client: str, now: float) -> Decision:
        """Spend one token of ``client``'s bucket at time ``now`` (seconds)."""
        tokens, at = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        if tokens >= 1.0:
            tokens -= 1.0
            decision: Decision = Allowed(int(tokens))
        else:
            decision = Limited(max(1, math.ceil((1.0 - tokens) / self.rate)))
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return decision

    def __len__(self) -> int:
        return len(self._buckets)
