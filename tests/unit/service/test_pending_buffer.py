"""The buffer of attestations for transfers not observed yet."""

from __future__ import annotations

from relayer.domain.types import Address, Hash32, Release
from relayer.gossip.wire import AttestationMessage
from relayer.service.inbound import PendingBuffer


def message(transfer: int, signer: int, digest: int) -> AttestationMessage:
    return AttestationMessage(
        release=Release(
            Hash32(transfer.to_bytes(32, "big")),
            1030,
            transfer,
            Address(b"\xaa" * 20),
            Address(b"\xbb" * 20),
            5,
        ),
        dst_chain_id=1,
        set_id=1,
        digest=Hash32(digest.to_bytes(32, "big")),
        signer=Address(bytes([signer]) * 20),
        signature=b"\x44" * 64 + b"\x1b",
    )


def test_two_attestations_by_one_signer_both_wait_so_equivocation_is_seen() -> None:
    buffer = PendingBuffer(capacity=10)
    assert buffer.add(message(1, 7, 100))
    assert buffer.add(message(1, 7, 200))
    assert buffer.add(message(2, 7, 100))
    taken = buffer.take(Hash32((1).to_bytes(32, "big")))
    assert sorted(int.from_bytes(m.digest, "big") for m in taken) == [100, 200]
    assert len(buffer) == 1


def test_the_same_attestation_twice_is_kept_once() -> None:
    buffer = PendingBuffer(capacity=10)
    buffer.add(message(1, 7, 100))
    buffer.add(message(1, 7, 100))
    assert len(buffer) == 1


def test_bounded_oldest_dropped_first() -> None:
    buffer = PendingBuffer(capacity=3)
    results = [buffer.add(message(n, 7, n)) for n in range(5)]
    assert results == [True, True, True, False, False]
    assert len(buffer) == 3
    assert buffer.take(Hash32((0).to_bytes(32, "big"))) == []
    assert len(buffer.take(Hash32((4).to_bytes(32, "big")))) == 1
