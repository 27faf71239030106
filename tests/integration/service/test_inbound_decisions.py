"""Peers' signed decisions on a real (SQLite) store: a version-2 attestation's approval and
a refusal message are checked (membership, the signature over the decision) and kept as
that validator's decision; a refusal of a transfer not observed yet waits and is applied
once it is; a forged decision counts for nothing; a second, different decision by the same
validator is alerted and never replaces the first.

We are one of three validators, threshold 2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lone_validator import CFX, ETH, MIRROR, VAULT, lone_event, lone_processor

from relayer.api.metrics import Metrics
from relayer.domain.decisions import approval, decision_digest, refusal
from relayer.domain.digest import release_digest
from relayer.domain.policy import RefusalReason, Refused
from relayer.domain.routing import build_release
from relayer.domain.types import Direction, Hash32, SourceEvent
from relayer.gossip.refusals import RefusalMessage
from relayer.gossip.wire import AttestationMessage
from relayer.keys import Signer, signer_from_hex
from relayer.service.inbound import InboundVerifier, Verdict
from relayer.service.processor import Processor
from relayer.store import AlertKind, Store

pytestmark = pytest.mark.asyncio(loop_scope="session")

PEER_1 = signer_from_hex("0x" + "51" * 32)
PEER_2 = signer_from_hex("0x" + "52" * 32)
OUTSIDER = signer_from_hex("0x" + "53" * 32)
POLICY = Hash32(b"\x9c" * 32)
SANCTIONED = Refused(RefusalReason.SENDER_SANCTIONED, "sender 0x33… is on test list 1")


@dataclasses.dataclass
class Env:
    store: Store
    processor: Processor
    verifier: InboundVerifier
    metrics: Metrics
    nonce: int = 0

    async def stored(self, observe: bool = True) -> SourceEvent:
        self.nonce += 1
        event = lone_event(6 * 10**6 + self.nonce)
        if observe:
            await self.observe(event)
        return event

    async def observe(self, event: SourceEvent) -> None:
        async with self.store.transaction() as tx:
            await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], 1000)
        await self.processor.sweep()

    def attestation(self, event: SourceEvent, signer: Signer) -> AttestationMessage:
        """``signer``'s version-2 attestation: the release signature and its approval."""
        release = build_release(event, MIRROR)
        digest = release_digest(self.processor.domains[ETH], release)
        approved = approval(event.transfer_id, digest, POLICY)
        return AttestationMessage(
            release=release,
            dst_chain_id=ETH,
            set_id=1,
            digest=digest,
            signer=signer.address,
            signature=signer.sign_digest(digest),
            policy=POLICY,
            decision_signature=signer.sign_digest(decision_digest(approved)),
        )

    def refusal(
        self, event: SourceEvent, signer: Signer, why: Refused = SANCTIONED
    ) -> RefusalMessage:
        decision = refusal(event.transfer_id, why, POLICY)
        return RefusalMessage(
            transfer_id=event.transfer_id,
            src_chain_id=CFX,
            dst_chain_id=ETH,
            reason=decision.verdict,
            detail=decision.detail,
            policy=POLICY,
            signer=signer.address,
            signature=signer.sign_digest(decision_digest(decision)),
        )

    async def verdicts_of(self, event: SourceEvent) -> dict[bytes, str]:
        async with self.store.reader() as tx:
            decisions = await tx.decisions_for(event.transfer_id)
        return {bytes(d.signer): d.decision.verdict for d in decisions}


@pytest_asyncio.fixture(loop_scope="session")
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True)
    metrics = Metrics()
    processor = lone_processor(store, metrics, peers=[PEER_1, PEER_2], threshold=2)
    verifier = InboundVerifier(processor, metrics)
    processor.on_confirmed = verifier.replay_buffered
    try:
        yield Env(store, processor, verifier, metrics)
    finally:
        await store.close()


async def test_approvals_and_refusals_of_peers_are_kept_as_their_decisions(env: Env) -> None:
    event = await env.stored()
    me = bytes(env.processor.signer.address)
    assert await env.verdicts_of(event) == {me: "approved"}  # ours, signed when we signed
    verdicts = await env.verifier.handle_batch(
        [env.attestation(event, PEER_1), env.refusal(event, PEER_2)]
    )
    assert verdicts == [Verdict.ACCEPTED, Verdict.ACCEPTED]
    assert await env.verdicts_of(event) == {
        me: "approved",
        bytes(PEER_1.address): "approved",
        bytes(PEER_2.address): "sender_sanctioned",
    }
    again = await env.verifier.handle_batch([env.refusal(event, PEER_2)])  # retained + live
    assert again == [Verdict.DUPLICATE]
    received = env.metrics.registry.get_sample_value
    assert received("relayer_refusals_received_total", {"result": "accepted"}) == 1
    assert received("relayer_refusals_received_total", {"result": "duplicate"}) == 1


async def test_forged_or_foreign_decisions_count_for_nothing(env: Env) -> None:
    event = await env.stored()
    good = env.attestation(event, PEER_1)
    forged_approval = dataclasses.replace(good, decision_signature=PEER_2.sign_digest(good.digest))
    other_policy = dataclasses.replace(good, policy=Hash32(b"\x01" * 32))  # signed another one
    forged_refusal = dataclasses.replace(
        env.refusal(event, PEER_2), signature=env.refusal(event, PEER_1).signature
    )
    edited = dataclasses.replace(env.refusal(event, PEER_2), detail="something else")
    outsider = env.refusal(event, OUTSIDER)
    unknown_chain = dataclasses.replace(env.refusal(event, PEER_2), dst_chain_id=999)
    verdicts = await env.verifier.handle_batch(
        [forged_approval, other_policy, forged_refusal, edited, outsider, unknown_chain]
    )
    assert verdicts == [
        Verdict.BAD_SIGNATURE,
        Verdict.BAD_SIGNATURE,
        Verdict.BAD_SIGNATURE,
        Verdict.BAD_SIGNATURE,
        Verdict.NOT_A_MEMBER,
        Verdict.UNKNOWN_CHAIN,
    ]
    assert set(await env.verdicts_of(event)) == {bytes(env.processor.signer.address)}


async def test_a_refusal_before_the_transfer_is_observed_waits_for_it(env: Env) -> None:
    event = await env.stored(observe=False)
    assert await env.verifier.handle_batch([env.refusal(event, PEER_2)]) == [Verdict.BUFFERED]
    assert await env.verdicts_of(event) == {}
    await env.observe(event)  # confirmed: the buffered refusal is applied then
    assert (await env.verdicts_of(event))[bytes(PEER_2.address)] == "sender_sanctioned"


async def test_a_second_different_decision_is_alerted_and_the_first_stands(env: Env) -> None:
    event = await env.stored()
    assert await env.verifier.handle_batch([env.refusal(event, PEER_1)]) == [Verdict.ACCEPTED]
    changed = env.refusal(event, PEER_1, Refused(RefusalReason.DAILY_LIMIT, "over"))
    assert await env.verifier.handle_batch([changed]) == [Verdict.EQUIVOCATION]
    assert (await env.verdicts_of(event))[bytes(PEER_1.address)] == "sender_sanctioned"
    async with env.store.reader() as tx:
        alerts = [a for a in await tx.open_alerts() if a.kind is AlertKind.WARNING]
    assert alerts[-1].detail["offered"] == "daily_limit"
    assert alerts[-1].detail["stored"] == "sender_sanctioned"
