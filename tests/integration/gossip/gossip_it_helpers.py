"""Helpers for the gossip integration tests: configs with test-sized tunables, samples."""

from __future__ import annotations

import asyncio
import uuid

from relayer.domain.types import Address, Hash32, Release
from relayer.gossip.config import GossipConfig
from relayer.gossip.refusals import RefusalMessage
from relayer.gossip.topics import key_of
from relayer.gossip.transport import MqttGossip
from relayer.gossip.wire import AttestationMessage

WAIT_S = 10.0  # upper bound of every wait on an event in these tests


def make_gossip(port: int, prefix: str, *, name: str = "relayer") -> MqttGossip:
    """A transport with short backoff so reconnects happen within a test's patience."""
    return MqttGossip(
        GossipConfig(
            client_id=f"{name}-{uuid.uuid4().hex[:8]}",
            port=port,
            topic_prefix=prefix,
            keepalive_s=5,
            connect_timeout_s=5.0,
            publish_timeout_s=WAIT_S,
            backoff_initial_s=0.05,
            backoff_max_s=0.5,
        )
    )


def attestation(n: int, *, signer: int = 0x22) -> AttestationMessage:
    """A valid attestation message; ``n`` picks the transfer."""
    return AttestationMessage(
        release=Release(
            transfer_id=Hash32(n.to_bytes(32, "big")),
            src_chain_id=1030,
            nonce=n,
            token=Address(b"\xaa" * 20),
            recipient=Address(b"\xbb" * 20),
            amount=n * 10**18,
        ),
        dst_chain_id=1,
        set_id=1,
        digest=Hash32(b"\x33" * 32),
        signer=Address(bytes([signer]) * 20),
        signature=b"\x44" * 64 + b"\x1c",
        signed_at=1_700_000_000 + n,
    )


def refusal(n: int, *, signer: int = 0x22) -> RefusalMessage:
    """A valid refusal message; ``n`` picks the transfer."""
    return RefusalMessage(
        transfer_id=Hash32(n.to_bytes(32, "big")),
        src_chain_id=1030,
        dst_chain_id=1,
        reason="sender_sanctioned",
        detail=f"transfer {n}: sender on the sanctions list ✗",
        policy=Hash32(b"\x66" * 32),
        signer=Address(bytes([signer]) * 20),
        signature=b"\x44" * 64 + b"\x1b",
        signed_at=1_700_000_000 + n,
    )


async def sync_with(subscriber: MqttGossip, port: int, prefix: str) -> None:
    """Publish a live sentinel and consume until the subscriber has it.

    Retained messages are delivered right after SUBACK, before any live one, so once
    the sentinel is in every retained message has been counted. The sentinel is then
    withdrawn again so it never lingers under the prefix.
    """
    sentinel = attestation(999_999, signer=0x99)
    await subscriber.wait_connected(WAIT_S)
    async with make_gossip(port, prefix, name="sentinel") as sender:
        await sender.publish(sentinel)
        await sender.clear(key_of(sentinel))
    async with asyncio.timeout(WAIT_S):
        while (await subscriber.receive()).message != sentinel:
            pass
