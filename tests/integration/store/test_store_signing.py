"""Own-signature guard, attestations, equivocation evidence and refusals."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from store_factories import CONFLUX, VAULT, make_attestation, make_event, rand_address, rand_hash

from relayer.domain.types import Address, Direction, Hash32
from relayer.errors import SafetyHaltError
from relayer.store import EquivocationRefused, Store, UnknownTransferError
from relayer.store.models import AttestationRow, EquivocationRow
from relayer.store.outcomes import (
    Duplicate,
    Equivocation,
    OwnSignatureDuplicate,
    OwnSignatureStored,
    RefusalDuplicate,
    RefusalStored,
    Stored,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")
ME = Address(bytes.fromhex("aa" * 20))


async def _observed(store: Store, nonce: int) -> Hash32:
    event = make_event(nonce)
    async with store.transaction() as tx:
        await tx.record_scan(CONFLUX, VAULT, Direction.TO_ETHEREUM, [event], 101)
    return event.transfer_id


async def _sign(store: Store, tid: Hash32, digest: Hash32) -> object:
    async with store.transaction() as tx:
        return await tx.record_own_signature(make_attestation(tid, ME, digest), 1, "p1")


async def test_record_own_signature_same_digest_is_idempotent(store: Store, nonce: int) -> None:
    tid = await _observed(store, nonce)
    digest = rand_hash()
    first = await _sign(store, tid, digest)
    second = await _sign(store, tid, digest)
    assert isinstance(first, OwnSignatureStored)
    assert isinstance(second, OwnSignatureDuplicate)
    assert second.signature == first.signature  # the stored signature is handed back
    async with store.transaction() as tx:
        counted = await tx.attestations_for(tid, digest)
    assert [a.signer for a in counted] == [ME]


async def test_record_own_signature_other_digest_refused(store: Store, nonce: int) -> None:
    tid = await _observed(store, nonce)
    digest = rand_hash()
    await _sign(store, tid, digest)
    with pytest.raises(EquivocationRefused) as caught:
        await _sign(store, tid, rand_hash())
    assert isinstance(caught.value, SafetyHaltError)
    async with store.transaction() as tx:
        own = await tx.own_signature(tid)
    assert own is not None
    assert own.digest == digest


async def test_record_own_signature_unknown_transfer_raises(store: Store) -> None:
    with pytest.raises(UnknownTransferError):
        await _sign(store, rand_hash(), rand_hash())


async def test_record_attestation_stored_duplicate_equivocation(store: Store) -> None:
    tid, peer = rand_hash(), rand_address()  # peers may attest before we observe
    digest_a, digest_b = rand_hash(), rand_hash()
    first = make_attestation(tid, peer, digest_a)
    async with store.transaction() as tx:
        stored = await tx.record_attestation(first, 1)
        duplicate = await tx.record_attestation(first, 1)
        equivocation = await tx.record_attestation(make_attestation(tid, peer, digest_b), 1)
        again = await tx.record_attestation(make_attestation(tid, peer, digest_b), 1)
        kept = await tx.attestations_for(tid, digest_a)
        other = await tx.attestations_for(tid, digest_b)
        cheaters = await tx.equivocating_signers(tid)
    assert stored == Stored(tid, peer)
    assert duplicate == Duplicate(tid, peer)
    assert isinstance(equivocation, Equivocation)
    assert (equivocation.stored_digest, equivocation.new_digest) == (digest_a, digest_b)
    assert isinstance(again, Equivocation)
    assert again.evidence_id == equivocation.evidence_id  # evidence stored once
    assert [a.signature for a in kept] == [first.signature]
    assert other == ()
    assert cheaters == (peer,)


async def test_record_own_signature_after_conflicting_peer_copy_refused(
    store: Store, nonce: int
) -> None:
    tid = await _observed(store, nonce)
    async with store.transaction() as tx:
        await tx.record_attestation(make_attestation(tid, ME, rand_hash()), 1)
    with pytest.raises(EquivocationRefused):
        await _sign(store, tid, rand_hash())


async def test_record_refusal_keeps_first_reason(store: Store, nonce: int) -> None:
    tid = await _observed(store, nonce)
    async with store.transaction() as tx:
        first = await tx.record_refusal(tid, ME, "token_not_allowed", "0xdead")
        second = await tx.record_refusal(tid, ME, "amount_too_large")
        view = await tx.transfer_view(tid)
    assert isinstance(first, RefusalStored)
    assert isinstance(second, RefusalDuplicate)
    assert second.refusal.reason_code == "token_not_allowed"
    assert view is not None
    assert [r.reason_code for r in view.refusals] == ["token_not_allowed"]


SIGNERS = [Address(bytes([i]) * 20) for i in range(1, 4)]
DIGESTS = [Hash32(bytes([i]) * 32) for i in range(1, 4)]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(st.tuples(st.sampled_from(SIGNERS), st.sampled_from(DIGESTS)), max_size=12))
async def test_record_attestation_random_sequences_keep_one_row_per_signer(
    store: Store, steps: list[tuple[Address, Hash32]]
) -> None:
    tid = rand_hash()  # fresh per example: the fixture is shared across examples
    first_digest: dict[Address, Hash32] = {}
    async with store.transaction() as tx:
        for signer, digest in steps:
            outcome = await tx.record_attestation(make_attestation(tid, signer, digest), 1)
            expected = first_digest.setdefault(signer, digest)
            if outcome == Stored(tid, signer) or isinstance(outcome, Duplicate):
                assert expected == digest
            else:
                assert isinstance(outcome, Equivocation)
                assert (outcome.stored_digest, outcome.new_digest) == (expected, digest)
        rows = await tx._exec(
            select(AttestationRow.signer, AttestationRow.digest).where(
                AttestationRow.transfer_id == tid
            )
        )
        stored = {bytes(r[0]): bytes(r[1]) for r in rows.all()}
        evidence = await tx._exec(
            select(func.count())
            .select_from(EquivocationRow)
            .where(EquivocationRow.transfer_id == tid)
        )
        evidence_count = evidence.scalar_one()
    assert stored == {bytes(s): bytes(d) for s, d in first_digest.items()}
    distinct_conflicts = {(s, d) for s, d in steps if d != first_digest[s]}
    assert evidence_count == len(distinct_conflicts)
