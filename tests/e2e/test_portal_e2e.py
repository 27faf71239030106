"""The portal on the devnet (relayer/devnet/portal.py): a real lock is followed to its
release through ``/v1/transfers/{source tx hash}``, as the set of five validators sees
it, and shows in the recipient's history (``/v1/transfers?address=``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from bridge_client import execution_logs, lock, wait_until
from eth_account import Account
from web3 import Web3

from relayer.devnet.portal import start_portal
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
LOCKED = "Locked(bytes32,uint64,address,address,address,uint256,uint64)"


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def source_tx(bridge: Stack, transfer_id: bytes) -> str:
    """The hash of the transaction that locked ``transfer_id``, read from the vault's log."""
    assert bridge.w3c and bridge.vault
    logs = bridge.w3c.eth.get_logs(
        {
            "address": bridge.vault.address,
            "fromBlock": max(0, bridge.w3c.eth.block_number - 900),
            "toBlock": "latest",
            "topics": [Web3.keccak(text=LOCKED).to_0x_hex(), "0x" + transfer_id.hex()],
        }
    )
    assert len(logs) == 1
    return "0x" + bytes(logs[0]["transactionHash"]).hex()


def test_the_portal_follows_a_lock_to_its_release(bridge: Stack) -> None:
    portal = start_portal(bridge)
    try:
        status, config = get(f"{portal.url}/v1/config")
        assert status == 200
        axhkd = next(t for t in config["tokens"] if t["symbol"] == "AxHKD")
        info = next(t for t in bridge.tokens if t.symbol == "AxHKD")
        assert axhkd["decimals"] == 6 and info.conflux in axhkd["addresses"].values()
        assert len(config["validators"]) == len(bridge.validators)

        recipient = Account.create().address
        sent = lock(bridge, bridge.users[1], "AxHKD", 1_250_000, recipient)
        tx_hash = source_tx(bridge, sent.transfer_id)
        seen: list[str] = []

        def released() -> dict[str, Any] | None:
            code, shown = get(f"{portal.url}/v1/transfers/{tx_hash}")
            if code != 200:
                return None
            if not seen or seen[-1] != shown["state"]:
                seen.append(shown["state"])
            return shown if shown["state"] == "released" else None

        shown = wait_until(released, timeout=240)
        assert shown["transfer_id"] == "0x" + sent.transfer_id.hex()
        assert shown["source_tx"] == tx_hash
        assert (shown["amount"], shown["recipient"]) == (str(sent.amount), recipient)
        (log,) = execution_logs(bridge, sent)
        assert shown["release"]["tx"] == "0x" + bytes(log["transactionHash"]).hex()
        assert shown["release"]["chain_id"] == bridge.anvil.chain_id  # type: ignore[union-attr]
        quorum = shown["quorum"]
        assert quorum["reached"] and quorum["threshold"] == bridge.vset.threshold
        assert shown["attestations"]["count"] >= bridge.vset.threshold
        assert len(shown["attestations"]["by_jurisdiction"]) >= bridge.vset.min_jurisdictions
        found = [v for v in shown["validators"] if v["answer"] == "found"]
        assert len(found) >= bridge.vset.threshold
        assert shown["eta"]["basis"] == "released: done"
        assert seen[-1] == "released"

        status, history = get(f"{portal.url}/v1/transfers?address={recipient}&limit=5")
        assert status == 200
        assert [(t["transfer_id"], t["state"]) for t in history["transfers"]] == [
            ("0x" + sent.transfer_id.hex(), "released")
        ]
        status, bad = get(f"{portal.url}/v1/transfers?address=0x{recipient[2:].swapcase()}")
        assert status == 400 and "checksum" in bad["error"]
    finally:
        portal.stop()
