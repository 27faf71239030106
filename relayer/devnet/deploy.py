"""Deploys the bridge contracts on local chains for the devnet, the benchmarks and the tests
(synchronous web3, transactions through relayer.chain.transactions).

Deploys the vault / gateway (each with its admin module) with a validator set, registers
chains and tokens on both sides, sets governors and delays, and deploys the test tokens.
The relayer never deploys anything: its layers (chain, service, store, gossip, domain, api,
node.py) never import relayer.devnet (tests/unit/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from relayer.chain.artifacts import load_artifact
from relayer.chain.transactions import contract_at, send


class DeployError(RuntimeError):
    """A deployment returned no contract address."""


@dataclass(frozen=True)
class ValidatorSetSpec:
    """A validator set as the contracts take it: members ascending, codes aligned."""

    members: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    threshold: int
    min_jurisdictions: int

    @classmethod
    def from_accounts(
        cls,
        accounts: Iterable[LocalAccount],
        jurisdictions: Sequence[str],
        threshold: int | None = None,
        min_jurisdictions: int = 1,
    ) -> ValidatorSetSpec:
        """Sorts (account, jurisdiction) pairs by address; threshold defaults to floor(2n/3)+1."""
        addresses = [a.address for a in accounts]
        return cls.from_addresses(addresses, jurisdictions, threshold, min_jurisdictions)

    @classmethod
    def from_addresses(
        cls,
        addresses: Iterable[str],
        jurisdictions: Sequence[str],
        threshold: int | None = None,
        min_jurisdictions: int = 1,
    ) -> ValidatorSetSpec:
        """As :meth:`from_accounts`, for members known by address only (keys in an HSM)."""
        pairs = sorted(zip(addresses, jurisdictions, strict=True), key=lambda p: int(p[0], 16))
        n = len(pairs)
        return cls(
            members=tuple(to_checksum_address(a) for a, _ in pairs),
            jurisdictions=tuple(j for _, j in pairs),
            threshold=threshold if threshold is not None else (2 * n) // 3 + 1,
            min_jurisdictions=min_jurisdictions,
        )

    def constructor_args(self) -> tuple[list[str], list[bytes], int, int]:
        """(members, jurisdictions as bytes2, threshold, minJurisdictions)."""
        return (
            list(self.members),
            [j.encode("ascii") for j in self.jurisdictions],
            self.threshold,
            self.min_jurisdictions,
        )


def deploy(w3: Web3, account: LocalAccount, name: str, *args: Any) -> Contract:
    """Deploys the shipped artifact ``name`` with constructor ``args``."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send(w3, account, factory.constructor(*args))
    address = receipt["contractAddress"]
    if address is None:
        raise DeployError(f"{name} deployment returned no contract address")
    return contract_at(w3, name, address)


def deploy_vault(
    w3: Web3, account: LocalAccount, admin: str, vset: ValidatorSetSpec, admin_delay: int = 0
) -> Contract:
    """Deploys a BridgeVault (Conflux eSpace side) with validator set 1.

    ``admin_delay`` (seconds) is the wait of an admin transfer and of every loosening change
    (governor, delay, grace period); 0 suits a devnet only.
    """
    module = deploy_admin_module(w3, account)
    return deploy(
        w3, account, "BridgeVault", admin, admin_delay, module.address, *vset.constructor_args()
    )


def deploy_gateway(
    w3: Web3, account: LocalAccount, admin: str, vset: ValidatorSetSpec, admin_delay: int = 0
) -> Contract:
    """Deploys a BridgeGateway (Ethereum side) with validator set 1.

    ``admin_delay``: as for deploy_vault.
    """
    module = deploy_admin_module(w3, account)
    return deploy(
        w3, account, "BridgeGateway", admin, admin_delay, module.address, *vset.constructor_args()
    )


def deploy_admin_module(w3: Web3, account: LocalAccount) -> Contract:
    """Deploys a BridgeAdmin, the governance module a vault or gateway runs by delegatecall.

    A separate transaction: the vault with the module inside would need more than the
    15,000,000 gas a Conflux transaction may use.
    """
    return deploy(w3, account, "BridgeAdmin")


def set_governor(
    w3: Web3,
    admin: LocalAccount,
    bridge: Contract,
    token: str,
    capacity: int,
    refill_per_second: int,
    large_transfer_threshold: int,
) -> TxReceipt:
    """Sets the governor of ``token``, the token ``bridge`` delivers (capacity 0 = no limit)."""
    return send(
        w3,
        admin,
        bridge.functions.setGovernor(
            to_checksum_address(token), capacity, refill_per_second, large_transfer_threshold
        ),
    )


def set_delay(w3: Web3, admin: LocalAccount, bridge: Contract, seconds: int) -> TxReceipt:
    """Sets the delay of large or over-limit transfers (shorter: after the admin delay)."""
    return send(w3, admin, bridge.functions.setDelay(seconds))


def configure_governor(
    w3: Web3,
    admin: LocalAccount,
    bridge: Contract,
    token: str,
    capacity: int,
    refill_per_second: int,
    large_transfer_threshold: int,
) -> bool:
    """``set_governor``, then ``applyGovernor`` if the change was a loosening already due
    (an admin delay of 0, as on a devnet). True when the governor is in force now."""
    set_governor(w3, admin, bridge, token, capacity, refill_per_second, large_transfer_threshold)
    checksummed = to_checksum_address(token)
    effective_at = int(bridge.functions.pendingGovernorOf(checksummed).call()[3])
    if effective_at == 0:
        return True
    if effective_at > int(w3.eth.get_block("latest")["timestamp"]):
        return False
    send(w3, admin, bridge.functions.applyGovernor(checksummed))
    return True


def configure_delay(w3: Web3, admin: LocalAccount, bridge: Contract, seconds: int) -> bool:
    """``set_delay``, then ``applyParameter("delay")`` if a shortening is already due.
    True when ``delay()`` is ``seconds`` now."""
    set_delay(w3, admin, bridge, seconds)
    if int(bridge.functions.delay().call()) == seconds:
        return True
    parameter = bridge.functions.DELAY_PARAMETER().call()
    effective_at = int(bridge.functions.pendingParameterOf(parameter).call()[1])
    if effective_at == 0 or effective_at > int(w3.eth.get_block("latest")["timestamp"]):
        return False
    send(w3, admin, bridge.functions.applyParameter(parameter))
    return int(bridge.functions.delay().call()) == seconds


def deploy_test_token(
    w3: Web3, account: LocalAccount, name: str, symbol: str, decimals: int
) -> Contract:
    """Deploys a TestToken (plain ERC-20, anyone can mint)."""
    return deploy(w3, account, "TestToken", name, symbol, decimals)


def deploy_blacklist_token(
    w3: Web3, account: LocalAccount, name: str, symbol: str, decimals: int, issuer: str
) -> Contract:
    """Deploys a BlacklistToken (a regulated stablecoin's stand-in): ``issuer`` blacklists."""
    return deploy(w3, account, "BlacklistToken", name, symbol, decimals, issuer)


def deploy_fee_token(
    w3: Web3, account: LocalAccount, name: str, symbol: str, decimals: int, fee_bps: int
) -> Contract:
    """Deploys a FeeOnTransferToken that burns ``fee_bps`` / 10,000 of every transfer."""
    return deploy(w3, account, "FeeOnTransferToken", name, symbol, decimals, fee_bps)


def register_chain(
    w3: Web3, admin: LocalAccount, bridge: Contract, chain_id: int, remote: str
) -> TxReceipt:
    """Registers the peer chain ``chain_id`` and its bridge contract on vault or gateway."""
    return send(
        w3, admin, bridge.functions.registerChain(chain_id, to_checksum_address(remote), False)
    )


def register_vault_token(w3: Web3, admin: LocalAccount, vault: Contract, token: str) -> TxReceipt:
    """Allows locking ``token`` on the vault (zero address = native CFX)."""
    return send(w3, admin, vault.functions.registerToken(to_checksum_address(token)))


def register_gateway_token(
    w3: Web3,
    admin: LocalAccount,
    gateway: Contract,
    src_chain_id: int,
    src_token: str,
    name: str,
    symbol: str,
    decimals: int,
    *,
    issuer: str | None = None,
) -> Contract:
    """Deploys the mirror of ``src_token`` through the gateway; returns the MirroredToken.

    With ``issuer`` the mirror is registered by ``registerTokenWithIssuer``: that account may
    freeze and unfreeze its holders (``MirroredToken.freeze``). Without it, by ``registerToken``
    (no issuer: nobody can freeze).
    """
    src = to_checksum_address(src_token)
    if issuer is None:
        call = gateway.functions.registerToken(src_chain_id, src, name, symbol, decimals)
    else:
        call = gateway.functions.registerTokenWithIssuer(
            src_chain_id, src, name, symbol, decimals, to_checksum_address(issuer)
        )
    send(w3, admin, call)
    mirror = gateway.functions.mirrorOf(src_chain_id, src).call()
    return contract_at(w3, "MirroredToken", mirror)


def connect_bridges(
    w3_vault: Web3,
    vault_admin: LocalAccount,
    vault: Contract,
    vault_chain_id: int,
    w3_gateway: Web3,
    gateway_admin: LocalAccount,
    gateway: Contract,
    gateway_chain_id: int,
) -> None:
    """Registers each side as the other's peer chain."""
    register_chain(w3_vault, vault_admin, vault, gateway_chain_id, gateway.address)
    register_chain(w3_gateway, gateway_admin, gateway, vault_chain_id, vault.address)
