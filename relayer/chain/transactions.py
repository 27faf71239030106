"""Synchronous web3 transactions signed locally: the user-facing client (relayer.client),
the devnet, the benchmarks and the tests send their calls through here.

``send`` signs a contract call (or constructor) with a local key, so it works on nodes
without unlocked accounts (the Conflux eSpace dev node), waits for the receipt and raises
``TransactionReverted`` if the call reverted. Fees are set explicitly (``explicit_fees``)
so web3 never asks a Conflux node the fee RPCs that hang it. The relayer's own submitter
does not use this module: it sends asynchronously under a fee cap (relayer.chain.fees,
relayer.chain.submitter).
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, TxReceipt, Wei

from relayer.chain.artifacts import load_artifact

RECEIPT_TIMEOUT_S = 120.0


class TransactionReverted(RuntimeError):
    """A transaction sent by ``send`` was mined and reverted."""


def explicit_fees(w3: Web3, tip: int = 10**9) -> TxParams:
    """EIP-1559 fees from the latest block's base fee, so web3 never falls back to
    ``eth_maxPriorityFeePerGas`` or ``eth_feeHistory``: the conflux-rust dev node stops
    answering every RPC after a few dozen of those calls (docs/chain.md, "Fees on Conflux").

    The same ``2 * baseFee + tip`` as the relayer's ``relayer.chain.fees.choose_fees``, but
    uncapped and synchronous: for the client, the devnet and the tests, not the relayer."""
    base = w3.eth.get_block("latest").get("baseFeePerGas")
    if base is None:
        return {"gasPrice": w3.eth.gas_price}
    return {"maxFeePerGas": Wei(2 * int(base) + tip), "maxPriorityFeePerGas": Wei(tip)}


def send(
    w3: Web3, account: LocalAccount, call: Any, *, value: int = 0, gas: int | None = None
) -> TxReceipt:
    """Signs and sends a contract function call (or constructor) from ``account``; waits for
    the receipt and raises TransactionReverted if it reverted."""
    params: TxParams = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "chainId": w3.eth.chain_id,
        "value": w3.to_wei(value, "wei"),
        **explicit_fees(w3),
    }
    if gas is not None:
        params["gas"] = gas
    tx = call.build_transaction(params)
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(
        tx_hash, timeout=RECEIPT_TIMEOUT_S, poll_latency=0.1
    )
    if receipt["status"] != 1:
        raise TransactionReverted(
            f"transaction {tx_hash.hex()} reverted"
            f" (gas limit {tx.get('gas')}, used {receipt['gasUsed']})"
        )
    return receipt


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    """A web3 contract object for the shipped artifact ``name`` at ``address``."""
    return w3.eth.contract(address=to_checksum_address(address), abi=load_artifact(name).abi)
