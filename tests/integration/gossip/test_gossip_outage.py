"""A broker outage: clients reconnect, re-subscribe, and a publish made during it lands."""

from __future__ import annotations

import asyncio

import pytest
from gossip_broker import MosquittoBroker
from gossip_it_helpers import WAIT_S, attestation, make_gossip

from relayer.errors import BrokerError

pytestmark = pytest.mark.asyncio

OUTAGE_S = 2.0  # how long we check that a publish stays pending while the broker is down


async def test_broker_restart_reconnects_and_delivers(
    restartable_broker: MosquittoBroker, prefix: str
) -> None:
    broker = restartable_broker
    async with make_gossip(broker.port, prefix) as alice, make_gossip(broker.port, prefix) as bob:
        await alice.wait_connected(WAIT_S)
        await bob.wait_connected(WAIT_S)

        broker.stop()
        async with asyncio.timeout(WAIT_S):
            await alice.disconnected.wait()
            await bob.disconnected.wait()

        with pytest.raises(BrokerError):  # a short deadline gives up, loudly
            await alice.publish(attestation(1), timeout_s=0.2)
        during = asyncio.create_task(alice.publish(attestation(2), timeout_s=30.0))
        done, _ = await asyncio.wait({during}, timeout=OUTAGE_S)
        assert not done, "a publish cannot be acknowledged while the broker is down"
        assert alice.stats.connect_failures >= 2  # it kept trying with backoff

        broker.start()
        async with asyncio.timeout(WAIT_S):
            await during  # acknowledged after the restart
            await bob.wait_connected(WAIT_S)
            first = await bob.receive()
            await alice.publish(attestation(3))
            second = await bob.receive()

    assert first.message == attestation(2)
    assert second.message == attestation(3)
    for gossip in (alice, bob):
        assert gossip.stats.disconnects == 1
        assert gossip.stats.connects == 2
    assert alice.stats.publish_failures == 1


async def test_retained_attestation_survives_broker_restart(
    restartable_broker: MosquittoBroker, prefix: str
) -> None:
    broker = restartable_broker
    async with make_gossip(broker.port, prefix) as alice:
        await alice.publish(attestation(4))
    broker.stop()
    broker.start()
    async with make_gossip(broker.port, prefix) as late:
        async with asyncio.timeout(WAIT_S):
            caught_up = await late.receive()
    assert caught_up.message == attestation(4)
    assert caught_up.retained
