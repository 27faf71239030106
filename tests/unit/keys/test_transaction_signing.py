"""Transactions signed through ``Signer.sign_digest`` are byte-identical to eth-account's
own signing with the raw key (the keystore backend signs deterministically, RFC 6979)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from relayer.keys import sign_transaction, signer_from_hex

KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
TO = "0xF0109fC8DF283027b6285cc889F5aA624EaC1F55"

EIP1559: dict[str, Any] = {
    "type": 2,
    "chainId": 31337,
    "nonce": 7,
    "gas": 210_000,
    "maxFeePerGas": 30 * 10**9,
    "maxPriorityFeePerGas": 2 * 10**9,
    "to": TO,
    "value": 12345,
    "data": bytes.fromhex("deadbeef") * 9,
}
LEGACY_EIP155: dict[str, Any] = {
    "chainId": 1030,
    "nonce": 0,
    "gas": 21_000,
    "gasPrice": 20 * 10**9,
    "to": TO,
    "value": 10**18,
    "data": b"",
}
LEGACY_NO_CHAIN: dict[str, Any] = {k: v for k, v in LEGACY_EIP155.items() if k != "chainId"}


@pytest.mark.parametrize(
    "tx", [EIP1559, LEGACY_EIP155, LEGACY_NO_CHAIN], ids=["eip1559", "legacy", "pre-eip155"]
)
def test_signed_through_the_digest_matches_eth_account(tx: dict[str, Any]) -> None:
    ours = sign_transaction(signer_from_hex(KEY), tx)
    theirs = Account.sign_transaction(tx, KEY)
    assert ours.raw == bytes(theirs.raw_transaction)
    assert ours.hash == bytes(theirs.hash)
    assert Account.recover_transaction(ours.raw) == Account.from_key(KEY).address


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32).filter(lambda b: 0 < int.from_bytes(b, "big") < 2**255),
    nonce=st.integers(0, 2**32),
    chain_id=st.integers(1, 2**32),
    value=st.integers(0, 2**96),
    data=st.binary(max_size=200),
    legacy=st.booleans(),
)
def test_any_transaction_matches_eth_account(
    key: bytes, nonce: int, chain_id: int, value: int, data: bytes, legacy: bool
) -> None:
    fees = (
        {"gasPrice": 10**9}
        if legacy
        else {"type": 2, "maxFeePerGas": 3 * 10**9, "maxPriorityFeePerGas": 10**9}
    )
    tx = {"chainId": chain_id, "nonce": nonce, "gas": 90_000, "to": TO, "value": value}
    tx |= {"data": data, **fees}
    ours = sign_transaction(signer_from_hex("0x" + key.hex()), tx)
    assert ours.raw == bytes(Account.sign_transaction(tx, key).raw_transaction)


def test_a_from_field_must_name_the_signer() -> None:
    signer = signer_from_hex(KEY)
    own = Account.from_key(KEY).address
    assert sign_transaction(signer, {**EIP1559, "from": own}).raw == (
        sign_transaction(signer, EIP1559).raw
    )
    with pytest.raises(ValueError, match="the signer is"):
        sign_transaction(signer, {**EIP1559, "from": TO})
