"""Gas used by lock, release and unlock, measured from real receipts.

``python -m relayer.bench.gas`` starts a fresh anvil (``--conflux``: a conflux-rust eSpace dev
node), deploys the bridge, runs the scenario below and prints one JSON object of receipt
``gasUsed`` values on its last line:

- ``lock_erc20``: lock of an ERC-20 the vault already holds (not the first lock).
- ``release_5_of_7_fresh`` / ``release_13_of_19_fresh``: release with a new transfer id to a
  recipient holding none of the mirror, the mirror already having supply.
- ``release_5_of_7_existing``: the same, to a recipient that already holds the mirror.
- ``unlock_5_of_7``: unlock of an ERC-20 to a recipient holding none of it.
- ``lock_native`` and ``burn`` for reference.

Both bridge contracts live on the one chain being measured; the peer chain ids registered on
each side are stand-ins (the contracts only check registration, not reachability).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from relayer.chain import deploy as d
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.domain.types import Address, Hash32, Release

PEER_ETHEREUM = 1  # stand-in id of the gateway's chain, registered on the vault
PEER_CONFLUX = 1030  # stand-in id of the vault's chain, registered on the gateways
JURISDICTIONS = ("HK", "SG", "CH", "US", "DE")


def validator(index: int) -> LocalAccount:
    """Deterministic validator key ``index``."""
    account: LocalAccount = Account.from_key(keccak(f"bench-validator-{index}".encode()))
    return account


def make_set(size: int, min_jurisdictions: int) -> tuple[d.ValidatorSetSpec, list[LocalAccount]]:
    """A set of ``size`` validators; the signers are the first ``threshold`` members by address."""
    accounts = [validator(i) for i in range(size)]
    codes = [JURISDICTIONS[i % len(JURISDICTIONS)] for i in range(size)]
    spec = d.ValidatorSetSpec.from_accounts(accounts, codes, min_jurisdictions=min_jurisdictions)
    by_address: dict[str, LocalAccount] = {a.address: a for a in accounts}
    signers = [by_address[m] for m in spec.members[: spec.threshold]]
    return spec, signers


def _address(text: str) -> Address:
    return Address(bytes.fromhex(text[2:]))


class Scenario:
    """Deploys both sides on one chain and measures each operation once."""

    def __init__(self, w3: Web3, deployer: LocalAccount) -> None:
        self.w3 = w3
        self.me = deployer
        self.chain_id = w3.eth.chain_id
        self._ids = 0

    def _next_id(self) -> Hash32:
        self._ids += 1
        return Hash32(keccak(f"bench-transfer-{self._ids}".encode()))

    def _release(
        self,
        gateway: Contract,
        signers: list[LocalAccount],
        mirror: Contract,
        recipient: str,
        amount: int,
    ) -> int:
        rel = Release(
            self._next_id(),
            PEER_CONFLUX,
            self._ids,
            _address(mirror.address),
            _address(recipient),
            amount,
        )
        sigs = d.sign_release(rel, self.chain_id, gateway.address, signers)
        receipt = d.send(self.w3, self.me, gateway.functions.release(d.release_args(rel), sigs))
        return int(receipt["gasUsed"])

    def _gateway(
        self, size: int, min_jurisdictions: int, token: str, vault: str
    ) -> tuple[Contract, Contract, list[LocalAccount]]:
        spec, signers = make_set(size, min_jurisdictions)
        gateway = d.deploy_gateway(self.w3, self.me, self.me.address, spec)
        d.register_chain(self.w3, self.me, gateway, PEER_CONFLUX, vault)
        mirror = d.register_gateway_token(
            self.w3, self.me, gateway, PEER_CONFLUX, token, "Bridged USDT", "USDT", 6
        )
        return gateway, mirror, signers

    def run(self) -> dict[str, int]:
        w3, me = self.w3, self.me
        holder = Account.from_key(keccak(b"bench-holder")).address
        results: dict[str, int] = {}

        spec7, signers7 = make_set(7, 2)
        vault = d.deploy_vault(w3, me, me.address, spec7)
        token = d.deploy_test_token(w3, me, "Tether USD", "USDT", 6)
        gateway7, mirror7, _ = self._gateway(7, 2, token.address, vault.address)
        gateway19, mirror19, signers19 = self._gateway(19, 3, token.address, vault.address)
        d.register_chain(w3, me, vault, PEER_ETHEREUM, gateway7.address)
        d.register_vault_token(w3, me, vault, token.address)
        d.register_vault_token(w3, me, vault, "0x" + "00" * 20)

        # lock: the first one makes the vault a holder, the second is measured
        d.send(w3, me, token.functions.mint(me.address, 10**12))
        d.send(w3, me, token.functions.approve(vault.address, 2**256 - 1))
        d.send(w3, me, vault.functions.lock(token.address, 10**9, holder, PEER_ETHEREUM))
        receipt = d.send(w3, me, vault.functions.lock(token.address, 10**9, holder, PEER_ETHEREUM))
        results["lock_erc20"] = int(receipt["gasUsed"])
        receipt = d.send(w3, me, vault.functions.lockNative(holder, PEER_ETHEREUM), value=10**15)
        results["lock_native"] = int(receipt["gasUsed"])

        # releases: prime supply (and the holder's balance), then measure
        self._release(gateway7, signers7, mirror7, holder, 10**6)
        fresh = Account.from_key(keccak(b"bench-fresh-7")).address
        results["release_5_of_7_fresh"] = self._release(gateway7, signers7, mirror7, fresh, 10**6)
        results["release_5_of_7_existing"] = self._release(
            gateway7, signers7, mirror7, holder, 10**6
        )
        self._release(gateway19, signers19, mirror19, holder, 10**6)
        fresh19 = Account.from_key(keccak(b"bench-fresh-19")).address
        results["release_13_of_19_fresh"] = self._release(
            gateway19, signers19, mirror19, fresh19, 10**6
        )

        # burn (the deployer gets mirrors first), then unlock to a fresh recipient
        self._release(gateway7, signers7, mirror7, me.address, 10**6)
        receipt = d.send(
            w3, me, gateway7.functions.burn(mirror7.address, 10**5, holder, PEER_CONFLUX)
        )
        results["burn"] = int(receipt["gasUsed"])
        unlock_to = Account.from_key(keccak(b"bench-unlock")).address
        rel = Release(
            self._next_id(), PEER_ETHEREUM, 1, _address(token.address), _address(unlock_to), 10**6
        )
        sigs = d.sign_release(rel, self.chain_id, vault.address, signers7)
        receipt = d.send(w3, me, vault.functions.unlock(d.release_args(rel), sigs))
        results["unlock_5_of_7"] = int(receipt["gasUsed"])
        return results


def run_anvil() -> tuple[dict[str, int], dict[str, Any]]:
    """The scenario on a fresh anvil; returns (results, network description)."""
    with AnvilNode.start_sync() as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 120}))
        info = w3.provider.make_request("anvil_nodeInfo", [])  # type: ignore[arg-type]
        result = info.get("result") or {}
        network = {
            "node": "anvil",
            "version": w3.client_version,
            "hardfork": result.get("hardFork") if isinstance(result, dict) else None,
            "chain_id": w3.eth.chain_id,
        }
        deployer: LocalAccount = Account.from_key(node.funded_keys[0])
        return Scenario(w3, deployer).run(), network


def run_conflux() -> tuple[dict[str, int], dict[str, Any]]:
    """The scenario on a fresh conflux-rust eSpace dev node."""
    with ConfluxDevNode.start_sync(dev_block_interval_ms=250) as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 120}))
        network = {
            "node": "conflux-rust eSpace dev",
            "version": w3.client_version,
            "chain_id": w3.eth.chain_id,
        }
        deployer: LocalAccount = Account.from_key(node.funded_keys[0])
        return Scenario(w3, deployer).run(), network


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m relayer.bench.gas",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--conflux",
        action="store_true",
        help="measure on a conflux-rust eSpace dev node instead of anvil",
    )
    args = parser.parse_args(argv)
    results, network = run_conflux() if args.conflux else run_anvil()
    print("network: " + json.dumps(network, sort_keys=True))
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
