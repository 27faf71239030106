"""A transaction signed in a SoftHSM2 token is accepted by a real anvil, sent from the
token's address: EIP-1559 and legacy (EIP-155), through ``sign_transaction``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from softhsm import Token
from web3 import Web3

from relayer.devnet.anvil import AnvilNode
from relayer.domain.types import checksum
from relayer.keys import sign_transaction
from relayer.keys.hsm import Pkcs11Signer, create_pkcs11_key, open_pkcs11_signer

CHAIN_ID = 31337
GWEI = 10**9


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode.start_sync(chain_id=CHAIN_ID) as node:
        yield node


@pytest.fixture
def hsm_signer(softhsm_token: Token) -> Iterator[Pkcs11Signer]:
    create_pkcs11_key(softhsm_token.key("payer"))
    signer = open_pkcs11_signer(softhsm_token.key("payer"))
    yield signer
    signer.close()


def test_the_hsm_key_pays_for_transactions_anvil_accepts(
    anvil: AnvilNode, hsm_signer: Pkcs11Signer
) -> None:
    w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
    sender = checksum(hsm_signer.address)
    funder = Account.from_key(anvil.funded_keys[0])
    funding = funder.sign_transaction(
        {
            "type": 2,
            "chainId": CHAIN_ID,
            "nonce": w3.eth.get_transaction_count(funder.address),
            "gas": 21_000,
            "maxFeePerGas": 50 * GWEI,
            "maxPriorityFeePerGas": GWEI,
            "to": sender,
            "value": 10**18,
        }
    )
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(funding.raw_transaction), 30)
    recipient = Account.from_key(anvil.funded_keys[1]).address
    common: dict[str, Any] = {"chainId": CHAIN_ID, "gas": 21_000, "to": recipient, "value": 7}
    transactions: list[dict[str, Any]] = [
        {**common, "type": 2, "maxFeePerGas": 50 * GWEI, "maxPriorityFeePerGas": GWEI},
        {**common, "gasPrice": 50 * GWEI},
    ]
    for nonce, tx in enumerate(transactions):
        signed = sign_transaction(hsm_signer, {**tx, "nonce": nonce})
        tx_hash = w3.eth.send_raw_transaction(signed.raw)
        assert bytes(tx_hash) == signed.hash
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, 30)
        assert receipt["status"] == 1
        assert receipt["from"] == sender
        assert w3.eth.get_transaction(tx_hash)["from"] == sender
    assert w3.eth.get_transaction_count(sender) == 2
