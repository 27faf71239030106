"""Received attestations on a real (SQLite) store: each verdict, batches applied in one
writing transaction, a rejected input handled alone, and attestations that wait for the
transfer to be observed.

We are one of three validators, threshold 2: our own signature and one peer's are a quorum.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import pytest_asyncio
from lone_validator import (
    CFX,
    ETH,
    MIRROR,
    TOKEN,
    VAULT,
    CountingStore,
    lone_event,
    lone_processor,
)

from relayer.api.metrics import Metrics
from relayer.domain.digest import release_digest
from relayer.domain.routing import build_release
from relayer.domain.types import Address, Direction, Hash32, SourceEvent
from relayer.errors import RpcResponseError
from relayer.gossip.wire import AttestationMessage
from relayer.keys import Signer, signer_from_hex
from relayer.service.inbound import InboundVerifier, Verdict
from relayer.service.processor import Processor
from relayer.store import AlertKind, EffectKind, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")

PEER_1 = signer_from_hex("0x" + "51" * 32)
PEER_2 = signer_from_hex("0x" + "52" * 32)
OUTSIDER = signer_from_hex("0x" + "53" * 32)
OTHER_TOKEN = Address(b"\x0e" * 20)  # no route known: `routes.ensure` asks the gateway


class RouteReads:
    """The gateway's route reads: no route, or (``refuse``) a malformed answer."""

    chain_id = ETH
    refuse = False

    async def mirror_of(self, chain_id: int, token: bytes) -> None:
        if self.refuse:
            raise RpcResponseError("mirrorOf: answer is not 32 bytes")


@dataclasses.dataclass
class Env:
    store: CountingStore
    processor: Processor
    verifier: InboundVerifier
    metrics: Metrics
    nonce: int = 0

    async def observed(self, token: Address = TOKEN) -> SourceEvent:
        """A new transfer, observed and (its route known) signed by us."""
        self.nonce += 1
        event = lone_event(7 * 10**6 + self.nonce, token)
        async with self.store.transaction() as tx:
            await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], 1000)
        await self.processor.sweep()
        return event

    def signed(self, event: SourceEvent, signer: Signer, **change: object) -> AttestationMessage:
        """``signer``'s attestation of ``event``'s release to MIRROR on Ethereum (or of the
        release of ``event`` with ``change`` applied), over its EIP-712 digest."""
        release = build_release(dataclasses.replace(event, **change), MIRROR)  # type: ignore[arg-type]
        digest = release_digest(self.processor.domains[ETH], release)
        return AttestationMessage(
            release=release,
            dst_chain_id=ETH,
            set_id=1,
            digest=digest,
            signer=signer.address,
            signature=signer.sign_digest(digest),
        )

    async def status(self, transfer_id: Hash32) -> TransferStatus:
        async with self.store.reader() as tx:
            rec = await tx.get_transfer(transfer_id)
        assert rec is not None
        return rec.status

    def counted(self, verdict: Verdict) -> float:
        value = self.metrics.registry.get_sample_value(
            "relayer_attestations_received_total", {"result": verdict.value}
        )
        return value or 0.0


@pytest_asyncio.fixture(loop_scope="session")
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    store = await CountingStore.open(url, migrate_schema=True)
    metrics = Metrics()
    processor = lone_processor(store, metrics, peers=[PEER_1, PEER_2], threshold=2)
    verifier = InboundVerifier(processor, metrics)
    processor.on_confirmed = verifier.replay_buffered
    try:
        yield Env(store, processor, verifier, metrics)
    finally:
        await store.close()


async def test_each_verdict_of_one_batch_in_one_transaction(env: Env) -> None:
    event = await env.observed()
    assert await env.status(event.transfer_id) is TransferStatus.ATTESTED
    good = env.signed(event, PEER_1)
    forged = dataclasses.replace(env.signed(event, PEER_2), signature=good.signature)
    wrong_digest = dataclasses.replace(
        env.signed(event, PEER_2),
        digest=Hash32(b"\x01" * 32),
        signature=PEER_2.sign_digest(Hash32(b"\x01" * 32)),
    )
    batch = [
        good,
        good,  # delivered twice (retained, then live)
        forged,
        env.signed(event, OUTSIDER),
        wrong_digest,
        env.signed(event, PEER_2, amount=event.amount + 1),  # a release we did not observe
        dataclasses.replace(good, dst_chain_id=999),
    ]
    writes = env.store.writes
    verdicts = await env.verifier.handle_batch(batch)
    assert verdicts == [
        Verdict.ACCEPTED,
        Verdict.DUPLICATE,
        Verdict.BAD_SIGNATURE,
        Verdict.NOT_A_MEMBER,
        Verdict.WRONG_DIGEST,
        Verdict.DIFFERENT_CONTENT,
        Verdict.UNKNOWN_CHAIN,
    ]
    assert env.store.writes == writes + 1
    assert await env.status(event.transfer_id) is TransferStatus.QUORUM
    async with env.store.reader() as tx:
        submits = await tx.pending_effects([EffectKind.SUBMIT], limit=10)
    assert [e.transfer_id for e in submits] == [event.transfer_id]
    assert env.counted(Verdict.ACCEPTED) == 1
    assert env.counted(Verdict.DUPLICATE) == 1


async def test_many_transfers_reach_quorum_in_one_transaction(env: Env) -> None:
    events = [await env.observed() for _ in range(10)]
    writes = env.store.writes
    verdicts = await env.verifier.handle_batch([env.signed(e, PEER_2) for e in events])
    assert verdicts == [Verdict.ACCEPTED] * 10
    assert env.store.writes == writes + 1
    for event in events:
        assert await env.status(event.transfer_id) is TransferStatus.QUORUM


async def test_an_equivocation_within_one_batch_is_caught(env: Env) -> None:
    event = await env.observed()
    honest = env.signed(event, PEER_1)
    other = env.signed(event, PEER_1, recipient=Address(b"\x66" * 20))
    assert await env.verifier.handle_batch([honest, other]) == [
        Verdict.ACCEPTED,
        Verdict.EQUIVOCATION,
    ]
    async with env.store.reader() as tx:
        alerts = await tx.open_alerts()
    assert any(
        a.kind is AlertKind.WARNING
        and a.detail.get("transfer_id") == "0x" + event.transfer_id.hex()
        for a in alerts
    )


async def test_attestations_before_the_observation_wait_then_count_in_one_go(env: Env) -> None:
    env.nonce += 1
    event = lone_event(7 * 10**6 + env.nonce)
    early = [env.signed(event, PEER_1), env.signed(event, PEER_2)]
    assert await env.verifier.handle_batch(early) == [Verdict.BUFFERED] * 2
    async with env.store.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], 1000)
    await env.processor.sweep()  # observes, signs, then replays the two buffered
    assert await env.status(event.transfer_id) is TransferStatus.QUORUM
    assert env.counted(Verdict.ACCEPTED) >= 2
    assert len(env.verifier.buffer) == 0


async def test_a_rejected_input_is_retried_alone_and_costs_no_other(env: Env) -> None:
    gateway = RouteReads()
    env.processor.routes.gateway = gateway  # type: ignore[assignment]
    fine = await env.observed()
    stuck = await env.observed(OTHER_TOKEN)  # no route: refused, and asked again each time
    assert await env.status(stuck.transfer_id) is TransferStatus.REFUSED
    gateway.refuse = True
    batches: list[Sequence[AttestationMessage]] = [
        [env.signed(stuck, PEER_1), env.signed(fine, PEER_1)]
    ]
    handled = asyncio.Event()

    async def receive(limit: int) -> Sequence[AttestationMessage]:
        assert limit == 8
        if batches:
            return batches.pop()
        handled.set()
        await asyncio.Event().wait()  # nothing more: block until cancelled
        raise AssertionError("unreachable")

    task = asyncio.create_task(env.verifier.consume(receive, 8, store_retry_s=1.0))
    try:
        async with asyncio.timeout(10):
            await handled.wait()
    finally:
        task.cancel()
    assert await env.status(fine.transfer_id) is TransferStatus.QUORUM
    assert await env.status(stuck.transfer_id) is not TransferStatus.QUORUM


async def test_a_sweep_confirms_stored_events_in_chunks_of_one_transaction(env: Env) -> None:
    events = []
    for _ in range(40):
        env.nonce += 1
        events.append(lone_event(7 * 10**6 + env.nonce))
    early = env.signed(events[-1], PEER_1)  # waits for its transfer, counted once it is seen
    assert await env.verifier.handle(early) is Verdict.BUFFERED
    async with env.store.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, events, 1000)
    env.processor.confirm_batch_max = 16
    writes = env.store.writes
    assert await env.processor.sweep() == 40
    # 16 + 16 + 8 confirmed, and the buffered attestation replayed after the last chunk
    assert env.store.writes == writes + 3 + 1
    for event in events[:-1]:
        assert await env.status(event.transfer_id) is TransferStatus.ATTESTED
    assert await env.status(events[-1].transfer_id) is TransferStatus.QUORUM
