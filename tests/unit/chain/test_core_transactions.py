"""Core transactions (relayer/chain/core/transactions.py): the RLP encoder against the
reference ``rlp`` package, and a signature that recovers to the signer."""

from __future__ import annotations

import rlp
from eth_keys import keys
from hypothesis import given
from hypothesis import strategies as st

from relayer.chain.core.transactions import CoreTransaction, rlp_encode, sign_core_transaction
from relayer.keys import signer_from_hex

items = st.recursive(
    st.integers(min_value=0, max_value=2**256) | st.binary(max_size=80),
    lambda children: st.lists(children, max_size=6),
    max_leaves=20,
)


@given(items)
def test_rlp_matches_the_reference_encoder(item: object) -> None:
    assert rlp_encode(item) == rlp.encode(item)  # type: ignore[arg-type]


def test_a_signed_core_transaction_recovers_to_its_signer() -> None:
    signer = signer_from_hex("0x" + "11" * 32)
    tx = CoreTransaction(3, 10**9, 21_000, bytes.fromhex("1" + "2" * 39), 5, 64, 100, 2029, b"")
    signed = sign_core_transaction(signer, tx)
    fields, v, r, s = rlp.decode(signed.raw)
    assert rlp.sedes.big_endian_int.deserialize(v) in (0, 1)
    signature = keys.Signature(
        vrs=(
            rlp.sedes.big_endian_int.deserialize(v),
            rlp.sedes.big_endian_int.deserialize(r),
            rlp.sedes.big_endian_int.deserialize(s),
        )
    )
    recovered = signature.recover_public_key_from_msg_hash(tx.signing_hash())
    assert recovered.to_canonical_address() == bytes(signer.address)
    assert fields == rlp.decode(rlp_encode(tx.fields()))
