"""The set-rotation service against a real SQLite store and fake chains: what it accepts
from peers, when it sends ``rotateValidatorSet``, and that a final state is never retried."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from relayer.chain.bridge import selector
from relayer.chain.rotation import ROTATE_SIGNATURE
from relayer.chain.rpc_types import BlockRef
from relayer.chain.submission import Mined, SubmitRequest
from relayer.domain.rotation import (
    Applied,
    ChainTarget,
    Expired,
    ReadyToSubmit,
    SetProposal,
    SetSignature,
    propose,
)
from relayer.domain.types import Address, Hash32, Validator, ValidatorSet
from relayer.gossip.sets import ChainSignature, SetApprovalMessage, SetProposalMessage
from relayer.keys import Signer, signer_from_hex
from relayer.service.books import SetBook
from relayer.service.rotation import Rotations, approval_message
from relayer.service.writer import Writer
from relayer.store import SetOutcomeState, Store, upgrade

pytestmark = pytest.mark.asyncio

KEYS = [signer_from_hex("0x" + f"{n:02x}" * 32) for n in range(1, 6)]
ME = KEYS[0]
OUTSIDER = signer_from_hex("0x" + "7f" * 32)
CODES = ["HK", "SG", "AE", "HK", "SG"]
OLD_HASH = Hash32(b"\xa1" * 32)
NEW_HASH = Hash32(b"\xb2" * 32)
NOW = 1_765_000_000


@dataclass
class FakeChain:
    """One bridge contract: its current set and hash, the time, what was sent to it."""

    chain_id: int
    address: Address
    current: ValidatorSet
    set_hash: Hash32 = OLD_HASH
    now: int = NOW
    sent: list[SubmitRequest] = field(default_factory=list)
    proposal: SetProposal | None = None  # what a mined rotateValidatorSet installs

    # BridgeContract
    @property
    def rpc(self) -> FakeChain:
        return self

    @property
    def view(self) -> FakeChain:
        return self

    @property
    def submitter(self) -> FakeChain:
        return self

    @property
    def contract(self) -> Address:
        return self.address

    journal = object()

    async def validator_set(self) -> ValidatorSet:
        return self.current

    async def call(self, to: bytes, data: bytes, block: Any = "latest") -> bytes:
        assert data == selector("validatorSetHash()")
        return self.set_hash

    async def get_block(self, block: Any) -> BlockRef:
        return BlockRef(1, Hash32(b"\x01" * 32), Hash32(b"\x00" * 32), self.now)

    async def submit(self, request: SubmitRequest) -> Mined:
        self.sent.append(request)
        assert request.data[:4] == selector(ROTATE_SIGNATURE)
        assert self.proposal is not None
        self.current, self.set_hash = self.proposal.validator_set, NEW_HASH
        return Mined(Hash32(b"\x7e" * 32), 2, 100_000)


def _current() -> ValidatorSet:
    members = sorted(zip((k.address for k in KEYS), CODES, strict=True))
    return ValidatorSet(1, tuple(Validator(a, j) for a, j in members), 4, 2)


@pytest.fixture
def chains() -> dict[int, FakeChain]:
    return {
        1030: FakeChain(1030, Address(b"\x0c" * 20), _current()),
        31337: FakeChain(31337, Address(b"\x0e" * 20), _current()),
    }


@pytest.fixture
def proposal(chains: dict[int, FakeChain]) -> SetProposal:
    targets = [ChainTarget(c.chain_id, c.address, OLD_HASH) for c in chains.values()]
    made = propose(_current(), targets, [(OUTSIDER.address, "TH")], [], 5, 3, NOW + 60, NOW)
    assert isinstance(made, SetProposal)
    for chain in chains.values():
        chain.proposal = made
    return made


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    await upgrade(url)
    store = await Store.open(url)
    try:
        yield store
    finally:
        await store.close()


def _service(store: Store, chains: dict[int, FakeChain]) -> Rotations:
    sets = SetBook({})
    sets.current.update({c: chain.current for c, chain in chains.items()})
    return Rotations(
        Writer(store),
        ME.address,
        sets,
        chains,  # type: ignore[arg-type]
        sweep_s=0.1,
        grace_period_s=0.0,
        republish_interval_s=3600.0,
    )


def _approval(p: SetProposal, signer: Signer, by: Signer | None = None) -> SetApprovalMessage:
    return SetApprovalMessage(
        proposal=p,
        signer=signer.address,
        signatures=tuple(
            ChainSignature(c.chain_id, p.digest(c), (by or signer).sign_digest(p.digest(c)))
            for c in p.chains
        ),
    )


async def test_peers_messages_are_checked_before_they_are_kept(
    store: Store, chains: dict[int, FakeChain], proposal: SetProposal
) -> None:
    rotations = _service(store, chains)
    assert await rotations.receive(SetProposalMessage(proposal)) == "stored"
    assert await rotations.receive(SetProposalMessage(proposal)) == "duplicate"
    assert await rotations.receive(_approval(proposal, OUTSIDER)) == "not_member"
    assert await rotations.receive(_approval(proposal, KEYS[1], by=KEYS[2])) == "bad_signature"
    assert await rotations.receive(_approval(proposal, ME)) == "own"
    assert await rotations.receive(_approval(proposal, KEYS[1])) == "accepted"
    assert await rotations.receive(_approval(proposal, KEYS[1])) == "duplicate"
    elsewhere = replace(
        proposal, chains=(replace(proposal.chains[0], contract=Address(b"\x99" * 20)),)
    )
    assert await rotations.receive(SetProposalMessage(elsewhere)) == "unknown_chain"
    later = replace(proposal, set_id=3)
    assert await rotations.receive(_approval(later, KEYS[2])) == "stale"
    async with store.reader() as tx:
        assert [r.proposal for r in await tx.set_proposals()] == [proposal]
        stored = await tx.set_signatures(proposal.proposal_id)
    assert {s.signer for s in stored} == {KEYS[1].address}
    assert {s.chain_id for s in stored} == {1030, 31337}


async def test_a_quorum_is_sent_once_per_chain_and_then_recorded_applied(
    store: Store, chains: dict[int, FakeChain], proposal: SetProposal
) -> None:
    rotations = _service(store, chains)
    published: list[object] = []

    async def publish(message: object) -> None:
        published.append(message)

    async with store.transaction() as tx:
        await tx.record_set_proposal(proposal, proposed_here=True)
        for signer in KEYS[:3]:
            for target in proposal.chains:
                digest = proposal.digest(target)
                await tx.record_set_signature(
                    SetSignature(
                        proposal.proposal_id,
                        target.chain_id,
                        signer.address,
                        digest,
                        signer.sign_digest(digest),
                    )
                )
    first = await rotations.sweep(publish)  # three of threshold four: nothing to send
    assert not any(isinstance(s, ReadyToSubmit) for s in first.values())
    assert [type(m) for m in published] == [SetProposalMessage, SetApprovalMessage]
    assert await rotations.receive(_approval(proposal, KEYS[3])) == "accepted"
    ready = await rotations.sweep(publish)
    assert all(isinstance(s, ReadyToSubmit) for s in ready.values())
    assert [len(c.sent) for c in chains.values()] == [1, 1]
    applied = await rotations.sweep(publish)
    assert all(isinstance(s, Applied) for s in applied.values())
    assert await rotations.sweep(publish) == {}  # final: never looked at again
    assert [len(c.sent) for c in chains.values()] == [1, 1]
    assert len(published) == 2  # republished only after republish_interval_s
    async with store.reader() as tx:
        outcomes = await tx.set_outcomes(proposal.proposal_id)
    assert {o.state for o in outcomes.values()} == {SetOutcomeState.APPLIED}
    assert all(o.tx_hash == Hash32(b"\x7e" * 32) for o in outcomes.values())


async def test_a_passed_deadline_is_recorded_not_sent(
    store: Store, chains: dict[int, FakeChain], proposal: SetProposal
) -> None:
    rotations = _service(store, chains)
    async with store.transaction() as tx:
        await tx.record_set_proposal(proposal, proposed_here=False)
    for signer in KEYS[1:5]:
        await rotations.receive(_approval(proposal, signer))
    for chain in chains.values():
        chain.now = proposal.deadline + 1

    async def publish(message: object) -> None:
        raise AssertionError("nothing of ours to publish")

    states = await rotations.sweep(publish)
    assert all(isinstance(s, Expired) for s in states.values())
    assert all(not c.sent for c in chains.values())
    assert await rotations.sweep(publish) == {}


async def test_approval_message_needs_every_chain(proposal: SetProposal) -> None:
    target = proposal.chains[0]
    digest = proposal.digest(target)
    one = SetSignature(
        proposal.proposal_id, target.chain_id, ME.address, digest, ME.sign_digest(digest)
    )
    assert approval_message(proposal, ME.address, (one,), 0) is None
