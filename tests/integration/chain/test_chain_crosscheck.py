"""The cross-check against a real witness node (anvil): a real event is corroborated once
the witness confirmed it; every kind of forgery is contradicted, naming what differs."""

from __future__ import annotations

import dataclasses

import pytest
from chain_helpers import emit_locked, wait_receipt_block

from relayer.chain.confirmation import ConfirmationRule
from relayer.chain.crosscheck import Contradicted, Corroborated, CrossChecker, NotYetConfirmed
from relayer.chain.events import BridgeEvent, EventDecoder
from relayer.chain.rpc import RpcClient
from relayer.chain.rpc_types import BlockRef
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.conflux import ConfluxDevNode
from relayer.devnet.emitter import DevSender, deploy_emitter
from relayer.devnet.faultproxy import Fault, FaultProxy
from relayer.devnet.waiting import eventually
from relayer.domain.types import Address, Hash32, SourceEvent
from relayer.errors import RpcResponseError

pytestmark = pytest.mark.asyncio(loop_scope="session")
DEPTH = 3


async def _observed(anvil_node: AnvilNode, rpc: RpcClient) -> tuple[EventDecoder, SourceEvent]:
    """A real Locked event as the watcher sees it (``eth_getLogs``), the second of two
    in one block, so its log index is not simply 0."""
    sender = DevSender(rpc, anvil_node.funded_keys[6], anvil_node.chain_id)
    emitter = await deploy_emitter(sender)
    await anvil_node.mine(DEPTH)  # a confirmed head exists even on a fresh chain
    await anvil_node.set_automine(False)
    try:
        first = await emit_locked(sender, emitter, 4241)
        second = await emit_locked(sender, emitter, 4242)
        await anvil_node.mine(1)
    finally:
        await anvil_node.set_automine(True)
    block = await wait_receipt_block(rpc, second)
    assert await wait_receipt_block(rpc, first) == block
    decoder = EventDecoder(BridgeEvent.LOCKED, emitter, anvil_node.chain_id)
    logs = await rpc.get_logs(emitter, [decoder.topic0], block, block)
    event = decoder.decode(next(x for x in logs if x.tx_hash == second))
    assert event.log_index > 0
    return decoder, event


async def test_a_real_event_is_corroborated_once_the_witness_confirmed_it(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    decoder, event = await _observed(anvil_node, anvil_rpc)
    checker = CrossChecker("anvil", anvil_rpc, decoder, ConfirmationRule.parse(f"depth:{DEPTH}"))
    head = await checker.witness_head()
    assert head is not None and head.number < event.block_number
    assert await checker.check(event, head) == NotYetConfirmed(head.number)
    assert await checker.check(event, None) == NotYetConfirmed(None)

    await anvil_node.mine(DEPTH)
    head = await checker.witness_head()
    assert await checker.check(event, head) == Corroborated()


@pytest.mark.parametrize(
    ("forge", "says"),
    [
        (lambda e: {"amount": e.amount + 1}, "differs in amount"),
        (lambda e: {"recipient": Address(b"\x66" * 20)}, "differs in recipient"),
        (lambda e: {"dst_chain_id": 1}, "differs in dst_chain_id"),
        (lambda e: {"transfer_id": Hash32(b"\xf0" * 32)}, "differs in transfer_id"),
        (lambda e: {"tx_hash": Hash32(b"\xab" * 32)}, "has no Locked log #"),
        (lambda e: {"block_hash": Hash32(b"\xcd" * 32)}, ", not 0xcdcd"),
        (
            lambda e: {"block_number": e.block_number - 1},
            lambda e: f"block {e.block_number - 1} is",
        ),
        (lambda e: {"log_index": e.log_index + 1}, "has no Locked log #"),
        (lambda e: {"log_index": e.log_index - 1}, "has no Locked log #"),
    ],
)
async def test_a_forged_event_is_contradicted(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, forge: object, says: object
) -> None:
    decoder, event = await _observed(anvil_node, anvil_rpc)
    await anvil_node.mine(DEPTH)
    checker = CrossChecker("anvil", anvil_rpc, decoder, ConfirmationRule.parse(f"depth:{DEPTH}"))
    head = await checker.witness_head()
    forged = dataclasses.replace(event, **forge(event))  # type: ignore[operator]
    verdict = await checker.check(forged, head)
    assert isinstance(verdict, Contradicted), verdict
    expected = says(event) if callable(says) else says
    assert expected in verdict.reason, verdict.reason
    assert await checker.check(event, head) == Corroborated()  # the real one still is


async def test_a_log_of_another_contract_is_contradicted(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    """The watched contract's address on an event whose log another contract emitted."""
    decoder, event = await _observed(anvil_node, anvil_rpc)
    await anvil_node.mine(DEPTH)
    vault = Address(b"\x0b" * 20)
    checker = CrossChecker(
        "anvil",
        anvil_rpc,
        dataclasses.replace(decoder, contract=vault),
        ConfirmationRule.parse(f"depth:{DEPTH}"),
    )
    forged = dataclasses.replace(event, src_contract=vault)
    verdict = await checker.check(forged, await checker.witness_head())
    assert isinstance(verdict, Contradicted)
    assert "has no Locked log" in verdict.reason  # the witness asks the vault's logs only


async def test_a_witness_answering_nonsense_is_no_verdict(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    decoder, event = await _observed(anvil_node, anvil_rpc)
    await anvil_node.mine(DEPTH)
    async with FaultProxy.running(anvil_node.rpc_url) as proxy:
        proxy.fail_next("eth_getLogs", Fault.replace_result({"logs": "no"}))
        async with RpcClient(proxy.url, timeout=10) as witness:
            rule = ConfirmationRule.parse(f"depth:{DEPTH}")
            checker = CrossChecker("anvil", witness, decoder, rule)
            head = await checker.witness_head()
            with pytest.raises(RpcResponseError):
                await checker.check(event, head)
            assert await checker.check(event, head) == Corroborated()


async def test_a_real_conflux_event_is_corroborated_by_a_conflux_witness(
    conflux_node: ConfluxDevNode, conflux_rpc: RpcClient
) -> None:
    """Conflux eSpace receipts (log indexes, block hashes) agree with its eth_getLogs."""
    sender = DevSender(conflux_rpc, conflux_node.funded_keys[4], conflux_node.chain_id)
    emitter = await deploy_emitter(sender)
    tx_hash = await emit_locked(sender, emitter, 77)
    await wait_receipt_block(conflux_rpc, tx_hash)
    decoder = EventDecoder(BridgeEvent.LOCKED, emitter, conflux_node.chain_id)
    receipt = await conflux_rpc.get_transaction_receipt(tx_hash)
    assert receipt is not None
    (from_logs,) = await conflux_rpc.get_logs(
        emitter, [decoder.topic0], receipt.block_number, receipt.block_number
    )
    event = decoder.decode(from_logs)  # as the watcher sees it
    checker = CrossChecker("conflux", conflux_rpc, decoder, ConfirmationRule.parse("depth:3"))

    async def confirmed() -> BlockRef | None:
        head = await checker.witness_head()
        return head if head is not None and head.number >= event.block_number else None

    head = await eventually(confirmed, 30, 0.1)
    assert await checker.check(event, head) == Corroborated()
    forged = dataclasses.replace(event, amount=event.amount + 1)
    verdict = await checker.check(forged, head)
    assert isinstance(verdict, Contradicted) and "differs in amount" in verdict.reason
