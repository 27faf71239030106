"""The store part of ``relayer.bench.floor``: the writes one transfer causes in one relayer.

``STAGES`` calls the production ``Transaction`` operations in the order the service calls
them for one transfer (Conflux -> Ethereum, threshold 4 of 5, this relayer the submitter):
the watcher's ``record_scan``; the confirm sweep (``Processor._confirm_in`` and ``apply``
of ``Confirmed`` -> policy -> ``SignRelease`` -> ``OwnSignature``: the reads of
``load_state``, two ``set_status``, ``set_dst_token``, ``record_own_signature``, the
PUBLISH effect, the quorum read); the publisher marking it done; four peer attestations
(``record_attestation`` and the quorum read, the third one reaching the quorum:
``set_status``, ``set_quorum``, the SUBMIT effect); the send journal (``record_sent``);
the mined batch (``update_submission``, ``SubmissionSent``: ``set_status``, ``set_tx_hash``;
the effect done); the settler (``ReleaseConfirmed``: ``set_status``, the WITHDRAW effect);
the publisher marking the withdrawal done. That is 11 writing transactions per transfer
when each input has its own (``per_tx=1``), 11 per 64 transfers with ``per_tx=64``.
Reads the service makes in separate reader transactions (polls) are not counted.

``relayer.bench.floor_raw`` writes the same rows with the stdlib ``sqlite3`` for comparison.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event as sa_event

from relayer.domain.types import Address, Attestation, Direction, Hash32, SourceEvent
from relayer.service.writer import Writer
from relayer.store import EffectKind, Store, SubmissionStatus, Transaction, TransferStatus
from relayer.store.outcomes import EffectEnqueued, EffectNotFound

CFX, ETH = 71, 11155111
VAULT = Address(b"\x0a" * 20)
MIRROR = Address(b"\x0d" * 20)
SENDER = Address(b"\x5e" * 20)
PEERS = tuple(Address(bytes([0x50 + i]) * 20) for i in range(4))
OWN = Address(b"\x4f" * 20)
S = TransferStatus
NO_HASH = Hash32(bytes(32))


@dataclass
class Item:
    """One transfer and what its stages remember (effect ids, the carrying tx hash)."""

    event: SourceEvent
    digest: Hash32
    effects: dict[EffectKind, int] = field(default_factory=dict)
    tx_hash: Hash32 = NO_HASH

    @property
    def tid(self) -> Hash32:
        return self.event.transfer_id


def make_items(start: int, count: int) -> list[Item]:
    """``count`` distinct locks (nonce ``start`` on), one per block."""
    items = []
    for nonce in range(start, start + count):
        tid = Hash32(nonce.to_bytes(32, "big"))
        event = SourceEvent(
            tid,
            CFX,
            VAULT,
            nonce,
            Address(b"\x0c" * 20),
            Address(b"\x33" * 20),
            Address(b"\x44" * 20),
            10**18 + nonce,
            ETH,
            1000 + nonce,
            Hash32(nonce.to_bytes(32, "little")),
            Hash32(os.urandom(32)),
            0,
        )
        items.append(Item(event, Hash32(os.urandom(32))))
    return items


def signature() -> bytes:
    return os.urandom(64) + b"\x1b"


def _enqueued(outcome: object) -> int:
    assert isinstance(outcome, EffectEnqueued), outcome
    return outcome.effect.id


async def _load_state(tx: Transaction, item: Item) -> None:
    """The reads of ``Processor.load_state`` for a signed, open transfer."""
    await tx.get_transfer(item.tid)
    await tx.own_signature(item.tid)


async def observe(tx: Transaction, chunk: Sequence[Item]) -> None:
    last = chunk[-1].event
    events = [i.event for i in chunk]
    hashes = [(last.block_number, last.block_hash)]
    await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, events, last.block_number + 1, hashes)


async def confirm(tx: Transaction, chunk: Sequence[Item]) -> None:
    for i in chunk:
        await tx.get_transfer(i.tid)  # _confirm_in
        await _load_state(tx, i)
        await tx.set_status(i.tid, S.CONFIRMED, None, release_tx_hash=None, executable_at=None)
        await tx.chain_halted(CFX)
        await tx.set_dst_token(i.tid, MIRROR)
        await tx.record_own_signature(Attestation(i.tid, i.digest, OWN, signature()), 1, "v1")
        await tx.set_status(i.tid, S.ATTESTED, None, release_tx_hash=None, executable_at=None)
        i.effects[EffectKind.PUBLISH] = _enqueued(
            await tx.enqueue_effect(i.tid, EffectKind.PUBLISH)
        )
        await tx.attestations_for(i.tid, i.digest)


async def published(tx: Transaction, chunk: Sequence[Item]) -> None:
    for i in chunk:
        await _load_state(tx, i)  # the publisher reads what it publishes
        outcome = await tx.mark_effect_done(i.effects[EffectKind.PUBLISH])
        assert not isinstance(outcome, EffectNotFound)


def peer(k: int) -> Callable[[Transaction, Sequence[Item]], Awaitable[None]]:
    """Peer ``k``'s attestation (``InboundVerifier._apply_in``); the third makes the quorum."""

    async def stage(tx: Transaction, chunk: Sequence[Item]) -> None:
        for i in chunk:
            await tx.get_transfer(i.tid)
            await tx.record_attestation(Attestation(i.tid, i.digest, PEERS[k], signature()), 1)
            await tx.attestations_for(i.tid, i.digest)
            if k >= 2:  # QuorumReached applied (the fourth peer's changes nothing)
                await _load_state(tx, i)
            if k == 2:
                await tx.set_status(i.tid, S.QUORUM, None, release_tx_hash=None, executable_at=None)
                bundle = b"".join(signature() for _ in range(4))
                await tx.set_quorum(i.tid, bundle, (OWN, *PEERS[:3]), ("HK", "SG"))
                payload = {"dst_chain_id": ETH, "bundle": "0x" + bundle.hex()}
                outcome = await tx.enqueue_effect(i.tid, EffectKind.SUBMIT, payload)
                i.effects[EffectKind.SUBMIT] = _enqueued(outcome)

    return stage


async def journal(tx: Transaction, chunk: Sequence[Item]) -> None:
    tx_hash = Hash32(os.urandom(32))
    for i in chunk:
        i.tx_hash = tx_hash
    await tx.record_sent(tuple(i.tid for i in chunk), ETH, SENDER, 1, tx_hash, 10**9, 10**9)


async def mined(tx: Transaction, chunk: Sequence[Item]) -> None:
    for i in chunk:
        await tx.update_submission(i.tid, i.tx_hash, SubmissionStatus.MINED, 77)
        await _load_state(tx, i)
        await tx.set_status(i.tid, S.SUBMITTED, None, release_tx_hash=None, executable_at=None)
        await tx.set_tx_hash(i.tid, i.tx_hash)
        await tx.mark_effect_done(i.effects[EffectKind.SUBMIT])


async def settle(tx: Transaction, chunk: Sequence[Item]) -> None:
    for i in chunk:
        await tx.get_transfer(i.tid)
        await _load_state(tx, i)
        await tx.set_status(i.tid, S.RELEASED, None, release_tx_hash=i.tx_hash, executable_at=None)
        await tx.own_signature(i.tid)
        outcome = await tx.enqueue_effect(i.tid, EffectKind.WITHDRAW, {"dst_chain_id": ETH})
        i.effects[EffectKind.WITHDRAW] = _enqueued(outcome)
        await tx.get_transfer(i.tid)


async def withdrawn(tx: Transaction, chunk: Sequence[Item]) -> None:
    for i in chunk:
        await tx.mark_effect_done(i.effects[EffectKind.WITHDRAW])


STAGES = (
    observe,
    confirm,
    published,
    peer(0),
    peer(1),
    peer(2),
    peer(3),
    journal,
    mined,
    settle,
    withdrawn,
)


async def _run(writer: Writer, items: Sequence[Item], per_tx: int) -> None:
    chunks = [items[k : k + per_tx] for k in range(0, len(items), per_tx)]
    for stage in STAGES:
        for chunk in chunks:
            async with writer.transaction() as tx:
                await stage(tx, chunk)


@dataclass(frozen=True)
class Cost:
    """CPU (``process_time``: every thread) and wall microseconds per transfer."""

    cpu_us: float
    wall_us: float
    statements: float = 0.0  # SQL statements sent per transfer


async def _production(path: Path, n: int, per_tx: int) -> Cost:
    store = await Store.open(f"sqlite+aiosqlite:///{path}", migrate_schema=True)
    try:
        writer = Writer(store)
        statements = [0]

        def count(*_: object) -> None:
            statements[0] += 1

        sa_event.listen(store.engine.sync_engine, "before_cursor_execute", count)
        warm = max(per_tx, 8)
        await _run(writer, make_items(1, warm), per_tx)  # warm up the ORM's caches
        items = make_items(warm + 1, n)
        statements[0] = 0
        cpu, wall = time.process_time(), time.perf_counter()
        await _run(writer, items, per_tx)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await store.close()
    return Cost(cpu / n * 1e6, wall / n * 1e6, statements[0] / n)


def production(n: int, per_tx: int) -> Cost:
    """The production store on a fresh SQLite file: ``n`` transfers, ``per_tx`` per
    writing transaction."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        return asyncio.run(_production(Path(tmp) / "store.db", n, per_tx))
