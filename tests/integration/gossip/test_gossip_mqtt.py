"""MqttGossip against a real Mosquitto: round trip, retained catch-up, withdrawal."""

from __future__ import annotations

import asyncio

import pytest
from gossip_broker import MosquittoBroker
from gossip_it_helpers import WAIT_S, attestation, make_gossip, sync_with

from relayer.devnet.waiting import eventually
from relayer.errors import BrokerError
from relayer.gossip.topics import key_of

pytestmark = pytest.mark.asyncio


async def test_publish_receive_round_trip(broker: MosquittoBroker, prefix: str) -> None:
    async with make_gossip(broker.port, prefix) as alice, make_gossip(broker.port, prefix) as bob:
        await alice.wait_connected(WAIT_S)
        await bob.wait_connected(WAIT_S)
        message = attestation(1)
        await alice.publish(message)
        async with asyncio.timeout(WAIT_S):
            received = await bob.receive()
            own_echo = await alice.receive()
    assert received.message == message
    assert received.message.to_attestation().signer == message.signer
    assert own_echo.message == message  # a relayer also hears itself; the node dedups
    assert not received.retained
    assert alice.stats.published == 1
    assert bob.stats.accepted == bob.stats.received == 1
    assert bob.stats.dropped == 0


async def test_retained_attestation_reaches_late_subscriber(
    broker: MosquittoBroker, prefix: str
) -> None:
    messages = [attestation(n, signer=s) for n in (1, 2) for s in (0x21, 0x22)]
    async with make_gossip(broker.port, prefix) as alice:
        for message in messages:
            await alice.publish(message)
    async with make_gossip(broker.port, prefix) as late:
        async with asyncio.timeout(WAIT_S):
            caught_up = [await late.receive() for _ in messages]
    assert {r.message for r in caught_up} == set(messages)
    assert all(r.retained for r in caught_up)


async def test_republish_is_idempotent(broker: MosquittoBroker, prefix: str) -> None:
    message = attestation(3)
    async with make_gossip(broker.port, prefix) as alice:
        await alice.publish(message)
        await alice.publish(message)  # e.g. after a restart: same topic, same bytes
    async with make_gossip(broker.port, prefix) as late:
        await sync_with(late, broker.port, prefix)
        assert late.stats.accepted == 2  # the retained one (once) and the sentinel


async def test_clear_withdraws_retained_attestation(broker: MosquittoBroker, prefix: str) -> None:
    withdrawn, kept = attestation(4), attestation(5)
    async with make_gossip(broker.port, prefix) as watcher:
        await watcher.wait_connected(WAIT_S)
        async with make_gossip(broker.port, prefix) as alice:
            await alice.publish(withdrawn)
            await alice.clear(key_of(withdrawn))
            await alice.publish(kept)
        async with asyncio.timeout(WAIT_S):
            assert (await watcher.receive()).message == withdrawn
            assert (await watcher.receive()).message == kept
        assert watcher.stats.cleared == 1  # the empty payload is not junk
        assert watcher.stats.dropped == 0
    async with make_gossip(broker.port, prefix) as late:
        async with asyncio.timeout(WAIT_S):
            first = await late.receive()
        await sync_with(late, broker.port, prefix)
    assert first.message == kept
    assert late.stats.accepted == 2  # kept + sentinel: the withdrawn one is gone


async def test_publish_without_broker_raises_broker_error(prefix: str) -> None:
    async with make_gossip(1, prefix) as nowhere:  # port 1: nothing listens
        with pytest.raises(BrokerError):
            await nowhere.publish(attestation(6), timeout_s=0.3)
        with pytest.raises(BrokerError):
            await nowhere.wait_connected(0.3)
        assert nowhere.stats.publish_failures == 1
        assert nowhere.stats.connect_failures >= 1


async def test_receive_batch_takes_what_is_queued_up_to_its_limit(
    broker: MosquittoBroker, prefix: str
) -> None:
    messages = [attestation(n) for n in range(1, 7)]
    async with make_gossip(broker.port, prefix) as alice, make_gossip(broker.port, prefix) as bob:
        await alice.wait_connected(WAIT_S)
        await bob.wait_connected(WAIT_S)
        for message in messages:
            await alice.publish(message)

        async def all_queued() -> bool:
            return bob.stats.accepted == len(messages)

        await eventually(all_queued, limit=WAIT_S)
        async with asyncio.timeout(WAIT_S):
            first = await bob.receive_batch(4)
            rest = await bob.receive_batch(4)
        with pytest.raises(ValueError, match="limit"):
            await bob.receive_batch(0)
    assert [r.message for r in first] == messages[:4]
    assert [r.message for r in rest] == messages[4:]  # what was queued, not a full four
