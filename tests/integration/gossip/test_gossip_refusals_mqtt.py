"""Refusals through MqttGossip and a real Mosquitto: publish, receive, retained, clear."""

from __future__ import annotations

import asyncio

import pytest
from gossip_broker import MosquittoBroker
from gossip_it_helpers import WAIT_S, attestation, make_gossip, refusal, sync_with

from relayer.gossip.refusals import RefusalMessage, encode_refusal
from relayer.gossip.topics import key_of, refusal_topic

pytestmark = pytest.mark.asyncio


async def test_refusal_publish_receive_retained_clear(broker: MosquittoBroker, prefix: str) -> None:
    refused, kept = refusal(1), refusal(2, signer=0x23)
    async with make_gossip(broker.port, prefix) as watcher:
        await watcher.wait_connected(WAIT_S)
        async with make_gossip(broker.port, prefix) as alice:
            await alice.publish_refusal(refused)
            await alice.publish_refusal(refused)  # idempotent: same topic, same bytes
            await alice.publish_refusal(kept)
        async with asyncio.timeout(WAIT_S):
            live = [await watcher.receive() for _ in range(3)]
        assert [r.message for r in live] == [refused, refused, kept]
        assert live[0].topic == refusal_topic(prefix, refused)
        assert live[0].payload == encode_refusal(refused)  # UTF-8 detail kept as sent
        assert not any(r.retained for r in live)

        async with make_gossip(broker.port, prefix) as late:  # a supervisor, say
            async with asyncio.timeout(WAIT_S):
                caught_up = [await late.receive() for _ in range(2)]
            await sync_with(late, broker.port, prefix)
        assert {r.message for r in caught_up} == {refused, kept}
        assert all(r.retained for r in caught_up)
        assert late.stats.accepted == 3  # both refusals once, and the sentinel

        cleared = watcher.stats.cleared  # so far, the withdrawals of sync_with's sentinel
        async with make_gossip(broker.port, prefix) as alice:
            await alice.clear_refusal(key_of(refused))
        await sync_with(watcher, broker.port, prefix)
        assert watcher.stats.cleared == cleared + 2  # the refusal and the new sentinel
        assert watcher.stats.dropped == 0

    async with make_gossip(broker.port, prefix) as later:
        async with asyncio.timeout(WAIT_S):
            first = await later.receive()
        await sync_with(later, broker.port, prefix)
    assert first.message == kept
    assert later.stats.accepted == 2  # kept + sentinel: the cleared refusal is gone


async def test_refusals_and_attestations_share_one_inbound_path(
    broker: MosquittoBroker, prefix: str
) -> None:
    att, ref = attestation(7), refusal(7, signer=0x23)
    async with make_gossip(broker.port, prefix) as alice, make_gossip(broker.port, prefix) as bob:
        await alice.wait_connected(WAIT_S)
        await bob.wait_connected(WAIT_S)
        await alice.publish(att)
        await alice.publish_refusal(ref)
        async with asyncio.timeout(WAIT_S):
            batch = await bob.receive_batch(2)
            if len(batch) < 2:
                batch += await bob.receive_batch(1)
        await alice.clear(key_of(att))
        await alice.clear_refusal(key_of(ref))
    assert [r.message for r in batch] == [att, ref]
    assert isinstance(batch[1].message, RefusalMessage)
    assert key_of(att) != key_of(ref)
