"""A root signature between the store and the wire (``message_of``, ``signature_of``)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.types import UINT64_MAX, Address, Hash32
from relayer.service.roots import message_of, signature_of
from relayer.store.records import RootSignature

uint64s = st.integers(min_value=0, max_value=UINT64_MAX)
hashes = st.binary(min_size=32, max_size=32).map(Hash32)
signatures = st.tuples(st.binary(min_size=64, max_size=64), st.sampled_from([27, 28])).map(
    lambda rv: rv[0] + bytes([rv[1]])
)
windows = st.tuples(st.integers(1, UINT64_MAX), st.integers(1, UINT64_MAX)).map(sorted)


@st.composite
def root_signatures(draw: st.DrawFn) -> RootSignature:
    first, last = draw(windows)
    return RootSignature(
        dst_chain_id=draw(uint64s),
        src_chain_id=draw(uint64s),
        first_nonce=first,
        last_nonce=last,
        root=draw(hashes),
        signer=Address(draw(st.binary(min_size=20, max_size=20))),
        digest=draw(hashes),
        signature=draw(signatures),
        set_id=draw(uint64s),
    )


@given(root_signatures())
def test_a_stored_root_signature_survives_the_wire(sig: RootSignature) -> None:
    message = message_of(sig)
    assert message.set_id == sig.set_id
    assert signature_of(message, sig.set_id) == sig


@given(root_signatures(), uint64s)
def test_a_received_root_is_stored_under_the_set_it_was_checked_against(
    sig: RootSignature, current_set: int
) -> None:
    assert signature_of(message_of(sig), current_set) == replace(sig, set_id=current_set)
