"""Sample gossip messages and Hypothesis strategies shared by the gossip tests."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from relayer.domain.decisions import MAX_DETAIL_CHARS
from relayer.domain.types import UINT64_MAX, UINT256_MAX, Address, Hash32, Release
from relayer.gossip.refusals import RefusalMessage
from relayer.gossip.wire import AttestationMessage

POLICY = Hash32(b"\x66" * 32)
DECISION_SIGNATURE = b"\x77" * 64 + b"\x1c"


def sample_message(
    *, transfer_byte: int = 0x11, signer_byte: int = 0x22, dst_chain_id: int = 1
) -> AttestationMessage:
    """A fixed, valid attestation message."""
    return AttestationMessage(
        release=Release(
            transfer_id=Hash32(bytes([transfer_byte]) * 32),
            src_chain_id=1030,
            nonce=7,
            token=Address(bytes.fromhex("aa" * 20)),
            recipient=Address(bytes.fromhex("bb" * 20)),
            amount=10**18,
        ),
        dst_chain_id=dst_chain_id,
        set_id=3,
        digest=Hash32(b"\x33" * 32),
        signer=Address(bytes([signer_byte]) * 20),
        signature=b"\x44" * 64 + b"\x1b",
        signed_at=1_700_000_000,
    )


def sample_v2(**fields: int) -> AttestationMessage:
    """``sample_message`` in version 2: with a policy and a decision signature."""
    return replace(sample_message(**fields), policy=POLICY, decision_signature=DECISION_SIGNATURE)


def sample_refusal(
    *,
    transfer_byte: int = 0x11,
    signer_byte: int = 0x22,
    dst_chain_id: int = 1,
    detail: str = "sender 0xdead… is on the EU list",
) -> RefusalMessage:
    """A fixed, valid refusal message."""
    return RefusalMessage(
        transfer_id=Hash32(bytes([transfer_byte]) * 32),
        src_chain_id=1030,
        dst_chain_id=dst_chain_id,
        reason="sender_sanctioned",
        detail=detail,
        policy=POLICY,
        signer=Address(bytes([signer_byte]) * 20),
        signature=b"\x44" * 64 + b"\x1b",
        signed_at=1_700_000_000,
    )


uint64s = st.integers(min_value=0, max_value=UINT64_MAX)
hashes = st.binary(min_size=32, max_size=32).map(Hash32)
addresses = st.binary(min_size=20, max_size=20).map(Address)
signatures = st.tuples(st.binary(min_size=64, max_size=64), st.sampled_from([27, 28])).map(
    lambda rv: rv[0] + bytes([rv[1]])
)
releases = st.builds(
    Release,
    transfer_id=hashes,
    src_chain_id=uint64s,
    nonce=uint64s,
    token=addresses,
    recipient=addresses,
    amount=st.integers(min_value=0, max_value=UINT256_MAX),
)
messages = st.builds(
    AttestationMessage,
    release=releases,
    dst_chain_id=uint64s,
    set_id=uint64s,
    digest=hashes,
    signer=addresses,
    signature=signatures,
    signed_at=uint64s,
)

nonzero_hashes = hashes.filter(any)
v2_messages = st.builds(
    AttestationMessage,
    release=releases,
    dst_chain_id=uint64s,
    set_id=uint64s,
    digest=nonzero_hashes,
    signer=addresses,
    signature=signatures,
    signed_at=uint64s,
    policy=hashes,
    decision_signature=signatures,
)
reason_codes = st.from_regex(r"[a-z][a-z0-9_]{0,39}", fullmatch=True).filter(
    lambda code: code != "approved"
)
# Python's "printable": no Unicode "Other" or "Separator" except the ASCII space
details = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))
    | st.just(" "),
    max_size=MAX_DETAIL_CHARS,
).filter(str.isprintable)
refusals = st.builds(
    RefusalMessage,
    transfer_id=hashes,
    src_chain_id=uint64s,
    dst_chain_id=uint64s,
    reason=reason_codes,
    detail=details,
    policy=hashes,
    signer=addresses,
    signature=signatures,
    signed_at=uint64s,
)
