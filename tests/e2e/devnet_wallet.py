"""An EIP-1193 wallet for the wallet page under test, injected into the browser page.

It announces itself through EIP-6963 (and as ``window.ethereum``), keeps its own current
chain, adds and switches chains as a wallet does (``wallet_switchEthereumChain`` to a chain
it does not know fails with 4902 until ``wallet_addEthereumChain``), signs
``eth_sendTransaction`` with a devnet key in Python, and forwards every other call to the
real devnet node of its current chain. It refuses ``eth_maxPriorityFeePerGas`` and
``eth_feeHistory`` (they deadlock the conflux-rust dev node) and records that the page asked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from playwright.sync_api import Page
from web3 import Web3

from relayer.chain.transactions import explicit_fees

FORBIDDEN = ("eth_maxPriorityFeePerGas", "eth_feeHistory")
REJECTED = {"code": 4001, "message": "User rejected the request."}

_SCRIPT = Path(__file__).with_name("devnet_wallet.js")


class DevnetWallet:
    """The wallet of ``account``, starting on ``chain_id`` and knowing only ``known``."""

    def __init__(
        self,
        nodes: dict[int, Web3],
        account: LocalAccount,
        chain_id: int,
        known: tuple[int, ...] | None = None,
    ) -> None:
        self.nodes = nodes
        self.account = account
        self.chain_id = chain_id
        self.known = known or (chain_id,)
        self.reject_next = False
        self.sent: list[tuple[int, str]] = []  # (chain id, transaction hash)
        self.forbidden: list[str] = []

    def install(self, page: Page) -> None:
        page.expose_function("__devnetWallet", self._handle)
        script = (
            _SCRIPT.read_text()
            .replace("__ACCOUNT__", json.dumps(self.account.address))
            .replace("__KNOWN__", json.dumps([hex(c) for c in self.known]))
            .replace("__CHAIN__", json.dumps(hex(self.chain_id)))
        )
        page.add_init_script(script)

    def _handle(self, method: str, params_json: str, chain_hex: str) -> str:
        chain_id = int(chain_hex, 16)
        params: list[Any] = json.loads(params_json)
        if method in FORBIDDEN:
            self.forbidden.append(method)
            return json.dumps({"error": {"code": -32601, "message": f"{method} refused"}})
        if method == "eth_sendTransaction":
            if self.reject_next:
                self.reject_next = False
                return json.dumps({"error": REJECTED})
            return json.dumps({"result": self._send(chain_id, params[0])})
        answer = self.nodes[chain_id].provider.make_request(method, params)  # type: ignore[arg-type]
        return json.dumps(dict(answer), default=str)

    def _send(self, chain_id: int, request: dict[str, Any]) -> str:
        w3 = self.nodes[chain_id]
        assert request["from"].lower() == self.account.address.lower()
        call: dict[str, Any] = {
            "from": self.account.address,
            "to": Web3.to_checksum_address(request["to"]),
            "data": request.get("data", "0x"),
            "value": int(request.get("value", "0x0"), 16),
        }
        gas = int(w3.eth.estimate_gas(call))  # type: ignore[arg-type]
        tx = {
            **call,
            "chainId": chain_id,
            "nonce": w3.eth.get_transaction_count(self.account.address, "pending"),
            "gas": gas * 5 // 4,
            **explicit_fees(w3),
        }
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(w3.eth.send_raw_transaction(signed.raw_transaction)).hex()
        self.sent.append((chain_id, tx_hash))
        return tx_hash
