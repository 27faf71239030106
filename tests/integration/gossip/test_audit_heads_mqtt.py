"""Audit heads between two validators over a real Mosquitto, each with its own database.

A and B sign and publish their heads (relayer.service.audit_heads); each keeps what it
receives, and B relays A's head back to A. Then ``relayer audit verify`` runs on A's
database: an untampered chain passes; cutting its tail (rows deleted in A's database) or
rewriting it consistently (every later hash recomputed, so the links alone still verify)
fails, naming B as the witness and the head's seq. A that keeps running on a cut chain
publishes a head contradicting the one B holds: B raises a critical alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gossip_broker import MosquittoBroker
from gossip_it_helpers import WAIT_S, make_gossip
from sqlalchemy import delete, select, update

from relayer.cli import main
from relayer.domain.types import Address, checksum
from relayer.gossip.audit_heads import AuditHeadMessage
from relayer.gossip.transport import MqttGossip
from relayer.keys import Signer, signer_from_hex
from relayer.service.audit_heads import AuditHeads, HeadVerdict
from relayer.service.writer import Writer
from relayer.store import AlertKind, Store, upgrade
from relayer.store.audit import link_hash
from relayer.store.models import AuditRow

pytestmark = pytest.mark.asyncio

KEY_A = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
KEY_B = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
CONFIG = """
[validator]
name = "a"
jurisdiction = "HK"
dev_private_key = "{key}"

[conflux]
rpc_url = "http://127.0.0.1:8545"
chain_id = 2030
vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

[ethereum]
rpc_url = "http://127.0.0.1:8546"
chain_id = 31337
gateway = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"

[database]
url = "{url}"
"""


@dataclass
class Validator:
    """One validator's database, gossip and audit head service."""

    signer: Signer
    store: Store
    gossip: MqttGossip
    heads: AuditHeads
    config: Path
    handled: asyncio.Queue[tuple[Address, HeadVerdict]]

    async def append(self, count: int) -> None:
        async with self.store.transaction() as tx:
            for n in range(count):
                await tx.append_audit("note", None, {"n": n})

    async def publish(self) -> AuditHeadMessage:
        return await self.heads.publish_once(self.gossip.publish_audit_head)

    async def handled_from(self, sender: Validator) -> HeadVerdict:
        """Wait until a message of ``sender`` has been handled."""
        async with asyncio.timeout(WAIT_S):
            while True:
                who, verdict = await self.handled.get()
                if who == sender.signer.address:
                    return verdict

    async def pump(self) -> None:
        while True:
            message = (await self.gossip.receive()).message
            if isinstance(message, AuditHeadMessage):
                verdict = await self.heads.receive(message)
                self.handled.put_nowait((message.signer, verdict))

    async def seqs(self) -> list[int]:
        async with self.store.engine.connect() as conn:
            result = await conn.execute(select(AuditRow.seq).order_by(AuditRow.seq))
            return [r[0] for r in result.all()]


@contextlib.asynccontextmanager
async def validator(
    key: str, members: set[Address], port: int, prefix: str, home: Path
) -> AsyncIterator[Validator]:
    signer = signer_from_hex(key)
    url = f"sqlite+aiosqlite:///{home / 'relayer.db'}"
    config = home / "relayer.toml"
    await asyncio.to_thread(_write_config, config, CONFIG.format(key=key, url=url))
    await upgrade(url)
    store = await Store.open(url)
    try:
        async with make_gossip(port, prefix, name=home.name) as gossip:
            await gossip.wait_connected(WAIT_S)
            minutes = itertools.count(1_765_000_000, 60)  # a head a minute, as in production
            heads = AuditHeads(
                Writer(store), signer, members.__contains__, clock=lambda: float(next(minutes))
            )
            node = Validator(signer, store, gossip, heads, config, asyncio.Queue())
            async with asyncio.TaskGroup() as group:
                pump = group.create_task(node.pump())
                try:
                    yield node
                finally:
                    pump.cancel()
    finally:
        await store.close()


def _write_config(path: Path, text: str) -> None:
    path.parent.mkdir()
    path.write_text(text)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("RELAYER_")]:
        monkeypatch.delenv(name)


@contextlib.asynccontextmanager
async def pair(
    broker: MosquittoBroker, prefix: str, tmp: Path
) -> AsyncIterator[tuple[Validator, Validator]]:
    """A and B, each with 5 audit links, after one round: A published, B relayed A's head
    back to A with its own."""
    members = {signer_from_hex(k).address for k in (KEY_A, KEY_B)}
    async with (
        validator(KEY_A, members, broker.port, prefix, tmp / "a") as a,
        validator(KEY_B, members, broker.port, prefix, tmp / "b") as b,
    ):
        await a.append(5)
        await b.append(3)
        sent = await a.publish()
        assert sent.own.head.seq == (await a.seqs())[-1]
        assert await b.handled_from(a) is HeadVerdict.ACCEPTED
        relayed = await b.publish()
        assert [s.head for s in relayed.witnessed] == [sent.own.head]
        assert await a.handled_from(b) is HeadVerdict.ACCEPTED
        yield a, b


async def verify(
    node: Validator, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[dict[str, object]], str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["audit", "verify", "--config", str(node.config)])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    return code, lines, captured.err


async def test_heads_are_exchanged_and_an_untampered_chain_passes(
    broker: MosquittoBroker,
    prefix: str,
    tmp_path: Path,
    env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with pair(broker, prefix, tmp_path) as (a, b):
        async with b.store.reader() as tx:
            held = await tx.audit_heads_of(a.signer.address)
        assert [(h.head.seq, h.witness) for h in held] == [(5, a.signer.address)]
        async with a.store.reader() as tx:
            mine = await tx.audit_heads_of(a.signer.address)
            theirs = await tx.audit_heads_of(b.signer.address)
        assert [(h.head.seq, h.witness) for h in mine] == [(5, b.signer.address)]
        assert [(h.head.seq, h.witness) for h in theirs] == [(3, b.signer.address)]

        await a.append(2)  # the chain grows: it still extends what B saw
        code, lines, _ = await verify(a, capsys)
    assert code == 0
    assert lines[0]["intact"] is True and lines[0]["entries"] == 7
    assert lines[1] == {
        "witness": checksum(b.signer.address),
        "heads": 1,
        "extends": True,
        "highest_seq": 5,
    }


async def test_truncating_the_tail_fails_naming_the_witness_and_the_seq(
    broker: MosquittoBroker,
    prefix: str,
    tmp_path: Path,
    env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with pair(broker, prefix, tmp_path) as (a, b):
        async with a.store.engine.begin() as conn:
            await conn.execute(delete(AuditRow).where(AuditRow.seq > 3))
        code, lines, err = await verify(a, capsys)
        assert code == 1
        assert lines[0]["intact"] is True  # the links left verify: only a witness can tell
        assert lines[1]["witness"] == checksum(b.signer.address)
        assert (lines[1]["extends"], lines[1]["seq"], lines[1]["problem"]) == (
            False,
            5,
            "truncated",
        )
        assert "seq 5" in err and checksum(b.signer.address) in err and "truncated" in err

        # A keeps running on the cut chain: its next head contradicts the one B holds
        await a.append(1)  # SQLite hands seq 4 out again
        await a.publish()
        assert await b.handled_from(a) is HeadVerdict.ACCEPTED
        async with b.store.reader() as tx:
            alerts = [x for x in await tx.open_alerts() if x.kind is AlertKind.CRITICAL]
        assert len(alerts) == 1
        assert alerts[0].detail["validator"] == checksum(a.signer.address)
        assert alerts[0].detail["kind"] == "regressed"
        assert alerts[0].detail["stored"]["seq"] == 5 and alerts[0].detail["new"]["seq"] == 4


async def test_rewriting_the_tail_consistently_fails_too(
    broker: MosquittoBroker,
    prefix: str,
    tmp_path: Path,
    env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with pair(broker, prefix, tmp_path) as (a, b):
        await _rewrite_from(a, 4)
        code, lines, err = await verify(a, capsys)

        await a.publish()  # its head now: seq 5 again, another hash
        assert await b.handled_from(a) is HeadVerdict.ACCEPTED
        async with b.store.reader() as tx:
            alerts = [x for x in await tx.open_alerts() if x.kind is AlertKind.CRITICAL]
    assert code == 1
    assert lines[0]["intact"] is True  # every link recomputed: the chain alone looks fine
    assert (lines[1]["seq"], lines[1]["problem"]) == (5, "rewritten")
    assert lines[1]["chain_hash"] != lines[1]["witnessed_hash"]
    assert "rewritten" in err and checksum(b.signer.address) in err
    assert [(x.detail["kind"], x.detail["new"]["seq"]) for x in alerts] == [("rewritten", 5)]


async def _rewrite_from(node: Validator, seq: int) -> None:
    """Edit link ``seq``'s detail and recompute every hash from there on, as a careful
    forger would."""
    async with node.store.transaction() as tx:
        entries = await tx.audit_entries()
    prev = entries[seq - 2].hash
    async with node.store.engine.begin() as conn:
        for entry in entries[seq - 1 :]:
            detail = {"n": 99} if entry.seq == seq else entry.detail
            digest = link_hash(prev, entry.at, entry.transfer_id, entry.event, detail)
            await conn.execute(
                update(AuditRow)
                .where(AuditRow.seq == entry.seq)
                .values(detail=detail, prev_hash=prev, hash=digest)
            )
            prev = digest


async def _export(node: Validator, out: Path) -> int:
    argv = ["audit", "export", "--config", str(node.config), "--format", "jsonl"]
    argv += ["--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z", "--out", str(out)]
    return await asyncio.to_thread(main, argv)


async def test_an_export_is_checked_against_the_heads_a_witness_holds(
    broker: MosquittoBroker,
    prefix: str,
    tmp_path: Path,
    env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with pair(broker, prefix, tmp_path) as (a, b):
        await a.append(2)
        await a.publish()  # B now holds A's heads at seq 5 and 7
        assert await b.handled_from(a) is HeadVerdict.ACCEPTED
        honest, forged = tmp_path / "honest.jsonl", tmp_path / "forged.jsonl"
        assert await _export(a, honest) == 0
        await _rewrite_from(a, 4)  # recomputed onward: its export verifies on its own
        assert await _export(a, forged) == 0
        capsys.readouterr()

        argv = ["audit", "verify-export", "--validator", checksum(a.signer.address)]
        witness = ["--config", str(b.config)]
        assert await asyncio.to_thread(main, [*argv, str(honest), *witness]) == 0
        assert json.loads(capsys.readouterr().out)["heads_checked"] == 2
        assert await asyncio.to_thread(main, [*argv, str(forged)]) == 0  # alone: fine
        capsys.readouterr()
        assert await asyncio.to_thread(main, [*argv, str(forged), *witness]) == 2
        err = capsys.readouterr().err
    assert "at seq 5" in err and checksum(b.signer.address) not in err
    assert f"witnessed by {checksum(a.signer.address)}" in err  # B got it from A directly
