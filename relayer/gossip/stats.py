"""Counters of the gossip transport, read by the node's metrics endpoint.

Inbound accounting, once the queues are drained:
``received == accepted + cleared + sum(dropped_by_reason.values())``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from relayer.gossip.reasons import Reason


@dataclass(slots=True)
class GossipStats:
    """Mutable counters; one instance per `MqttGossip`, only the event loop writes it."""

    received: int = 0  # every message the broker delivered (before any check)
    accepted: int = 0  # valid messages handed to the consumer's queue
    cleared: int = 0  # empty payloads (withdrawn attestations, refusals), not junk
    dropped_by_reason: Counter[Reason] = field(default_factory=Counter)
    connects: int = 0  # successful connect + subscribe
    connect_failures: int = 0  # attempts that failed before being subscribed
    disconnects: int = 0  # established connections that were lost
    resyncs: int = 0  # re-subscriptions after the ingress queue shed messages
    published: int = 0  # publishes acknowledged by the broker (PUBACK)
    publish_retries: int = 0  # attempts lost to a disconnect and tried again
    publish_failures: int = 0  # publishes that gave up (BrokerError raised)

    def drop(self, reason: Reason) -> None:
        """Count one refused inbound message."""
        self.dropped_by_reason[reason] += 1

    @property
    def dropped(self) -> int:
        """All refused inbound messages, whatever the reason."""
        return sum(self.dropped_by_reason.values())
