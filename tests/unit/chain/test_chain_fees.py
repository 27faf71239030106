"""Where a transaction's tip comes from: never ``eth_maxPriorityFeePerGas`` or
``eth_feeHistory`` on a Conflux chain (they hang conflux-rust), with a scripted RPC."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayer.chain.fees import (
    NEVER_ON_CONFLUX,
    ConfiguredTip,
    FeeAboveCap,
    FeePolicy,
    Fees,
    TipFromGasPrice,
    TipFromNode,
    current_fees,
    tip_from_gas_price,
    tip_source,
)
from relayer.chain.kind import CONFLUX_CHAIN_IDS, ChainKind, chain_kind
from relayer.chain.rpc import NO_RETRY, RpcClient
from relayer.chain.submission import InMemoryNonceSource
from relayer.chain.submitter import Submitter, SubmitterConfig
from relayer.keys import signer_from_hex
from relayer.node import Relayer
from relayer.settings import load_settings

GWEI = 10**9
KINDS = [None, ChainKind.ETHEREUM, ChainKind.CONFLUX]
KEY = "0x" + "42" * 32


class ScriptedRpc(RpcClient):
    """Answers fee questions from a script, records every method, and fails the test
    at once if a method that hangs conflux-rust is sent while ``conflux`` is set."""

    def __init__(self, *, conflux: bool, base_fee: int, gas_price: int, node_tip: int) -> None:
        super().__init__("http://scripted.invalid", retry=NO_RETRY)
        self.conflux = conflux
        self.answers: dict[str, Any] = {
            "eth_getBlockByNumber": {
                "number": "0x10",
                "hash": "0x" + "11" * 32,
                "parentHash": "0x" + "22" * 32,
                "timestamp": "0x5",
                "baseFeePerGas": hex(base_fee),
            },
            "eth_gasPrice": hex(gas_price),
            "eth_maxPriorityFeePerGas": hex(node_tip),
        }
        self.methods: list[str] = []

    async def request_once(self, method: str, params: Sequence[Any]) -> Any:
        self.methods.append(method)
        if self.conflux and method in NEVER_ON_CONFLUX:
            pytest.fail(f"{method} sent to a Conflux chain")
        return self.answers[method]


def _fees(rpc: ScriptedRpc, policy: FeePolicy, kind: ChainKind) -> Fees | FeeAboveCap:
    return asyncio.run(current_fees(rpc, policy, kind))


@pytest.mark.parametrize("chain_id", sorted(CONFLUX_CHAIN_IDS))
@pytest.mark.parametrize("declared", KINDS)
def test_chain_kind_known_conflux_ids_are_conflux_whatever_was_declared(
    chain_id: int, declared: ChainKind | None
) -> None:
    assert chain_kind(chain_id, declared) is ChainKind.CONFLUX


def test_chain_kind_other_ids_follow_the_declaration() -> None:
    assert chain_kind(1) is ChainKind.ETHEREUM
    assert chain_kind(31337, ChainKind.ETHEREUM) is ChainKind.ETHEREUM
    assert chain_kind(4242, ChainKind.CONFLUX) is ChainKind.CONFLUX  # a dev node's other id


def test_tip_source_configured_tip_needs_no_rpc_on_either_chain() -> None:
    policy = FeePolicy(max_fee_cap=100 * GWEI, tip=3 * GWEI)
    assert tip_source(ChainKind.CONFLUX, policy) == ConfiguredTip(3 * GWEI)
    assert tip_source(ChainKind.ETHEREUM, policy) == ConfiguredTip(3 * GWEI)


def test_tip_source_unconfigured_tip_is_gas_price_on_conflux_and_node_on_ethereum() -> None:
    policy = FeePolicy(max_fee_cap=100 * GWEI, tip_cap=2 * GWEI)
    assert tip_source(ChainKind.CONFLUX, policy) == TipFromGasPrice(2 * GWEI)
    assert tip_source(ChainKind.ETHEREUM, policy) == TipFromNode(2 * GWEI)


@given(
    gas_price=st.integers(0, 10**15), base_fee=st.integers(0, 10**15), cap=st.integers(0, 10**12)
)
def test_tip_from_gas_price_is_floored_at_zero_and_capped(
    gas_price: int, base_fee: int, cap: int
) -> None:
    tip = tip_from_gas_price(gas_price, base_fee, cap)
    assert 0 <= tip <= cap
    price = max(gas_price, base_fee)
    assert base_fee + tip <= price  # never more than the node's gas price
    assert tip == cap or base_fee + tip == price  # and only the cap makes it less


@pytest.mark.parametrize("chain_id", sorted(CONFLUX_CHAIN_IDS))
@pytest.mark.parametrize("declared", KINDS)
@pytest.mark.parametrize("tip", [None, 3 * GWEI])
def test_current_fees_on_conflux_never_send_the_hanging_methods(
    chain_id: int, declared: ChainKind | None, tip: int | None
) -> None:
    rpc = ScriptedRpc(conflux=True, base_fee=GWEI, gas_price=2 * GWEI, node_tip=7 * GWEI)
    policy = FeePolicy(max_fee_cap=100 * GWEI, tip=tip, tip_cap=5 * GWEI)
    fees = _fees(rpc, policy, chain_kind(chain_id, declared))
    expected_tip = GWEI if tip is None else tip  # gasPrice 2 gwei - base fee 1 gwei
    assert fees == Fees(max_fee=2 * GWEI + expected_tip, max_priority_fee=expected_tip)
    assert not NEVER_ON_CONFLUX & set(rpc.methods)
    gas_price_calls = 1 if tip is None else 0
    assert rpc.methods == ["eth_getBlockByNumber"] + ["eth_gasPrice"] * gas_price_calls


@pytest.mark.parametrize(
    ("gas_price", "tip"),
    [
        (GWEI // 2, 0),  # gasPrice below the base fee: no tip, never negative
        (GWEI, 0),
        (GWEI + 7, 7),
        (40 * GWEI, 2 * GWEI),  # capped at tip_cap
    ],
)
def test_current_fees_on_conflux_derive_the_tip_from_gas_price_minus_base_fee(
    gas_price: int, tip: int
) -> None:
    rpc = ScriptedRpc(conflux=True, base_fee=GWEI, gas_price=gas_price, node_tip=7 * GWEI)
    policy = FeePolicy(max_fee_cap=100 * GWEI, tip_cap=2 * GWEI)
    assert _fees(rpc, policy, ChainKind.CONFLUX) == Fees(2 * GWEI + tip, tip)


def test_current_fees_on_conflux_keep_the_cap() -> None:
    rpc = ScriptedRpc(conflux=True, base_fee=10 * GWEI, gas_price=11 * GWEI, node_tip=0)
    policy = FeePolicy(max_fee_cap=10 * GWEI, tip_cap=2 * GWEI)
    assert _fees(rpc, policy, ChainKind.CONFLUX) == FeeAboveCap(11 * GWEI, 10 * GWEI)


def test_current_fees_on_ethereum_still_ask_the_node_for_its_tip() -> None:
    rpc = ScriptedRpc(conflux=False, base_fee=GWEI, gas_price=9 * GWEI, node_tip=3 * GWEI)
    policy = FeePolicy(max_fee_cap=100 * GWEI, tip_cap=2 * GWEI)
    assert _fees(rpc, policy, ChainKind.ETHEREUM) == Fees(4 * GWEI, 2 * GWEI)
    assert rpc.methods == ["eth_getBlockByNumber", "eth_maxPriorityFeePerGas"]


@pytest.mark.parametrize(("chain_id", "declared"), [(1030, None), (4242, ChainKind.CONFLUX)])
def test_submitter_on_a_conflux_chain_takes_its_fees_from_gas_price(
    chain_id: int, declared: ChainKind | None
) -> None:
    rpc = ScriptedRpc(conflux=True, base_fee=GWEI, gas_price=3 * GWEI, node_tip=7 * GWEI)
    config = SubmitterConfig(chain_id, FeePolicy(max_fee_cap=100 * GWEI), kind=declared)
    submitter = Submitter(rpc, signer_from_hex(KEY), InMemoryNonceSource(), config)
    assert submitter.kind is ChainKind.CONFLUX
    assert asyncio.run(submitter._fees_now()) == Fees(4 * GWEI, 2 * GWEI)
    assert rpc.methods == ["eth_getBlockByNumber", "eth_gasPrice"]


def test_relayer_declares_its_conflux_section_conflux_whatever_the_chain_id(
    tmp_path: Path,
) -> None:
    config = tmp_path / "relayer.toml"
    config.write_text(
        '[validator]\njurisdiction = "HK"\ndev_private_key = "' + KEY + '"\n'
        '[conflux]\nrpc_url = "http://127.0.0.1:8545"\nchain_id = 4242\n'
        'vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3"\n'
        '[ethereum]\nrpc_url = "http://127.0.0.1:8546"\nchain_id = 31337\n'
        'gateway = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"\n'
    )
    settings = load_settings(config)
    relayer = Relayer(settings)
    assert relayer._submitter_config(settings.conflux).kind is ChainKind.CONFLUX
    assert relayer._submitter_config(settings.ethereum).kind is ChainKind.ETHEREUM
