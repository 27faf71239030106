"""The processor's sweep with a cross-check witness, on a real (SQLite) store.

The witness is scripted (its RPC side is tested against anvil and the conflux-rust node
in ``tests/integration/chain/test_chain_crosscheck.py``); what is tested here is what
the one writer does with each verdict: sign, wait, or refuse with the evidence, and
never act on a stale verdict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from lone_validator import CFX, ETH, TOKEN, VAULT, lone_processor

from relayer.api.metrics import Metrics
from relayer.chain.crosscheck import Contradicted, Corroborated, CrossCheck, NotYetConfirmed
from relayer.chain.rpc import RpcUnavailableError
from relayer.chain.rpc_types import BlockRef
from relayer.domain.types import (
    Address,
    Direction,
    Hash32,
    SourceEvent,
)
from relayer.service.corroboration import CROSS_CHECK_FAILED, Corroboration
from relayer.service.processor import Processor
from relayer.store import AlertKind, Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")

HEAD = BlockRef(1000, Hash32(b"\x01" * 32), Hash32(b"\x02" * 32), 0)


class ScriptedWitness:
    """A witness answering from ``answer``; ``during_check`` runs inside each check."""

    name = "conflux"

    def __init__(self) -> None:
        self.answer: CrossCheck | Exception = Corroborated()
        self.during_check: Callable[[], Awaitable[None]] | None = None

    async def witness_head(self) -> BlockRef | None:
        if isinstance(self.answer, Exception):
            raise self.answer
        return HEAD

    async def check(self, event: SourceEvent, head: BlockRef | None) -> CrossCheck:
        if self.during_check is not None:
            await self.during_check()
        assert not isinstance(self.answer, Exception)
        return self.answer


@dataclasses.dataclass
class Env:
    store: Store
    processor: Processor
    witness: ScriptedWitness
    metrics: Metrics


@pytest_asyncio.fixture(loop_scope="session")
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True)
    metrics = Metrics()
    witness = ScriptedWitness()
    processor = lone_processor(store, metrics, Corroboration({CFX: witness}, metrics))  # type: ignore[dict-item])
    try:
        yield Env(store, processor, witness, metrics)
    finally:
        await store.close()


def _event(nonce: int, block: int = 900) -> SourceEvent:
    return SourceEvent(
        transfer_id=Hash32(nonce.to_bytes(32, "big")),
        src_chain_id=CFX,
        src_contract=VAULT,
        nonce=nonce,
        src_token=TOKEN,
        sender=Address(b"\x33" * 20),
        recipient=Address(b"\x44" * 20),
        amount=5 * 10**18,
        dst_chain_id=ETH,
        block_number=block,
        block_hash=Hash32(block.to_bytes(32, "big")),
        tx_hash=Hash32(nonce.to_bytes(32, "little")),
        log_index=3,
    )


async def _observe(env: Env, event: SourceEvent, next_block: int = 901) -> None:
    async with env.store.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], next_block)


async def _status(env: Env, event: SourceEvent) -> tuple[TransferStatus, str | None, bool]:
    async with env.store.reader() as tx:
        rec = await tx.get_transfer(event.transfer_id)
        signed = await tx.own_signature(event.transfer_id) is not None
    assert rec is not None
    return rec.status, rec.status_reason, signed


SIGNED = (TransferStatus.ATTESTED, TransferStatus.QUORUM)


async def test_a_lagging_witness_defers_the_event_then_it_is_signed(env: Env) -> None:
    event = _event(1)
    await _observe(env, event)
    env.witness.answer = NotYetConfirmed(850)
    assert await env.processor.sweep() == 0
    assert await _status(env, event) == (TransferStatus.OBSERVED, None, False)
    assert env.processor.deferred  # the confirm loop looks again soon

    env.witness.answer = Corroborated()
    assert await env.processor.sweep() == 1
    status, _reason, signed = await _status(env, event)
    assert status in SIGNED and signed
    assert not env.processor.deferred


async def test_a_dead_witness_leaves_the_event_observed(env: Env) -> None:
    event = _event(2)
    await _observe(env, event)
    env.witness.answer = RpcUnavailableError("connection refused")
    assert await env.processor.sweep() == 0
    assert await _status(env, event) == (TransferStatus.OBSERVED, None, False)
    sample = env.metrics.registry.get_sample_value(
        "relayer_cross_checks_total", {"chain": "conflux", "result": "unavailable"}
    )
    assert sample == 1


async def test_a_contradicted_event_is_refused_with_the_evidence_and_never_signed(
    env: Env,
) -> None:
    event = _event(3)
    await _observe(env, event)
    env.witness.answer = Contradicted("the witness has no Locked log #3")
    assert await env.processor.sweep() == 1
    status, reason, signed = await _status(env, event)
    assert (status, signed) == (TransferStatus.REFUSED, False)
    assert reason == "uncorroborated: the witness has no Locked log #3"
    async with env.store.reader() as tx:
        (alert,) = await tx.open_alerts()
    assert alert.kind is AlertKind.WARNING and alert.chain_id == CFX
    assert alert.detail["reason"] == CROSS_CHECK_FAILED
    assert alert.detail["transfer_id"] == "0x" + event.transfer_id.hex()
    assert alert.detail["witness"] == "the witness has no Locked log #3"

    env.witness.answer = Corroborated()  # a refusal is final
    await env.processor.sweep()
    assert (await _status(env, event))[:2] == (TransferStatus.REFUSED, reason)


async def test_a_contradiction_on_a_halted_chain_does_not_outlive_the_halt(env: Env) -> None:
    """Halted: nothing is decided. Once acknowledged, the witness is asked afresh and its
    new verdict counts, not the one from before the halt."""
    async with env.store.transaction() as tx:
        halt = await tx.raise_alert(AlertKind.HALT, CFX, {"reason": "test"})
    event = _event(4)
    await _observe(env, event)
    env.witness.answer = Contradicted("briefly on another fork")
    await env.processor.sweep()
    assert await _status(env, event) == (TransferStatus.CONFIRMED, None, False)

    async with env.store.transaction() as tx:
        await tx.acknowledge_alert(halt.id, "test")
    env.witness.answer = Corroborated()
    assert await env.processor.sweep() == 1
    status, _reason, signed = await _status(env, event)
    assert status in SIGNED and signed
    async with env.store.reader() as tx:
        assert await tx.open_alerts() == ()


async def test_an_event_moved_while_the_witness_was_asked_is_not_confirmed(env: Env) -> None:
    """A rescan relocates the stored event during the check: the verdict was about the
    old coordinates, so it is not applied; the next sweep asks about the new ones."""
    event = _event(5, block=900)
    moved = dataclasses.replace(event, block_number=905, block_hash=Hash32(b"\x55" * 32))
    await _observe(env, event)

    async def relocate() -> None:
        env.witness.during_check = None
        await _observe(env, moved, next_block=906)

    env.witness.during_check = relocate
    env.witness.answer = Corroborated()
    assert await env.processor.sweep() == 0
    async with env.store.reader() as tx:
        rec = await tx.get_transfer(event.transfer_id)
    assert rec is not None and rec.status is TransferStatus.OBSERVED
    assert rec.block_number == 905

    assert await env.processor.sweep() == 1
    status, _reason, signed = await _status(env, event)
    assert status in SIGNED and signed
