"""The submitter on anvil (and on conflux: a release, and fees without the fee RPCs
that hang conflux-rust): every typed outcome, for real."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from chain_helpers import TEST_RETRY, automine_off
from eth_account import Account
from eth_utils.crypto import keccak

from relayer.chain.bridge import IS_PROCESSED_SELECTOR, BridgeContract, Progress, Unanswered
from relayer.chain.confirmation import ConfirmationRule
from relayer.chain.fees import NEVER_ON_CONFLUX as NEVER
from relayer.chain.fees import FeeAboveCap, FeePolicy, tip_from_gas_price
from relayer.chain.kind import ChainKind
from relayer.chain.rpc import RpcClient
from relayer.chain.submission import (
    AlreadyProcessed,
    AwaitingFinality,
    InMemoryNonceSource,
    Mined,
    OutOfFunds,
    SubmitRequest,
)
from relayer.chain.submitter import Submitter, SubmitterConfig
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.devnet.emitter import DevSender
from relayer.devnet.faultproxy import Fault, FaultProxy
from relayer.devnet.mockbridge import MOCK_BRIDGE_INITCODE, release_calldata
from relayer.devnet.waiting import eventually
from relayer.domain.types import Address, Hash32
from relayer.errors import RpcResponseError
from relayer.keys import signer_from_hex

pytestmark = pytest.mark.asyncio(loop_scope="session")
GWEI = 10**9


async def _deploy(
    rpc: RpcClient, sender: DevSender, initcode: bytes = MOCK_BRIDGE_INITCODE
) -> Address:
    from eth_utils.address import to_canonical_address

    tx_hash = await sender.send(None, initcode)

    async def receipt() -> dict[str, str] | None:
        return await rpc.request("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])  # type: ignore[no-any-return]

    raw = await eventually(receipt, 30, 0.1)
    return Address(to_canonical_address(raw["contractAddress"]))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bridge(anvil_node: AnvilNode, anvil_rpc: RpcClient) -> Address:
    return await _deploy(anvil_rpc, DevSender(anvil_rpc, anvil_node.funded_keys[9], 31337))


def _request(bridge: Address, label: str) -> SubmitRequest:
    transfer_id = Hash32(keccak(text=label))
    return SubmitRequest(transfer_id, bridge, release_calldata(transfer_id))


def _config(**overrides: object) -> SubmitterConfig:
    base: dict[str, object] = {
        "chain_id": 31337,
        "fees": FeePolicy(max_fee_cap=200 * GWEI, tip=GWEI),
        "poll_interval": 0.05,
        "replace_after": 30.0,  # no replacement unless a test asks for it (a slow block)
        "deadline": 20.0,
    }
    base.update(overrides)
    return SubmitterConfig(**base)  # type: ignore[arg-type]


async def test_mined_with_confirmations_then_already_processed(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, bridge: Address
) -> None:
    submitter = Submitter(
        anvil_rpc,
        signer_from_hex(anvil_node.funded_keys[0]),
        InMemoryNonceSource(),
        _config(confirmations=3),
    )
    request = _request(bridge, "mined")
    task = asyncio.create_task(submitter.submit(request))
    await eventually(lambda: _sent(submitter), 10)
    await anvil_node.mine(3)
    outcome = await asyncio.wait_for(task, 10)
    assert isinstance(outcome, Mined)
    assert outcome.gas_used > 0
    assert await submitter.submit(request) == AlreadyProcessed(request.transfer_id)


async def test_execution_counts_only_when_final_and_a_reorged_one_is_sent_again(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, bridge: Address
) -> None:
    submitter = Submitter(
        anvil_rpc,
        signer_from_hex(anvil_node.funded_keys[2]),
        InMemoryNonceSource(),
        _config(rule=ConfirmationRule.parse("depth:4")),
    )
    request = _request(bridge, "reorged release")
    first = await submitter.submit(request)  # automine: mined at once
    assert isinstance(first, Mined)
    # executed, but above the confirmed head: not done, and nothing is sent again
    assert await submitter.submit(request) == AwaitingFinality(request.transfer_id)
    assert submitter.sent == []

    # the destination reorgs the execution away (the block is replaced by an empty one)
    await anvil_node.rollback(1)
    await anvil_node.mine(1)
    assert await anvil_rpc.get_transaction_receipt(first.tx_hash) is None
    assert await submitter.progress(request) is Progress.TO_DO
    second = await submitter.submit(request)
    assert isinstance(second, Mined)
    assert len(submitter.sent) == 1
    assert await submitter.submit(request) == AwaitingFinality(request.transfer_id)

    await anvil_node.mine(4)
    final = await submitter.submit(request)
    assert final == AlreadyProcessed(request.transfer_id)
    assert isinstance(final, AlreadyProcessed)
    assert final.confirmed_at is not None and final.confirmed_at >= second.block_number
    assert submitter.sent == []


async def _sent(submitter: Submitter) -> bool:
    return bool(submitter.sent)


async def test_fee_above_cap_waits_then_reports(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, bridge: Address
) -> None:
    await anvil_node.set_next_base_fee(500 * GWEI)
    await anvil_node.mine(1)
    submitter = Submitter(
        anvil_rpc,
        signer_from_hex(anvil_node.funded_keys[0]),
        InMemoryNonceSource(),
        _config(fee_wait=0.3),
    )
    outcome = await submitter.submit(_request(bridge, "expensive"))
    assert isinstance(outcome, FeeAboveCap)
    assert outcome.required > outcome.cap == 200 * GWEI
    assert submitter.sent == []

    # the base fee drops while we wait: the same call then goes through
    patient = Submitter(
        anvil_rpc,
        signer_from_hex(anvil_node.funded_keys[0]),
        InMemoryNonceSource(),
        _config(fee_wait=10),
    )
    task = asyncio.create_task(patient.submit(_request(bridge, "expensive")))
    await asyncio.sleep(0.2)
    assert not task.done()
    await anvil_node.set_next_base_fee(GWEI)
    await anvil_node.mine(1)
    assert isinstance(await asyncio.wait_for(task, 10), Mined)


async def test_stuck_transaction_is_replaced_with_higher_fees(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, bridge: Address
) -> None:
    submitter = Submitter(
        anvil_rpc,
        signer_from_hex(anvil_node.funded_keys[1]),
        InMemoryNonceSource(),
        _config(replace_after=0.5),
    )
    async with automine_off(anvil_node):
        task = asyncio.create_task(submitter.submit(_request(bridge, "stuck")))
        await eventually(lambda: _async(len(submitter.sent) >= 2), 10)
        await anvil_node.mine(1)
        outcome = await asyncio.wait_for(task, 10)
    assert isinstance(outcome, Mined)
    assert outcome.tx_hash in submitter.sent[1:]  # a replacement mined, not the first
    tx = await anvil_rpc.request("eth_getTransactionByHash", ["0x" + outcome.tx_hash.hex()])
    first = await anvil_rpc.request("eth_getTransactionByHash", ["0x" + submitter.sent[0].hex()])
    assert first is None or first["blockNumber"] is None
    assert int(tx["maxFeePerGas"], 16) >= 1


async def _async(value: bool) -> bool:
    return value


class StaleNonces(InMemoryNonceSource):
    """Hands out nonce 0 once, as a store restored from an old backup would."""

    async def next_nonce(self, chain_id: int, sender: Address, chain_pending: int) -> int:
        if not self.stored.get((-1, sender)):
            self.stored[(-1, sender)] = 1
            return 0
        return await super().next_nonce(chain_id, sender, chain_pending)

    async def resync(self, chain_id: int, sender: Address, chain_nonce: int) -> None:
        self.resyncs = getattr(self, "resyncs", 0) + 1
        await super().resync(chain_id, sender, chain_nonce)


async def test_nonce_too_low_resyncs_and_succeeds(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, bridge: Address
) -> None:
    warmup = Submitter(
        anvil_rpc, signer_from_hex(anvil_node.funded_keys[2]), InMemoryNonceSource(), _config()
    )
    assert isinstance(await warmup.submit(_request(bridge, "warm-up")), Mined)  # nonce >= 1
    nonces = StaleNonces()
    submitter = Submitter(anvil_rpc, signer_from_hex(anvil_node.funded_keys[2]), nonces, _config())
    outcome = await submitter.submit(_request(bridge, "stale-nonce"))
    assert isinstance(outcome, Mined)
    chain_nonce = await anvil_rpc.get_transaction_count(submitter.sender, "latest")
    assert nonces.resyncs == 1
    assert nonces.stored[(31337, submitter.sender)] == chain_nonce


async def test_out_of_funds_is_an_outcome(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, bridge: Address
) -> None:
    key = "0x" + keccak(text="poor relayer").hex()
    await anvil_node.set_balance(Account.from_key(key).address, 10**12)
    submitter = Submitter(anvil_rpc, signer_from_hex(key), InMemoryNonceSource(), _config())
    outcome = await submitter.submit(_request(bridge, "poor"))
    assert isinstance(outcome, OutOfFunds)
    assert "insufficient funds" in outcome.detail.lower()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def conflux_bridge(conflux_node: ConfluxDevNode, conflux_rpc: RpcClient) -> Address:
    sender = DevSender(conflux_rpc, conflux_node.funded_keys[2], conflux_node.chain_id)
    return await _deploy(conflux_rpc, sender)


@contextlib.asynccontextmanager
async def _guarded(conflux_node: ConfluxDevNode) -> AsyncIterator[tuple[FaultProxy, RpcClient]]:
    """A client on the session's Conflux node through a proxy that counts every method
    sent and answers the fee methods that hang conflux-rust itself, so a regression
    fails this test instead of freezing the node under the whole session."""

    def refuse(method: str, _params: list[Any]) -> Fault | None:
        return (
            Fault.rpc_error(-32601, f"{method}: refused by the test") if method in NEVER else None
        )

    async with FaultProxy.running(conflux_node.rpc_url) as proxy:
        proxy.add(refuse)
        async with RpcClient(proxy.url, timeout=5) as rpc:
            yield proxy, rpc


async def test_conflux_release_mines_with_cip130_gas(
    conflux_node: ConfluxDevNode, conflux_bridge: Address
) -> None:
    config = _config(
        chain_id=conflux_node.chain_id, poll_interval=0.1, replace_after=30.0, deadline=40.0
    )
    async with _guarded(conflux_node) as (proxy, rpc):
        submitter = Submitter(
            rpc, signer_from_hex(conflux_node.funded_keys[3]), InMemoryNonceSource(), config
        )
        assert submitter.kind is ChainKind.CONFLUX  # from the dev node's chain id alone
        request = _request(conflux_bridge, "conflux")
        outcome = await submitter.submit(request)
        assert isinstance(outcome, Mined)
        tx = await rpc.request("eth_getTransactionByHash", ["0x" + outcome.tx_hash.hex()])
        assert int(tx["gas"], 16) >= 100 * len(request.data)
        assert int(tx["maxPriorityFeePerGas"], 16) == GWEI  # the configured tip
        assert isinstance(await submitter.submit(request), AlreadyProcessed)
    assert {m: proxy.calls[m] for m in NEVER} == dict.fromkeys(NEVER, 0)
    assert proxy.calls["eth_gasPrice"] == 0  # a configured tip needs no fee RPC
    assert proxy.calls["eth_sendRawTransaction"] == 1


async def test_conflux_unconfigured_tip_is_gas_price_minus_base_fee(
    conflux_node: ConfluxDevNode, conflux_bridge: Address
) -> None:
    """With no tip in the settings the tip is ``eth_gasPrice`` minus the latest base fee,
    on the real conflux-rust node, and neither hanging method is sent. The dev node's
    own gas price is its base fee (1 wei: a tip of 0), so the proxy quotes half a gwei
    more to make the derived tip visible."""
    policy = FeePolicy(max_fee_cap=200 * GWEI, tip=None, tip_cap=2 * GWEI)
    config = _config(
        chain_id=conflux_node.chain_id,
        fees=policy,
        kind=ChainKind.CONFLUX,
        poll_interval=0.1,
        replace_after=30.0,
        deadline=40.0,
    )
    async with _guarded(conflux_node) as (proxy, rpc):
        node_price, base_fee = await rpc.gas_price(), await rpc.base_fee()
        assert tip_from_gas_price(node_price, base_fee, policy.tip_cap) == 0
        quoted = Fault.replace_result(hex(base_fee + GWEI // 2))
        proxy.add(lambda method, _params: quoted if method == "eth_gasPrice" else None)
        submitter = Submitter(
            rpc, signer_from_hex(conflux_node.funded_keys[4]), InMemoryNonceSource(), config
        )
        outcome = await submitter.submit(_request(conflux_bridge, "conflux derived tip"))
        assert isinstance(outcome, Mined)
        tx = await rpc.request("eth_getTransactionByHash", ["0x" + outcome.tx_hash.hex()])
    assert int(tx["maxPriorityFeePerGas"], 16) == GWEI // 2
    assert int(tx["maxFeePerGas"], 16) == 2 * base_fee + GWEI // 2
    assert {m: proxy.calls[m] for m in NEVER} == dict.fromkeys(NEVER, 0)
    assert proxy.faults["eth_gasPrice"] >= 1  # the submitter asked for the gas price


async def test_execution_evidence_needs_a_log_or_age(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, bridge: Address
) -> None:
    """``executed_at`` trusts a state read only when it is old: the mock bridge stores
    the execution but emits no log, like a node answering from a state it is reorging."""
    from relayer.chain.bridge import Execution

    view = BridgeContract(anvil_rpc, bridge, 31337)
    submitter = Submitter(
        anvil_rpc, signer_from_hex(anvil_node.funded_keys[3]), InMemoryNonceSource(), _config()
    )
    request = _request(bridge, "evidence")
    mined = await submitter.submit(request)
    assert isinstance(mined, Mined)
    head = await anvil_rpc.block_number()
    assert await view.processed(request.transfer_id, head) is Progress.DONE
    assert await view.executed_at(request.transfer_id, head, 5, max_windows=1) is None
    await anvil_node.mine(6)
    head = await anvil_rpc.block_number()
    assert await view.executed_at(request.transfer_id, head, 5, max_windows=1) == Execution(None)
    # searched further back than the execution: older state says no, so no evidence
    assert await view.executed_at(request.transfer_id, head, 5, max_windows=4) is None
    assert await view.executed_at(Hash32(keccak(text="never")), head, 5, max_windows=1) is None


# a destination whose isProcessed reverts while its release goes through: a view that is
# broken, not upgraded yet, or answered by a node that cannot serve it
_VIEW_REVERTS_RUNTIME = (
    bytes.fromhex("60003560e01c")  # PUSH1 0 CALLDATALOAD PUSH1 0xe0 SHR -> selector
    + b"\x63"
    + IS_PROCESSED_SELECTOR  # PUSH4 isProcessed
    + bytes.fromhex("14601057")  # EQ PUSH1 16 JUMPI
    + bytes.fromhex("00")  # STOP: any other call succeeds (a "release")
    + bytes.fromhex("5b60006000fd")  # 16: JUMPDEST PUSH1 0 PUSH1 0 REVERT
)


async def test_a_pending_check_that_reverts_is_no_answer_and_nothing_is_sent(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    """A revert of ``isProcessed`` is not evidence that the release is still to do (it used
    to count as "not done", and the release was sent): the submitter sends nothing and
    raises (the runner retries next round), and ``BridgeContract`` reads it the same way."""
    runtime = _VIEW_REVERTS_RUNTIME
    initcode = bytes([0x60, len(runtime), 0x60, 12, 0x60, 0, 0x39, 0x60, len(runtime), 0x60, 0])
    initcode += b"\xf3" + runtime
    deployer = DevSender(anvil_rpc, anvil_node.funded_keys[9], 31337)
    contract = await _deploy(anvil_rpc, deployer, initcode)
    request = _request(contract, "a view that reverts")
    submitter = Submitter(
        anvil_rpc, signer_from_hex(anvil_node.funded_keys[5]), InMemoryNonceSource(), _config()
    )
    before = await anvil_rpc.get_transaction_count(submitter.sender, "pending")
    assert isinstance(await submitter.progress(request), Unanswered)
    with pytest.raises(RpcResponseError, match="unanswered"):
        await submitter.submit(request)
    assert submitter.sent == []
    assert await anvil_rpc.get_transaction_count(submitter.sender, "pending") == before
    view = BridgeContract(anvil_rpc, contract, 31337)
    assert isinstance(await view.processed(request.transfer_id), Unanswered)
    head = await anvil_rpc.block_number()
    assert await view.executed_at(request.transfer_id, head, 5, max_windows=1) is None


async def test_an_answer_that_is_no_bool_is_no_answer(
    anvil_node: AnvilNode, bridge: Address
) -> None:
    """``isProcessed`` answering 2, or 64 bytes, is neither done nor to do."""
    async with (
        FaultProxy.running(anvil_node.rpc_url) as proxy,
        RpcClient(proxy.url, timeout=5, retry=TEST_RETRY) as rpc,
    ):
        view = BridgeContract(rpc, bridge, 31337)
        tid = Hash32(keccak(text="an answer that is no bool"))
        assert await view.processed(tid) is Progress.TO_DO  # honest: 0
        for forged in ("0x" + "00" * 31 + "02", "0x" + "00" * 64, "0x" + "00" * 31):
            proxy.fail_next("eth_call", Fault.replace_result(forged))
            assert isinstance(await view.processed(tid), Unanswered), forged


async def test_replacement_underpriced_bumps_the_fees_and_sends_again(
    anvil_node: AnvilNode, bridge: Address
) -> None:
    """The node answers geth's "replacement transaction underpriced" once: the
    submitter raises its fees by at least 12.5 % and the next send goes through."""
    async with FaultProxy.running(anvil_node.rpc_url) as proxy:
        proxy.fail_next(
            "eth_sendRawTransaction",
            Fault.rpc_error(-32000, "replacement transaction underpriced"),
        )
        async with RpcClient(proxy.url, timeout=5) as rpc:
            submitter = Submitter(
                rpc, signer_from_hex(anvil_node.funded_keys[4]), InMemoryNonceSource(), _config()
            )
            outcome = await submitter.submit(_request(bridge, "underpriced"))
            assert isinstance(outcome, Mined)
            tx = await rpc.request("eth_getTransactionByHash", ["0x" + outcome.tx_hash.hex()])
    assert proxy.faults["eth_sendRawTransaction"] == 1
    assert proxy.calls["eth_sendRawTransaction"] == 2
    assert int(tx["maxPriorityFeePerGas"], 16) >= GWEI * 9 // 8  # the 1 gwei tip, bumped
