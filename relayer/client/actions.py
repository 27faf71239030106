"""A user's side of the bridge: lock on Conflux or burn on Ethereum, from a manifest.

The manifest (written by ``relayer devnet``, or by hand for another network) names the
RPC URLs, the vault and gateway, the tokens and the validators' API addresses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_checksum_address, to_checksum_address
from web3 import Web3

from relayer.chain import transactions
from relayer.errors import ConfigError

ZERO = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class Manifest:
    """The parts of a devnet manifest a user needs."""

    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw = json.loads(path.read_text())
            shape_ok = all(
                isinstance(raw[section][name], str)
                for section, name in (("conflux", "vault"), ("ethereum", "gateway"))
            )
        except FileNotFoundError as err:
            raise ConfigError(f"--manifest: {path} not found (is `make devnet` running?)") from err
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"--manifest: {path} is not a bridge manifest") from err
        if not shape_ok:
            raise ConfigError(f"--manifest: {path} is not a bridge manifest")
        return cls(raw)

    @property
    def api_urls(self) -> list[str]:
        return [str(v["http_url"]) for v in self.raw.get("validators", [])]

    def token(self, symbol_or_address: str) -> dict[str, Any]:
        """A token by symbol (case-insensitive) or by its address on either chain."""
        wanted = symbol_or_address.lower()
        for token in self.raw.get("tokens", []):
            names = {
                str(token["symbol"]).lower(),
                "b" + str(token["symbol"]).lower(),  # its mirror's symbol on Ethereum
                token["conflux"].lower(),
                token["ethereum"].lower(),
            }
            if wanted in names:
                return dict(token)
        known = ", ".join(t["symbol"] for t in self.raw.get("tokens", []))
        raise ConfigError(f"--token: unknown token {symbol_or_address!r} (known: {known})")


def parse_amount(text: str, decimals: int) -> int:
    """``"12.5"`` with 6 decimals -> 12500000; refuses more decimals than the token has."""
    try:
        value = Decimal(text)
    except InvalidOperation as err:
        raise ConfigError(f"--amount: not a number: {text!r}") from err
    units = value * (Decimal(10) ** decimals)
    if value <= 0 or units != units.to_integral_value():
        raise ConfigError(f"--amount: must be positive with at most {decimals} decimals: {text}")
    return int(units)


def parse_recipient(text: str) -> str:
    if not Web3.is_address(text):
        raise ConfigError(f"--to: not an address: {text!r}")
    if text != text.lower() and not is_checksum_address(text):
        raise ConfigError(f"--to: bad EIP-55 checksum: {text!r}")
    return to_checksum_address(text)


def account_from_key(key: str) -> LocalAccount:
    try:
        account: LocalAccount = Account.from_key(key)
    except (ValueError, TypeError):
        # `from None`: the underlying message may quote the key.
        raise ConfigError("--from-key: not a private key") from None
    return account


@dataclass(frozen=True)
class Submitted:
    transfer_id: str
    tx_hash: str
    amount: int  # what the source contract credited
    direction: str


def lock(
    manifest: Manifest, account: LocalAccount, token: dict[str, Any], amount: int, recipient: str
) -> Submitted:
    """Approve (if needed) and lock on the Conflux vault."""
    m = manifest.raw
    w3 = Web3(Web3.HTTPProvider(m["conflux"]["rpc_url"], request_kwargs={"timeout": 30}))
    vault = transactions.contract_at(w3, "BridgeVault", m["conflux"]["vault"])
    dst = int(m["ethereum"]["chain_id"])
    if token["conflux"] == ZERO:
        receipt = transactions.send(
            w3, account, vault.functions.lockNative(recipient, dst), value=amount
        )
    else:
        erc20 = transactions.contract_at(w3, "TestToken", token["conflux"])
        if erc20.functions.allowance(account.address, vault.address).call() < amount:
            transactions.send(w3, account, erc20.functions.approve(vault.address, amount))
        receipt = transactions.send(
            w3, account, vault.functions.lock(token["conflux"], amount, recipient, dst)
        )
    (event,) = vault.events.Locked().process_receipt(receipt, errors=_discard())
    return Submitted(
        "0x" + bytes(event["args"]["transferId"]).hex(),
        "0x" + bytes(receipt["transactionHash"]).hex(),
        int(event["args"]["amount"]),
        "to_ethereum",
    )


def burn(
    manifest: Manifest, account: LocalAccount, token: dict[str, Any], amount: int, recipient: str
) -> Submitted:
    """Burn the mirror on the Ethereum gateway to unlock on Conflux."""
    m = manifest.raw
    w3 = Web3(Web3.HTTPProvider(m["ethereum"]["rpc_url"], request_kwargs={"timeout": 30}))
    gateway = transactions.contract_at(w3, "BridgeGateway", m["ethereum"]["gateway"])
    dst = int(m["conflux"]["chain_id"])
    receipt = transactions.send(
        w3, account, gateway.functions.burn(token["ethereum"], amount, recipient, dst)
    )
    (event,) = gateway.events.Burned().process_receipt(receipt, errors=_discard())
    return Submitted(
        "0x" + bytes(event["args"]["transferId"]).hex(),
        "0x" + bytes(receipt["transactionHash"]).hex(),
        int(event["args"]["amount"]),
        "to_conflux",
    )


def balances(manifest: Manifest, token: dict[str, Any], holder: str) -> dict[str, int]:
    """The holder's balance of ``token`` on both chains (native CFX via eth_getBalance)."""
    m = manifest.raw
    w3c = Web3(Web3.HTTPProvider(m["conflux"]["rpc_url"], request_kwargs={"timeout": 30}))
    w3e = Web3(Web3.HTTPProvider(m["ethereum"]["rpc_url"], request_kwargs={"timeout": 30}))
    if token["conflux"] == ZERO:
        on_conflux = int(w3c.eth.get_balance(to_checksum_address(holder)))
    else:
        on_conflux = int(
            transactions.contract_at(w3c, "TestToken", token["conflux"])
            .functions.balanceOf(holder)
            .call()
        )
    mirror = transactions.contract_at(w3e, "MirroredToken", token["ethereum"])
    return {"conflux": on_conflux, "ethereum": int(mirror.functions.balanceOf(holder).call())}


def _discard() -> Any:
    from web3.logs import DISCARD

    return DISCARD
