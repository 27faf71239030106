"""A flood of junk is dropped and counted by reason; a valid attestation still arrives."""

from __future__ import annotations

import asyncio
import json
import random
import time

import aiomqtt
import pytest
from gossip_broker import MosquittoBroker
from gossip_it_helpers import WAIT_S, attestation, make_gossip

from relayer.gossip.config import GossipConfig
from relayer.gossip.reasons import Reason
from relayer.gossip.topics import attestation_topic
from relayer.gossip.transport import MqttGossip
from relayer.gossip.wire import MAX_PAYLOAD_BYTES, AttestationMessage, encode_attestation

pytestmark = pytest.mark.asyncio

JUNK = 10_000
FLOOD_WAIT_S = 60.0


def _junk(prefix: str, n: int, rng: random.Random) -> tuple[str, bytes]:
    """The n-th junk message: five kinds in turn, each refused for a known reason."""
    valid = attestation(n)
    topic = attestation_topic(prefix, valid)
    match n % 5:
        case 0:  # random bytes on a well-formed topic
            return topic, b"\x00" + rng.randbytes(rng.randrange(1, 300))
        case 1:  # oversized
            return topic, b" " * (MAX_PAYLOAD_BYTES + 1 + rng.randrange(2000))
        case 2:  # valid payload on a malformed topic
            return f"{prefix}/v1/att/junk/{n}", encode_attestation(valid)
        case 3:  # valid payload under another signer's topic
            return attestation_topic(prefix, attestation(n, signer=0x77)), encode_attestation(valid)
        case _:  # a future version
            body = json.loads(encode_attestation(valid))
            return topic, json.dumps({**body, "v": 3}).encode()


async def test_flood_of_junk_is_dropped_and_valid_arrives(
    broker: MosquittoBroker, prefix: str
) -> None:
    rng = random.Random(1234)
    valid = attestation(424242)
    async with make_gossip(broker.port, prefix) as node:
        await node.wait_connected(WAIT_S)
        started = time.monotonic()
        async with aiomqtt.Client("127.0.0.1", broker.port, identifier="flooder") as flooder:
            for n in range(JUNK):
                topic, payload = _junk(prefix, n, rng)
                await flooder.publish(topic, payload, qos=0)
            # Last, from the same connection, so it arrives after every junk message.
            await flooder.publish(
                attestation_topic(prefix, valid), encode_attestation(valid), qos=0
            )
        published = time.monotonic() - started
        async with asyncio.timeout(FLOOD_WAIT_S):
            received = await node.receive()
        elapsed = time.monotonic() - started

    stats = node.stats
    print(f"flood: {JUNK + 1} sent in {published:.2f}s, all handled in {elapsed:.2f}s")
    assert received.message == valid
    assert stats.accepted == 1
    assert stats.received == JUNK + 1
    assert stats.dropped == JUNK
    by_reason = stats.dropped_by_reason
    assert set(by_reason) <= {
        Reason.NOT_JSON,
        Reason.OVERSIZED,
        Reason.BAD_TOPIC,
        Reason.TOPIC_MISMATCH,
        Reason.WRONG_VERSION,
        Reason.QUEUE_FULL,
    }


async def test_an_honest_attestation_shed_by_a_flood_comes_back_by_resync(
    broker: MosquittoBroker, prefix: str
) -> None:
    """A slow consumer and a flood of well-formed messages shed the honest attestation
    from the drop-oldest queue; once the queue drains the transport subscribes again and
    the broker re-sends it (it is retained)."""
    honest = attestation(7, signer=0x11)
    config = GossipConfig(
        client_id="slow-consumer",
        port=broker.port,
        topic_prefix=prefix,
        inbound_queue_size=20,
        resync_min_interval_s=0.0,
        backoff_initial_s=0.05,
        backoff_max_s=0.5,
    )
    async with MqttGossip(config) as node:
        await node.wait_connected(WAIT_S)
        async with aiomqtt.Client("127.0.0.1", broker.port, identifier="flooder") as flooder:
            for n in range(100):  # fills the accepted queue: nobody reads yet
                filler = attestation(1000 + n, signer=0x44)
                await flooder.publish(attestation_topic(prefix, filler), encode_attestation(filler))
            await flooder.publish(
                attestation_topic(prefix, honest), encode_attestation(honest), qos=1, retain=True
            )
            for n in range(2000):  # then enough to push it out of the ingress queue
                filler = attestation(5000 + n, signer=0x44)
                await flooder.publish(attestation_topic(prefix, filler), encode_attestation(filler))

        async def until_honest() -> int:
            seen = 0
            while True:
                got = await node.receive()
                seen += 1
                if got.message == honest:
                    return seen

        async with asyncio.timeout(FLOOD_WAIT_S):
            seen = await until_honest()
        stats = node.stats
    assert stats.dropped_by_reason[Reason.QUEUE_FULL] > 0
    assert stats.resyncs >= 1
    assert seen > 20  # it came after the flood, not before it


async def _shed_behind_a_full_queue(
    node: MqttGossip, port: int, honest: AttestationMessage, *, first: int, flood: int = 500
) -> None:
    """Publish ``flood`` fillers with ``honest`` (retained) behind a full accepted queue and
    wait until every one reached ``node``'s queues, which shed ``honest`` meanwhile."""
    prefix, queue = node.config.topic_prefix, node.config.inbound_queue_size
    received = node.stats.received
    async with aiomqtt.Client("127.0.0.1", port, identifier="flooder") as flooder:
        for n in range(flood + 1):
            if n == 2 * queue:
                topic = attestation_topic(prefix, honest)
                await flooder.publish(topic, encode_attestation(honest), qos=1, retain=True)
            else:
                filler = attestation(first + n, signer=0x44)
                topic = attestation_topic(prefix, filler)
                await flooder.publish(topic, encode_attestation(filler))
    async with asyncio.timeout(FLOOD_WAIT_S):
        # every message is in the queues (counters have no event to wait on)
        while node.stats.received < received + flood + 1:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def _read_until(node: MqttGossip, wanted: AttestationMessage) -> list[AttestationMessage]:
    seen: list[AttestationMessage] = []
    async with asyncio.timeout(FLOOD_WAIT_S):
        while wanted not in seen:
            seen.append((await node.receive()).message)
    return seen


def _late_consumer(port: int, prefix: str, resync_min_interval_s: float) -> MqttGossip:
    return MqttGossip(
        GossipConfig(
            client_id="late-consumer",
            port=port,
            topic_prefix=prefix,
            inbound_queue_size=20,
            resync_min_interval_s=resync_min_interval_s,
            backoff_initial_s=0.05,
            backoff_max_s=0.5,
        )
    )


async def test_resync_happens_when_nothing_arrives_after_the_consumer_drains(
    broker: MosquittoBroker, prefix: str
) -> None:
    """The whole flood is delivered (and the honest attestation shed) before the consumer
    reads anything; the resync must follow the consumer's drain, not a later message."""
    honest = attestation(7, signer=0x11)
    async with _late_consumer(broker.port, prefix, 0.0) as node:
        await node.wait_connected(WAIT_S)
        await _shed_behind_a_full_queue(node, broker.port, honest, first=5000)
        assert node.stats.dropped_by_reason[Reason.QUEUE_FULL] > 0
        assert node.stats.resyncs == 0
        seen = await _read_until(node, honest)
        assert node.stats.resyncs == 1
    assert seen.index(honest) >= 2 * node.config.inbound_queue_size  # after the flood's tail


async def test_a_second_shed_within_the_interval_is_answered_once_it_has_passed(
    broker: MosquittoBroker, prefix: str
) -> None:
    """Resyncs are rate-limited, not lost: a shed soon after a resync is answered when
    the interval has passed, again without any further message arriving."""
    first, second = attestation(7, signer=0x11), attestation(8, signer=0x11)
    interval = 1.0
    async with _late_consumer(broker.port, prefix, interval) as node:
        await node.wait_connected(WAIT_S)
        await _shed_behind_a_full_queue(node, broker.port, first, first=5000)
        reading_from = time.monotonic()  # the first resync happens after this
        await _read_until(node, first)
        assert node.stats.resyncs == 1
        await _shed_behind_a_full_queue(node, broker.port, second, first=9000)
        await _read_until(node, second)
        assert node.stats.resyncs == 2
        assert time.monotonic() - reading_from >= interval
