"""The devnet's fallback broker (amqtt) carries our gossip: retained catch-up included."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from gossip_it_helpers import WAIT_S, attestation, make_gossip

from relayer.devnet.broker import start_broker

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_embedded_broker_delivers_live_and_retained(tmp_path: Path) -> None:
    broker = await asyncio.to_thread(start_broker, tmp_path, "embedded")
    try:
        assert broker.kind == "embedded"
        prefix = f"emb-{uuid.uuid4().hex[:6]}"
        message = attestation(7)
        async with make_gossip(broker.port, prefix, name="pub") as publisher:
            await publisher.wait_connected()
            await publisher.publish(message)
        async with make_gossip(broker.port, prefix, name="late") as late:
            await late.wait_connected()
            async with asyncio.timeout(WAIT_S):
                received = await late.receive()
        assert received.message == message
        assert received.retained
    finally:
        await asyncio.to_thread(broker.stop)
