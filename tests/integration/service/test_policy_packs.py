"""A jurisdiction's policy pack on a real store: which pack is in force (verified files, the
last good one kept, one alert per refused file, restored after a restart), and what it
decides through the processor (sanctions, rolling limits that survive a restart, a review
that holds a transfer until a reviewer decides), each decision recorded with the pack hash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from lone_validator import CFX, TOKEN, VAULT, lone_event, lone_pack, lone_processor

from relayer.api.metrics import Metrics
from relayer.domain.limits import WINDOW_S
from relayer.domain.packs import TokenRules, pack_digest, pack_hash
from relayer.domain.policy import RefusalReason
from relayer.domain.signature import address_of_private_key, sign_digest
from relayer.domain.types import Address, Direction, SourceEvent, checksum
from relayer.errors import ConfigError
from relayer.service.policy import PolicyBook
from relayer.service.processor import Processor
from relayer.service.writer import Writer
from relayer.settings import PolicySettings
from relayer.store import AlertKind, Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")

SUPERVISOR_KEY = bytes.fromhex("5a" * 32)
SUPERVISOR = address_of_private_key(SUPERVISOR_KEY)
INTRUDER_KEY = bytes.fromhex("6b" * 32)
SANCTIONED = Address(b"\x66" * 20)
T0 = 1_800_000_000


def _pack_text(version: int, jurisdiction: str = "HK", max_per_transfer: int = 10**30) -> str:
    return f"""schema = 1
jurisdiction = "{jurisdiction}"
version = {version}
issued_at = "2026-12-07T00:00:00Z"

[sanctions]
source = "test list"
list_version = "2026-12-01"
addresses = ["{checksum(SANCTIONED)}"]

[[tokens]]
chain_id = {CFX}
token = "{checksum(TOKEN)}"
symbol = "AxHKD"
max_per_transfer = "{max_per_transfer}"
max_per_sender_24h = "{3 * 10**18}"
"""


def _publish(folder: Path, text: str, key: bytes = SUPERVISOR_KEY) -> Path:
    """Write the pack and its signature by ``key`` as a supervisor would publish them."""
    raw = text.encode()
    version = int(text.split("version = ")[1].split("\n")[0])
    jurisdiction = text.split('jurisdiction = "')[1][:2]
    signature = sign_digest(key, pack_digest(jurisdiction, version, pack_hash(raw)))
    path = folder / "hk-policy.toml"
    path.write_bytes(raw)
    (folder / "hk-policy.toml.sig").write_text("0x" + signature.hex() + "\n")
    return path


def _settings(path: Path) -> PolicySettings:
    return PolicySettings(pack_file=path, supervisor=checksum(SUPERVISOR))


@pytest_asyncio.fixture(loop_scope="session")
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True)
    try:
        yield opened
    finally:
        await opened.close()


async def _warnings(store: Store) -> list[dict[str, object]]:
    async with store.reader() as tx:
        return [a.detail for a in await tx.open_alerts() if a.kind is AlertKind.WARNING]


async def test_a_verified_pack_is_put_in_force_and_a_bad_one_never_replaces_it(
    store: Store, tmp_path: Path
) -> None:
    writer, metrics = Writer(store), Metrics()
    path = _publish(tmp_path, _pack_text(1))
    book = PolicyBook(_settings(path), "HK", metrics)
    assert await book.reload_pack(writer, strict=True)
    assert book.pack is not None and book.pack.version == 1
    assert book.version == pack_hash(path.read_bytes()).hex()  # recorded with each decision
    assert book.policy.allowed_tokens == {(CFX, TOKEN)}  # the pack's tokens, none locally
    assert metrics.pack_version.labels("HK")._value.get() == 1
    assert not await book.reload_pack(writer)  # unchanged files: nothing to do

    cases = [
        (_pack_text(2), INTRUDER_KEY, "wrong_signer"),
        (_pack_text(2, jurisdiction="SG"), SUPERVISOR_KEY, "wrong_jurisdiction"),
        (_pack_text(1, max_per_transfer=5), SUPERVISOR_KEY, "version_reused"),
        (
            _pack_text(2).replace("schema = 1", "schema = 1\nsurprise = 1"),
            SUPERVISOR_KEY,
            "malformed",
        ),
    ]
    for text, key, fault in cases:
        _publish(tmp_path, text, key)
        assert not await book.reload_pack(writer)
        assert book.pack.version == 1, fault  # the good pack stays in force
        warnings = await _warnings(store)
        assert warnings[-1]["fault"] == fault and warnings[-1]["in_force"] == 1
        assert metrics.pack_refused.labels(fault)._value.get() == 1
    alerts = len(await _warnings(store))
    path.touch()  # the same refused files read again: no second alert
    assert not await book.reload_pack(writer)
    assert len(await _warnings(store)) == alerts

    _publish(tmp_path, _pack_text(3))
    assert await book.reload_pack(writer)
    assert book.pack.version == 3
    _publish(tmp_path, _pack_text(2))  # an older, genuinely signed pack: a replay
    assert not await book.reload_pack(writer)
    assert book.pack.version == 3
    assert (await _warnings(store))[-1]["fault"] == "rollback"

    # a restart with a broken file: the stored pack comes back, the file is refused
    (tmp_path / "hk-policy.toml.sig").write_text("0x1234\n")
    restarted = PolicyBook(_settings(path), "HK", Metrics())
    assert not await restarted.reload_pack(writer, strict=True)
    assert restarted.pack is not None and restarted.pack.version == 3
    assert "130 hex digits" in str((await _warnings(store))[-1]["detail"])


async def test_a_relayer_with_a_pack_configured_but_none_good_does_not_start(
    store: Store, tmp_path: Path
) -> None:
    path = _publish(tmp_path, _pack_text(1), INTRUDER_KEY)
    book = PolicyBook(_settings(path), "HK")
    with pytest.raises(ConfigError, match=r"policy.pack_file: wrong_signer: signed by 0x"):
        await book.reload_pack(Writer(store), strict=True)
    missing = PolicyBook(_settings(tmp_path / "nowhere.toml"), "HK")
    with pytest.raises(ConfigError, match=r"nowhere\.toml"):
        await missing.reload_pack(Writer(store), strict=True)


# ------------------------------------------------------------------ decisions


class Clock:
    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


def _processor(store: Store, clock: Clock, rules: TokenRules) -> Processor:
    processor = lone_processor(store, Metrics(), pack=lone_pack(rules, frozenset({SANCTIONED})))
    processor.clock = clock
    return processor


async def _lock(processor: Processor, nonce: int, **changes: object) -> SourceEvent:
    event = replace(lone_event(7 * 10**6 + nonce), **changes)  # type: ignore[arg-type]
    async with processor.writer.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], 1000)
    await processor.sweep()
    return event


async def _status(processor: Processor, event: SourceEvent) -> TransferStatus:
    async with processor.store.reader() as tx:
        rec = await tx.get_transfer(event.transfer_id)
    assert rec is not None
    return rec.status


async def _refusal(processor: Processor, event: SourceEvent) -> tuple[str, str | None]:
    async with processor.store.reader() as tx:
        refusal = await tx.refusal_by(event.transfer_id, processor.signer.address)
    assert refusal is not None
    return refusal.reason_code, refusal.policy_version


async def test_sanctions_and_rolling_limits_are_decided_under_the_pack_and_survive_a_restart(
    store: Store,
) -> None:
    clock = Clock()
    rules = TokenRules(max_per_transfer=10**30, max_per_sender_24h=3 * 10**18)
    processor = _processor(store, clock, rules)
    pack_version = processor.policy.version
    assert pack_version == "9c" * 32

    sanctioned = await _lock(processor, 1, recipient=SANCTIONED)
    assert await _status(processor, sanctioned) is TransferStatus.REFUSED
    assert await _refusal(processor, sanctioned) == ("recipient_sanctioned", pack_version)

    first = await _lock(processor, 2, amount=2 * 10**18)
    assert await _status(processor, first) is not TransferStatus.REFUSED  # signed
    async with store.reader() as tx:
        own = await tx.own_signature(first.transfer_id)
    assert own is not None and own.policy_version == pack_version

    # a restart: the spends are in the store, the window is exact
    clock.now += WINDOW_S - 1
    processor = _processor(store, clock, rules)
    second = await _lock(processor, 3, amount=2 * 10**18)
    assert await _refusal(processor, second) == (
        RefusalReason.SENDER_DAILY_LIMIT.value,
        pack_version,
    )
    other_sender = await _lock(processor, 4, amount=2 * 10**18, sender=Address(b"\x35" * 20))
    assert await _status(processor, other_sender) is not TransferStatus.REFUSED
    clock.now += 1  # the first spend leaves the window exactly 24 h after it was approved
    third = await _lock(processor, 5, amount=2 * 10**18)
    assert await _status(processor, third) is not TransferStatus.REFUSED


async def test_a_transfer_above_the_review_threshold_waits_for_a_reviewer(store: Store) -> None:
    clock = Clock()
    rules = TokenRules(max_per_transfer=10**30, review_above=5 * 10**18)
    processor = _processor(store, clock, rules)
    small = await _lock(processor, 10, amount=5 * 10**18)
    assert await _status(processor, small) is not TransferStatus.REVIEW
    held = await _lock(processor, 11, amount=6 * 10**18)
    rejected = await _lock(processor, 12, amount=7 * 10**18)
    for event in (held, rejected):
        assert await _status(processor, event) is TransferStatus.REVIEW
    async with store.reader() as tx:
        rec = await tx.get_transfer(held.transfer_id)
        assert await tx.own_signature(held.transfer_id) is None  # never signed while held
    assert rec is not None and rec.status_reason is not None
    assert "above the review threshold" in rec.status_reason

    await processor.sweep()  # no decision yet: still held
    assert await _status(processor, held) is TransferStatus.REVIEW
    async with store.transaction() as tx:  # what `relayer review approve|reject` writes
        await tx.record_review(held.transfer_id, True, "alice", "KYC checked")
        await tx.record_review(rejected.transfer_id, False, "bob", "source of funds unclear")
    await processor.sweep()
    assert await _status(processor, held) is not TransferStatus.REVIEW
    async with store.reader() as tx:
        signed = await tx.own_signature(held.transfer_id)
    assert signed is not None
    assert await _refusal(processor, rejected) == ("review_rejected", processor.policy.version)
    async with store.reader() as tx:
        refusal = await tx.refusal_by(rejected.transfer_id, processor.signer.address)
    assert refusal is not None and refusal.detail == "rejected by bob: source of funds unclear"
