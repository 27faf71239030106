"""The audit head service against a real SQLite store: what it signs, what it keeps."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from relayer.domain.audit_heads import AuditHead, SignedHead, audit_head_digest
from relayer.domain.signature import recover_signer
from relayer.domain.types import Address, Hash32
from relayer.gossip.audit_heads import MAX_WITNESSED, AuditHeadMessage
from relayer.keys import Signer, signer_from_hex
from relayer.service.audit_heads import AuditHeads, HeadVerdict
from relayer.service.writer import Writer
from relayer.store import AlertKind, Store, upgrade

pytestmark = pytest.mark.asyncio

ME = signer_from_hex("0x" + "01" * 32)
PEERS = [signer_from_hex("0x" + f"{n:02x}" * 32) for n in range(2, 9)]
OUTSIDER = signer_from_hex("0x" + "7f" * 32)
MEMBERS = {ME.address, *(p.address for p in PEERS)}


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    await upgrade(url)
    store = await Store.open(url)
    try:
        yield store
    finally:
        await store.close()


def _service(store: Store) -> AuditHeads:
    seconds = itertools.count(1_765_000_000)
    return AuditHeads(Writer(store), ME, MEMBERS.__contains__, clock=lambda: float(next(seconds)))


def _signed(signer: Signer, seq: int, at: int, *, by: Signer | None = None) -> SignedHead:
    head = AuditHead(signer.address, seq, Hash32(bytes([seq]) * 32), at)
    return SignedHead(head, (by or signer).sign_digest(audit_head_digest(head)))


def _message(signer: Signer, *relayed: SignedHead, by: Signer | None = None) -> AuditHeadMessage:
    ordered = tuple(sorted(relayed, key=lambda s: s.head.validator))
    return AuditHeadMessage(own=_signed(signer, 3, 100, by=by), witnessed=ordered)


async def test_sign_head_signs_the_chain_tip(store: Store) -> None:
    heads = _service(store)
    empty = await heads.sign_head()
    assert (empty.own.head.seq, empty.witnessed) == (0, ())
    async with store.transaction() as tx:
        await tx.append_audit("note", None, {"n": 1})
        entries = await tx.audit_entries()
    message = await heads.sign_head()
    head = message.own.head
    assert (head.validator, head.seq, head.hash) == (ME.address, entries[-1].seq, entries[-1].hash)
    assert head.at > empty.own.head.at
    assert recover_signer(audit_head_digest(head), message.own.signature) == ME.address


async def test_received_heads_are_checked_before_they_are_kept(store: Store) -> None:
    heads = _service(store)
    assert await heads.receive(_message(OUTSIDER)) is HeadVerdict.NOT_A_MEMBER
    assert await heads.receive(_message(PEERS[0], by=PEERS[1])) is HeadVerdict.BAD_SIGNATURE
    assert await heads.receive(await heads.sign_head()) is HeadVerdict.OWN
    mine = _signed(ME, 2, 90)
    forged = _signed(PEERS[2], 7, 90, by=PEERS[0])  # a witness cannot make up a head
    stranger = _signed(OUTSIDER, 1, 90)
    verdict = await heads.receive(_message(PEERS[0], mine, forged, stranger))
    assert verdict is HeadVerdict.ACCEPTED
    again = _message(PEERS[1], mine)  # our head from a second witness: kept for it too
    assert await heads.receive(again) is HeadVerdict.ACCEPTED
    async with store.reader() as tx:
        assert [h.head.seq for h in await tx.audit_heads_of(PEERS[0].address)] == [3]
        assert {(h.head.seq, h.witness) for h in await tx.audit_heads_of(ME.address)} == {
            (2, PEERS[0].address),
            (2, PEERS[1].address),
        }
        assert await tx.audit_heads_of(PEERS[2].address) == ()
        assert await tx.audit_heads_of(OUTSIDER.address) == ()
        assert await tx.open_alerts() == ()


async def test_a_contradicting_head_raises_one_critical_alert(store: Store) -> None:
    heads = _service(store)
    first = _signed(PEERS[0], 3, 100)
    other = SignedHead(replace(first.head, hash=Hash32(b"\x09" * 32), at=200), b"")
    other = replace(other, signature=PEERS[0].sign_digest(audit_head_digest(other.head)))
    await heads.receive(AuditHeadMessage(own=first))
    for _ in range(2):  # the retained copy again: kept once, alerted once
        assert await heads.receive(AuditHeadMessage(own=other)) is HeadVerdict.ACCEPTED
    async with store.reader() as tx:
        alerts = await tx.open_alerts()
    assert [(a.kind, a.detail["kind"]) for a in alerts] == [(AlertKind.CRITICAL, "rewritten")]


async def test_more_heads_than_fit_are_relayed_in_turns(store: Store) -> None:
    heads = _service(store)
    for peer in PEERS:
        await heads.receive(AuditHeadMessage(own=_signed(peer, 3, 100)))
    seen: set[Address] = set()
    for _ in range(2):
        message = await heads.sign_head()
        assert len(message.witnessed) == MAX_WITNESSED
        seen |= {s.head.validator for s in message.witnessed}
    assert seen == {p.address for p in PEERS}
