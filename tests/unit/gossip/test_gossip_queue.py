"""The transport's ingress queue: bounded, drops the oldest, counts what it drops."""

from __future__ import annotations

import aiomqtt

from relayer.gossip.reasons import Reason
from relayer.gossip.stats import GossipStats
from relayer.gossip.transport import _ingress_queue_type


def _message(n: int) -> aiomqtt.Message:
    return aiomqtt.Message("t", str(n).encode(), qos=1, retain=False, mid=n, properties=None)


def test_ingress_queue_drops_oldest_and_counts() -> None:
    stats = GossipStats()
    made: list[object] = []
    queue = _ingress_queue_type(stats, made)(maxsize=2)  # type: ignore[arg-type]
    assert made == [queue]
    for n in range(5):
        queue.put_nowait(_message(n))
    assert [queue.get_nowait().payload for _ in range(2)] == [b"3", b"4"]
    assert stats.received == 5
    assert stats.dropped_by_reason == {Reason.QUEUE_FULL: 3}
    assert stats.dropped == 3
