"""The processor's gate on a chain's cross-check node, with a scripted witness."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from relayer.api.metrics import Metrics
from relayer.chain.crosscheck import Contradicted, Corroborated, CrossCheck, NotYetConfirmed
from relayer.chain.rpc import RpcUnavailableError
from relayer.chain.rpc_types import BlockRef
from relayer.domain.types import Address, Hash32, SourceEvent
from relayer.service.corroboration import Corroboration, Proceed, Wait, WitnessUnavailable

CHAIN = 71
HEAD = BlockRef(100, Hash32(b"\x01" * 32), Hash32(b"\x02" * 32), 0)


def _event(n: int, chain: int = CHAIN) -> SourceEvent:
    return SourceEvent(
        transfer_id=Hash32(n.to_bytes(32, "big")),
        src_chain_id=chain,
        src_contract=Address(b"\x11" * 20),
        nonce=n,
        src_token=Address(b"\x22" * 20),
        sender=Address(b"\x33" * 20),
        recipient=Address(b"\x44" * 20),
        amount=10**18,
        dst_chain_id=1,
        block_number=90,
        block_hash=Hash32(b"\x05" * 32),
        tx_hash=Hash32(n.to_bytes(32, "little")),
        log_index=0,
    )


class ScriptedWitness:
    """Answers from a script; counts what it was asked."""

    name = "conflux"

    def __init__(self, answers: dict[int, CrossCheck], *, down: bool = False) -> None:
        self.answers = answers
        self.down = down
        self.head_reads = 0
        self.checks = 0

    async def witness_head(self) -> BlockRef | None:
        self.head_reads += 1
        if self.down:
            raise RpcUnavailableError("connection refused")
        return HEAD

    async def check(self, event: SourceEvent, head: BlockRef | None) -> CrossCheck:
        assert head == HEAD
        self.checks += 1
        return self.answers[event.nonce]


def _metric(metrics: Metrics, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "relayer_cross_checks_total", {"chain": "conflux", "result": result}
    )
    return 0.0 if value is None else value


def _gate(corroboration: Corroboration, event: SourceEvent) -> Any:
    return asyncio.run(corroboration.gate(event, "observed"))


def test_no_witness_for_the_chain_means_proceed() -> None:
    corroboration = Corroboration({}, Metrics())
    assert _gate(corroboration, _event(1)) == Proceed()


@pytest.mark.parametrize(
    ("answer", "gate", "label"),
    [
        (Corroborated(), Proceed(), "corroborated"),
        (Contradicted("no such log"), Proceed("no such log"), "contradicted"),
        (NotYetConfirmed(80), Wait(), "notyetconfirmed"),
    ],
)
def test_each_verdict_gates_and_is_counted(answer: CrossCheck, gate: object, label: str) -> None:
    metrics = Metrics()
    corroboration = Corroboration({CHAIN: ScriptedWitness({1: answer})}, metrics)  # type: ignore[dict-item]
    assert _gate(corroboration, _event(1)) == gate
    assert _metric(metrics, label) == 1


def test_the_head_is_read_once_per_sweep() -> None:
    witness = ScriptedWitness({n: Corroborated() for n in range(5)})
    corroboration = Corroboration({CHAIN: witness}, Metrics())  # type: ignore[dict-item]

    async def sweep() -> list[object]:
        corroboration.new_sweep()
        return [await corroboration.gate(_event(n), "observed") for n in range(5)]

    assert asyncio.run(sweep()) == [Proceed()] * 5
    assert (witness.head_reads, witness.checks) == (1, 5)
    asyncio.run(sweep())
    assert witness.head_reads == 2


def test_a_dead_witness_is_asked_once_per_sweep_and_nothing_proceeds() -> None:
    metrics = Metrics()
    witness = ScriptedWitness({}, down=True)
    corroboration = Corroboration({CHAIN: witness}, metrics)  # type: ignore[dict-item]

    async def sweep() -> list[object]:
        corroboration.new_sweep()
        return [await corroboration.verdict(_event(n), "observed") for n in range(4)]

    verdicts = asyncio.run(sweep())
    assert all(isinstance(v, WitnessUnavailable) for v in verdicts)
    assert "connection refused" in verdicts[0].error  # type: ignore[union-attr]
    assert witness.head_reads == 1
    assert _metric(metrics, "unavailable") == 1
    assert _gate(corroboration, _event(9)) == Wait()
    # another chain without a witness is not held up
    assert _gate(corroboration, _event(9, chain=5)) == Proceed()


def test_every_verdict_is_exported_at_zero_before_the_first() -> None:
    """An alert on ``increase(...{result="contradicted"}[15m])`` needs the series at 0 first:
    a series born at 1 shows no increase, and the first contradiction would go unseen."""
    metrics = Metrics()
    Corroboration({CHAIN: ScriptedWitness({})}, metrics)  # type: ignore[dict-item]
    for label in ("corroborated", "notyetconfirmed", "contradicted", "unavailable"):
        assert (
            metrics.registry.get_sample_value(
                "relayer_cross_checks_total", {"chain": "conflux", "result": label}
            )
            == 0.0
        )
