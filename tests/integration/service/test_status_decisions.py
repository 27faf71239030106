"""The status API says who refused a transfer and why, and shows every validator's signed
decision it knows, under which policy: ours as stored, peers' from their signed messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lone_validator import CFX, ETH, UNROUTED_TOKEN, VAULT, lone_event, lone_processor

from relayer.api.metrics import Metrics
from relayer.domain.decisions import approval, decision_digest, refusal
from relayer.domain.policy import RefusalReason, Refused
from relayer.domain.signature import address_of_private_key, sign_digest
from relayer.domain.types import Direction, Hash32, Validator, ValidatorSet, checksum
from relayer.service.books import SetBook
from relayer.service.processor import Processor
from relayer.service.status import view_to_json
from relayer.store import Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")
PEER_KEYS = [bytes([0x61 + i]) * 32 for i in range(2)]
PEERS = [address_of_private_key(k) for k in PEER_KEYS]
POLICY = Hash32(b"\x9c" * 32)


@pytest_asyncio.fixture(loop_scope="session")
async def processor(tmp_path: Path) -> AsyncIterator[Processor]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}", migrate_schema=True)
    try:
        yield lone_processor(store, Metrics())
    finally:
        await store.close()


async def test_refusals_and_decisions_of_every_validator_are_shown(processor: Processor) -> None:
    event = lone_event(8 * 10**6 + 1, UNROUTED_TOKEN)  # our local rules refuse it
    async with processor.writer.transaction() as tx:
        await tx.record_scan(CFX, VAULT, Direction.TO_ETHEREUM, [event], 1000)
    await processor.sweep()
    tid = event.transfer_id
    peer_refusal = refusal(tid, Refused(RefusalReason.SENDER_SANCTIONED, "on the list"), POLICY)
    peer_approval = approval(tid, Hash32(b"\xd1" * 32), POLICY)
    async with processor.writer.transaction() as tx:
        for key, decision in zip(PEER_KEYS, (peer_refusal, peer_approval), strict=True):
            signature = sign_digest(key, decision_digest(decision))
            await tx.record_decision(decision, address_of_private_key(key), signature)
    async with processor.store.reader() as tx:
        view = await tx.transfer_view(tid)
    assert view is not None and view.transfer.status is TransferStatus.REFUSED
    me = processor.signer.address
    members = [Validator(me, "HK"), Validator(PEERS[0], "SG"), Validator(PEERS[1], "AE")]
    vset = ValidatorSet(1, tuple(sorted(members, key=lambda m: m.address)), 2, 1)
    shown = view_to_json(view, SetBook(contracts={}, current={ETH: vset}))

    ours = processor.policy.version
    assert shown["refusals"] == [
        {
            "validator": checksum(me),
            "jurisdiction": "HK",
            "reason": "token_not_allowed",
            "detail": shown["refusals"][0]["detail"],
            "policy": "0x" + ours,
        },
        {
            "validator": checksum(PEERS[0]),
            "jurisdiction": "SG",
            "reason": "sender_sanctioned",
            "detail": "on the list",
            "policy": "0x" + POLICY.hex(),
        },
    ]
    by_validator = {d["validator"]: d for d in shown["decisions"]}
    assert set(by_validator) == {checksum(me), *(checksum(p) for p in PEERS)}
    mine = by_validator[checksum(me)]
    assert (mine["verdict"], mine["digest"], mine["policy"]) == (
        "token_not_allowed",
        None,
        "0x" + ours,
    )
    approved = by_validator[checksum(PEERS[1])]
    assert (approved["verdict"], approved["digest"]) == ("approved", "0x" + "d1" * 32)
    assert approved["jurisdiction"] == "AE" and len(approved["signature"]) == 132
