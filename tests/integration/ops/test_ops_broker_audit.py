"""ops/mosquitto/acl with audit heads: every validator reads every head, and publishes
(or clears) only its own topic. Against the production broker config (TLS, passwords)."""

from __future__ import annotations

import asyncio

import pytest
from ops_broker import BrokerUser, OpsBroker
from test_ops_broker import QUIET_S, WAIT_S, _users, gossip_as

from relayer.domain.audit_heads import AuditHead, SignedHead
from relayer.domain.types import Address, Hash32
from relayer.gossip.audit_heads import AuditHeadMessage
from relayer.gossip.transport import MqttGossip, Received

SIG = b"\x44" * 64 + b"\x1c"


def head_of(user: BrokerUser, seq: int) -> AuditHeadMessage:
    """A well-formed head of ``user`` (signed on paper: the broker does not check)."""
    head = AuditHead(Address(user.address), seq, Hash32(seq.to_bytes(32, "big")), 1_765_000_000)
    return AuditHeadMessage(own=SignedHead(head, SIG))


async def _until(gossip: MqttGossip, wanted: AuditHeadMessage, seen: list[Received]) -> None:
    async with asyncio.timeout(WAIT_S):
        while True:
            received = await gossip.receive()
            seen.append(received)
            if received.message == wanted:
                return


@pytest.mark.asyncio
async def test_acl_lets_a_validator_publish_only_its_own_audit_head(
    ops_broker: OpsBroker,
) -> None:
    a, b = _users(ops_broker)
    forged = head_of(b, 7)  # B's head, published by A on B's topic
    control = head_of(a, 9)
    async with gossip_as(ops_broker, a) as gossip_a, gossip_as(ops_broker, b) as gossip_b:
        await gossip_a.wait_connected(WAIT_S)
        await gossip_b.wait_connected(WAIT_S)
        await gossip_a.publish_audit_head(forged)  # acknowledged, silently dropped
        await gossip_a.publish_audit_head(control)
        seen: list[Received] = []
        await _until(gossip_b, control, seen)
        assert forged not in [r.message for r in seen]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(gossip_b.receive(), QUIET_S)

    async with gossip_as(ops_broker, b) as fresh:  # retained: A's head, never the forgery
        seen = []
        await _until(fresh, control, seen)
        assert seen[-1].retained
        assert all(r.message != forged for r in seen)
