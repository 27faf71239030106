"""Gas used by lock, release and unlock, measured from real receipts.

``python -m relayer.bench.gas`` starts a fresh anvil (``--conflux``: a conflux-rust eSpace dev
node), deploys the bridge, runs the scenario below and prints one JSON object of receipt
``gasUsed`` values on its last line:

- ``lock_erc20``: lock of an ERC-20 the vault already holds (not the first lock).
- ``release_5_of_7_fresh`` / ``release_13_of_19_fresh``: release with a new transfer id to a
  recipient holding none of the mirror, the mirror already having supply.
- ``release_5_of_7_existing``: the same, to a recipient that already holds the mirror.
- ``unlock_5_of_7``: unlock of an ERC-20 to a recipient holding none of it.
- ``release_batch20_5_of_7_per_transfer`` / ``release_batch20_13_of_19_per_transfer`` /
  ``unlock_batch20_5_of_7_per_transfer``: one ``releaseBatch`` (``unlockBatch``) of 20 transfers
  of one token to 20 fresh recipients, total gasUsed / 20.
- ``release_root64_5_of_7_per_transfer`` / ``release_root64_13_of_19_per_transfer`` /
  ``unlock_root64_5_of_7_per_transfer``: 64 transfers of one token to 64 fresh recipients under
  one committed root: ``commitRoot`` (the quorum signs ``ReleaseRoot`` once) plus one
  ``releaseBatchWithProof`` (``unlockBatchWithProof``) with a multiproof of all 64 leaves,
  total gasUsed / 64.
- ``release_with_proof_5_of_7_fresh``: one ``releaseWithProof`` (a leaf of a committed root of
  64, its 6-hash proof) to a fresh recipient.
- ``execute_delayed``: ``executeDelayed`` of a release above the large-transfer threshold.
- ``cancel_5_of_7``: veto of a delayed release by a blocking minority (3 of 7).
- ``refund_5_of_7``: refund of a lock to its sender, signed by a quorum of 5 of 7.
- ``lock_native`` and ``burn`` for reference.

Every delivered token has a governor (bucket and threshold) configured, and every release
carries an id bound to the registered remote contract, as in production.

Both bridge contracts live on the one chain being measured; the peer chain ids registered on
each side are stand-ins (the contracts only check registration, not reachability).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from relayer.chain import transactions
from relayer.devnet import deploy, signing
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.domain.digest import release_struct_hash
from relayer.domain.merkle import build_tree, multiproof_of, proof_of, root_of
from relayer.domain.types import Address, Hash32, Release

PEER_ETHEREUM = 1  # stand-in id of the gateway's chain, registered on the vault
PEER_CONFLUX = 1030  # stand-in id of the vault's chain, registered on the gateways
JURISDICTIONS = ("HK", "SG", "CH", "US", "DE")


def validator(index: int) -> LocalAccount:
    """Deterministic validator key ``index``."""
    account: LocalAccount = Account.from_key(keccak(f"bench-validator-{index}".encode()))
    return account


def make_set(
    size: int, min_jurisdictions: int
) -> tuple[deploy.ValidatorSetSpec, list[LocalAccount]]:
    """A set of ``size`` validators; the signers are the first ``threshold`` members by address."""
    accounts = [validator(i) for i in range(size)]
    codes = [JURISDICTIONS[i % len(JURISDICTIONS)] for i in range(size)]
    spec = deploy.ValidatorSetSpec.from_accounts(
        accounts, codes, min_jurisdictions=min_jurisdictions
    )
    by_address: dict[str, LocalAccount] = {a.address: a for a in accounts}
    signers = [by_address[m] for m in spec.members[: spec.threshold]]
    return spec, signers


def _address(text: str) -> Address:
    return Address(bytes.fromhex(text[2:]))


GOVERNOR = (10**15, 10**9, 10**13)  # capacity, refill per second, large-transfer threshold
STAND_IN_GATEWAY = "0x" + "e7" * 20  # the vault's peer on Conflux runs (no gateway there)
DELAY_SECONDS = 2  # short, so the dev nodes (no time travel on Conflux) reach executableAt


class Scenario:
    """Deploys both sides on one chain and measures each operation once."""

    def __init__(self, w3: Web3, deployer: LocalAccount, *, can_mine: bool, gateways: bool) -> None:
        self.w3 = w3
        self.can_mine = can_mine
        self.gateways = gateways
        self.me = deployer
        self.chain_id = w3.eth.chain_id
        self._nonces: dict[str, int] = {}
        self._recipients = 0

    def _bound(self, src_chain: int, remote: str, executor: str) -> tuple[Hash32, int]:
        """A fresh (transfer id, nonce) as the remote contract would issue it."""
        nonce = self._nonces.get(executor, 0) + 1
        self._nonces[executor] = nonce
        return Hash32(signing.transfer_id(src_chain, remote, nonce)), nonce

    def fresh(self) -> str:
        """An address that holds nothing yet."""
        self._recipients += 1
        account: LocalAccount = Account.from_key(keccak(f"bench-fresh-{self._recipients}".encode()))
        return account.address

    def _signed(
        self,
        bridge: Contract,
        remote: str,
        src_chain: int,
        signers: list[LocalAccount],
        token: str,
        recipient: str,
        amount: int,
    ) -> tuple[tuple[bytes, int, int, str, str, int], bytes]:
        tid, nonce = self._bound(src_chain, remote, bridge.address)
        rel = Release(tid, src_chain, nonce, _address(token), _address(recipient), amount)
        return signing.release_args(rel), signing.sign_release(
            rel, self.chain_id, bridge.address, signers
        )

    def _root(
        self,
        bridge: Contract,
        remote: str,
        src_chain: int,
        signers: list[LocalAccount],
        token: str,
        count: int,
    ) -> tuple[int, Any, list[tuple[bytes, int, int, str, str, int]], Any]:
        """Commits a root over ``count`` fresh releases; (commit gas, batch call, args, tree)."""
        releases = []
        for _ in range(count):
            tid, nonce = self._bound(src_chain, remote, bridge.address)
            releases.append(
                Release(tid, src_chain, nonce, _address(token), _address(self.fresh()), 10**6)
            )
        tree = build_tree([release_struct_hash(r) for r in releases])
        root = root_of(tree)
        first, last = releases[0].nonce, releases[-1].nonce
        sigs = signing.sign_bundle(
            signing.release_root_typed_data(
                root, src_chain, first, last, self.chain_id, bridge.address
            ),
            signers,
        )
        commit = self._gas(bridge.functions.commitRoot(root, src_chain, first, last, sigs))
        multi = multiproof_of(tree, range(count))
        args = [signing.release_args(r) for r in releases]
        name = "unlockBatchWithProof" if bridge is self.vault else "releaseBatchWithProof"
        batch = getattr(bridge.functions, name)(root, args, list(multi.proof), list(multi.flags))
        return commit, batch, args, tree

    def _gas(self, call: Any) -> int:
        # the relayer's margin over eth_estimateGas (SubmitterConfig.gas_margin)
        limit = int(call.estimate_gas({"from": self.me.address}) * 1.25)
        return int(transactions.send(self.w3, self.me, call, gas=limit)["gasUsed"])

    def _release(
        self, gateway: Contract, signers: list[LocalAccount], mirror: Contract, to: str, amount: int
    ) -> int:
        args, sigs = self._signed(
            gateway, self.vault.address, PEER_CONFLUX, signers, mirror.address, to, amount
        )
        return self._gas(gateway.functions.release(args, sigs))

    def _gateway(
        self, size: int, min_jurisdictions: int, token: str
    ) -> tuple[Contract, Contract, list[LocalAccount]]:
        spec, signers = make_set(size, min_jurisdictions)
        gateway = deploy.deploy_gateway(self.w3, self.me, self.me.address, spec)
        deploy.register_chain(self.w3, self.me, gateway, PEER_CONFLUX, self.vault.address)
        mirror = deploy.register_gateway_token(
            self.w3, self.me, gateway, PEER_CONFLUX, token, "Bridged USDT", "USDT", 6
        )
        deploy.set_governor(self.w3, self.me, gateway, mirror.address, *GOVERNOR)
        self._short_delay(gateway)
        return gateway, mirror, signers

    def _short_delay(self, bridge: Contract) -> None:
        # shortening waits for the admin delay, which is 0 here: schedule, then apply
        deploy.set_delay(self.w3, self.me, bridge, DELAY_SECONDS)
        transactions.send(
            self.w3, self.me, bridge.functions.applyParameter(b"delay".ljust(32, b"\0"))
        )

    def _wait_past(self, timestamp: int) -> None:
        """Until the head is past ``timestamp``: anvil mines on request, Conflux produces blocks."""
        while int(self.w3.eth.get_block("latest")["timestamp"]) <= timestamp:
            if self.can_mine:
                self.w3.provider.make_request("evm_increaseTime", [DELAY_SECONDS])  # type: ignore[arg-type]
                self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            else:
                time.sleep(0.25)

    def _gateway_side(
        self,
        results: dict[str, int],
        gateway7: Contract,
        mirror7: Contract,
        signers7: list[LocalAccount],
        gateway19: Contract,
        mirror19: Contract,
        signers19: list[LocalAccount],
    ) -> None:
        """Releases, batches, burn, a delayed release and a veto on the gateways."""
        w3, me, vault = self.w3, self.me, self.vault
        holder = Account.from_key(keccak(b"bench-holder")).address
        # releases: prime supply (and the holder's balance), then measure
        self._release(gateway7, signers7, mirror7, holder, 10**6)
        results["release_5_of_7_fresh"] = self._release(
            gateway7, signers7, mirror7, self.fresh(), 10**6
        )
        results["release_5_of_7_existing"] = self._release(
            gateway7, signers7, mirror7, holder, 10**6
        )
        self._release(gateway19, signers19, mirror19, holder, 10**6)
        results["release_13_of_19_fresh"] = self._release(
            gateway19, signers19, mirror19, self.fresh(), 10**6
        )
        for name, gateway, signers, mirror in (
            ("release_batch20_5_of_7_per_transfer", gateway7, signers7, mirror7),
            ("release_batch20_13_of_19_per_transfer", gateway19, signers19, mirror19),
        ):
            items = [
                self._signed(
                    gateway,
                    vault.address,
                    PEER_CONFLUX,
                    signers,
                    mirror.address,
                    self.fresh(),
                    10**6,
                )
                for _ in range(20)
            ]
            call = gateway.functions.releaseBatch([i[0] for i in items], [i[1] for i in items])
            results[name] = self._gas(call) // 20

        for name, gateway, signers in (
            ("release_root64_5_of_7_per_transfer", gateway7, signers7),
            ("release_root64_13_of_19_per_transfer", gateway19, signers19),
        ):
            mirror = mirror7 if gateway is gateway7 else mirror19
            commit, batch, _, _ = self._root(
                gateway, vault.address, PEER_CONFLUX, signers, mirror.address, 64
            )
            results[name] = (commit + self._gas(batch)) // 64
        # one leaf of another committed root, executed on its own with its proof
        _, _, leaves, tree = self._root(
            gateway7, vault.address, PEER_CONFLUX, signers7, mirror7.address, 64
        )
        proof = list(proof_of(tree, 17))
        results["release_with_proof_5_of_7_fresh"] = self._gas(
            gateway7.functions.releaseWithProof(leaves[17], root_of(tree), proof)
        )

        # burn (the deployer gets mirrors first), then unlock to a fresh recipient
        self._release(gateway7, signers7, mirror7, me.address, 10**6)
        results["burn"] = self._gas(
            gateway7.functions.burn(mirror7.address, 10**5, holder, PEER_CONFLUX)
        )

        # a large release is delayed, then executed by anyone once due
        large = GOVERNOR[2]
        args, sigs = self._signed(
            gateway7, vault.address, PEER_CONFLUX, signers7, mirror7.address, holder, large
        )
        transactions.send(w3, me, gateway7.functions.release(args, sigs))
        _, _, _, executable_at = gateway7.functions.delayedOf(args[0]).call()
        self._wait_past(int(executable_at))
        results["execute_delayed"] = self._gas(gateway7.functions.executeDelayed(args[0]))

        # a blocking minority (7 - 5 + 1 = 3) vetoes another delayed release
        args, sigs = self._signed(
            gateway7, vault.address, PEER_CONFLUX, signers7, mirror7.address, holder, large
        )
        transactions.send(w3, me, gateway7.functions.release(args, sigs))
        minority = signing.sign_bundle(
            signing.cancel_typed_data(args[0], self.chain_id, gateway7.address), signers7[:3]
        )
        results["cancel_5_of_7"] = self._gas(gateway7.functions.cancel(args[0], minority))

    def run(self) -> dict[str, int]:
        w3, me = self.w3, self.me
        holder = Account.from_key(keccak(b"bench-holder")).address
        results: dict[str, int] = {}

        spec7, signers7 = make_set(7, 2)
        self.vault = vault = deploy.deploy_vault(w3, me, me.address, spec7)
        token = deploy.deploy_test_token(w3, me, "Tether USD", "USDT", 6)
        if self.gateways:
            gateway7, mirror7, _ = self._gateway(7, 2, token.address)
            gateway19, mirror19, signers19 = self._gateway(19, 3, token.address)
            remote: str = gateway7.address
        else:
            remote = STAND_IN_GATEWAY
        deploy.register_chain(w3, me, vault, PEER_ETHEREUM, remote)
        deploy.register_vault_token(w3, me, vault, token.address)
        deploy.register_vault_token(w3, me, vault, "0x" + "00" * 20)
        deploy.set_governor(w3, me, vault, token.address, *GOVERNOR)
        self._short_delay(vault)

        # lock: the first one makes the vault a holder, the second is measured
        transactions.send(w3, me, token.functions.mint(me.address, 10**15))
        transactions.send(w3, me, token.functions.approve(vault.address, 2**256 - 1))
        transactions.send(w3, me, vault.functions.lock(token.address, 10**9, holder, PEER_ETHEREUM))
        receipt = transactions.send(
            w3, me, vault.functions.lock(token.address, 10**9, holder, PEER_ETHEREUM)
        )
        results["lock_erc20"] = int(receipt["gasUsed"])
        receipt = transactions.send(
            w3, me, vault.functions.lockNative(holder, PEER_ETHEREUM), value=10**15
        )
        results["lock_native"] = int(receipt["gasUsed"])

        if self.gateways:
            self._gateway_side(results, gateway7, mirror7, signers7, gateway19, mirror19, signers19)
        vault_large = GOVERNOR[2]
        transactions.send(
            w3, me, vault.functions.lock(token.address, 3 * vault_large, holder, PEER_ETHEREUM)
        )

        def unlock_args(
            to: str, amount: int = 10**6
        ) -> tuple[tuple[bytes, int, int, str, str, int], bytes]:
            return self._signed(vault, remote, PEER_ETHEREUM, signers7, token.address, to, amount)

        args, sigs = unlock_args(self.fresh())
        results["unlock_5_of_7"] = self._gas(vault.functions.unlock(args, sigs))
        items = [unlock_args(self.fresh()) for _ in range(20)]
        call = vault.functions.unlockBatch([i[0] for i in items], [i[1] for i in items])
        results["unlock_batch20_5_of_7_per_transfer"] = self._gas(call) // 20
        commit, batch, _, _ = self._root(vault, remote, PEER_ETHEREUM, signers7, token.address, 64)
        results["unlock_root64_5_of_7_per_transfer"] = (commit + self._gas(batch)) // 64

        # a large unlock is delayed (its amount reserved), then executed once due; another is vetoed
        args, sigs = unlock_args(self.fresh(), vault_large)
        transactions.send(w3, me, vault.functions.unlock(args, sigs))
        _, _, _, executable_at = vault.functions.delayedOf(args[0]).call()
        self._wait_past(int(executable_at))
        results["execute_delayed_unlock"] = self._gas(vault.functions.executeDelayed(args[0]))
        args, sigs = unlock_args(self.fresh(), vault_large)
        transactions.send(w3, me, vault.functions.unlock(args, sigs))
        minority = signing.sign_bundle(
            signing.cancel_typed_data(args[0], self.chain_id, vault.address), signers7[:3]
        )
        results["cancel_5_of_7_unlock"] = self._gas(vault.functions.cancel(args[0], minority))

        # a lock whose release the destination cancelled goes back to its sender
        receipt = transactions.send(
            w3, me, vault.functions.lock(token.address, 10**6, holder, PEER_ETHEREUM)
        )
        nonce = int(vault.functions.nextNonce().call()) - 1
        tid = signing.transfer_id(self.chain_id, vault.address, nonce)
        refund_sigs = signing.sign_bundle(
            signing.refund_typed_data(
                tid, PEER_ETHEREUM, token.address, me.address, 10**6, self.chain_id, vault.address
            ),
            signers7,
        )
        refund = (tid, nonce, PEER_ETHEREUM, token.address, me.address, 10**6)
        results["refund_5_of_7"] = self._gas(vault.functions.refund(refund, refund_sigs))
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
        return Scenario(w3, deployer, can_mine=True, gateways=True).run(), network


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
        return Scenario(w3, deployer, can_mine=False, gateways=False).run(), network


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
