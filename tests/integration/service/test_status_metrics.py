"""What ``/metrics`` refreshes from the store and the watchers: the gauges the alert rules in
ops/monitoring/alerts.yml read (waiting times, the next delayed execution, confirmed heads,
gossip drops exported at 0 before the first)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import pytest_asyncio

from relayer.api.metrics import Metrics
from relayer.chain.watcher import WatcherStats
from relayer.domain.types import Address, Direction, Hash32, SourceEvent
from relayer.gossip.config import GossipConfig
from relayer.gossip.reasons import Reason
from relayer.gossip.transport import MqttGossip
from relayer.service.books import SetBook
from relayer.service.status import WAITING_STATES, NodeStatus
from relayer.store import Store, TransferStatus, upgrade

VAULT = Address(b"\x11" * 20)


def _event(n: int) -> SourceEvent:
    return SourceEvent(
        transfer_id=Hash32(n.to_bytes(32, "big")),
        src_chain_id=71,
        src_contract=VAULT,
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


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    await upgrade(url)
    opened = await Store.open(url)
    try:
        yield opened
    finally:
        await opened.close()


def _value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


@pytest.mark.asyncio
async def test_refresh_exports_waiting_times_heads_and_drops(store: Store) -> None:
    confirmed, delayed = _event(1), _event(2)
    async with store.transaction() as tx:
        await tx.record_scan(71, VAULT, Direction.TO_ETHEREUM, [confirmed, delayed], 100)
        await tx.set_status(confirmed.transfer_id, TransferStatus.CONFIRMED)
        await tx.set_status(delayed.transfer_id, TransferStatus.DELAYED, executable_at=1_900_000)
    gossip = MqttGossip(GossipConfig(client_id="status-metrics-test"))
    gossip.stats.drop(Reason.NOT_JSON)
    watcher = SimpleNamespace(stats=WatcherStats(confirmed_head=120, next_block=101))
    metrics = Metrics()
    status = NodeStatus(
        store=store,
        sets=SetBook(contracts={}),
        metrics=metrics,
        rpcs={},
        watchers={"conflux": watcher},  # type: ignore[dict-item]
        gossip=gossip,
        submitter_accounts={},
        stall_after_s=60.0,
    )
    started = datetime.now(UTC)
    await status.refresh_metrics()
    bound = (datetime.now(UTC) - started).total_seconds() + 5.0

    waiting = {
        s: _value(metrics, "relayer_transfers_waiting_seconds", state=s.value)
        for s in WAITING_STATES
    }
    assert all(v is not None for v in waiting.values())  # every unfinished state, 0 if empty
    assert 0 <= waiting[TransferStatus.CONFIRMED] <= bound  # type: ignore[operator]
    assert 0 <= waiting[TransferStatus.DELAYED] <= bound  # type: ignore[operator]
    assert waiting[TransferStatus.QUORUM] == 0
    assert _value(metrics, "relayer_transfers_waiting_seconds", state="released") is None
    assert (
        _value(metrics, "relayer_transfers_delayed_next_executable_timestamp_seconds") == 1_900_000
    )
    assert _value(metrics, "relayer_chain_confirmed_head_block", chain="conflux") == 120
    assert _value(metrics, "relayer_chain_head_lag_blocks", chain="conflux") == 20
    assert _value(metrics, "relayer_gossip_dropped_messages", reason="not_json") == 1
    for reason in Reason:  # exported at 0 before the first drop of that reason
        assert _value(metrics, "relayer_gossip_dropped_messages", reason=reason.value) is not None

    async with store.transaction() as tx:  # executed: nothing is delayed any more
        await tx.set_status(delayed.transfer_id, TransferStatus.RELEASED)
    await status.refresh_metrics()
    assert _value(metrics, "relayer_transfers_delayed_next_executable_timestamp_seconds") == 0
    assert _value(metrics, "relayer_transfers_waiting_seconds", state="delayed") == 0
