"""The submitter's send journal on anvil: every transaction is recorded before the node sees
it, and after a restart one still in the node's pool is followed (and replaced at its
nonce when stuck) instead of a second one being sent."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from chain_helpers import automine_off
from eth_account import Account
from eth_utils.crypto import keccak

from relayer.chain.fees import FeePolicy
from relayer.chain.rpc import RpcClient
from relayer.chain.submission import InMemoryNonceSource, Mined, SentTx, SubmitRequest
from relayer.chain.submitter import Submitter, SubmitterConfig
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.emitter import DevSender
from relayer.devnet.mockbridge import MOCK_BRIDGE_INITCODE, release_calldata
from relayer.devnet.waiting import eventually
from relayer.domain.types import Address, Hash32
from relayer.keys import signer_from_hex

pytestmark = pytest.mark.asyncio(loop_scope="session")
GWEI = 10**9


class MemoryJournal:
    """``SendJournal`` in a list; notes whether the node knew each transaction when it
    was recorded."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc
        self.rows: list[tuple[int, Address, SentTx]] = []
        self.known_when_recorded: list[bool] = []

    async def record(self, chain_id: int, sender: Address, sent: SentTx) -> None:
        self.known_when_recorded.append(await self.rpc.get_transaction(sent.tx_hash) is not None)
        self.rows.append((chain_id, sender, sent))

    async def in_flight(
        self, chain_id: int, sender: Address, transfer_ids: tuple[Hash32, ...]
    ) -> tuple[SentTx, ...]:
        return tuple(
            s
            for c, a, s in self.rows
            if c == chain_id and a == sender and set(transfer_ids) & set(s.transfer_ids)
        )


def _config(**overrides: object) -> SubmitterConfig:
    base: dict[str, object] = {
        "chain_id": 31337,
        "fees": FeePolicy(max_fee_cap=200 * GWEI, tip=GWEI),
        "poll_interval": 0.05,
        "replace_after": 30.0,
        "deadline": 20.0,
    }
    base.update(overrides)
    return SubmitterConfig(**base)  # type: ignore[arg-type]


async def _fresh_key(rpc: RpcClient, label: str) -> str:
    """A new funded account, so that no other test's transactions share its nonces."""
    key = "0x" + keccak(text=f"send-journal-{label}").hex()
    address = Account.from_key(key).address
    await rpc.request("anvil_setBalance", [address, hex(10**21)])
    return key


async def _bridge(anvil_node: AnvilNode, rpc: RpcClient) -> Address:
    from eth_utils.address import to_canonical_address

    sender = DevSender(rpc, await _fresh_key(rpc, "deployer"), anvil_node.chain_id)
    tx_hash = await sender.send(None, MOCK_BRIDGE_INITCODE)

    async def receipt() -> dict[str, str] | None:
        return await rpc.request("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])  # type: ignore[no-any-return]

    raw = await eventually(receipt, 30, 0.1)
    return Address(to_canonical_address(raw["contractAddress"]))


def _request(bridge: Address, label: str) -> SubmitRequest:
    transfer_id = Hash32(keccak(text=label))
    return SubmitRequest(transfer_id, bridge, release_calldata(transfer_id))


async def _nonce_of(rpc: RpcClient, tx_hash: Hash32) -> int:
    raw = await rpc.request("eth_getTransactionByHash", ["0x" + tx_hash.hex()])
    assert isinstance(raw, dict)
    return int(raw["nonce"], 16)


async def test_every_send_is_recorded_before_the_node_sees_it(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    bridge = await _bridge(anvil_node, anvil_rpc)
    journal = MemoryJournal(anvil_rpc)
    key = await _fresh_key(anvil_rpc, "recorded")
    submitter = Submitter(
        anvil_rpc, signer_from_hex(key), InMemoryNonceSource(), _config(), journal
    )
    request = _request(bridge, "journal: recorded first")
    outcome = await submitter.submit(request)
    assert isinstance(outcome, Mined)
    assert journal.known_when_recorded == [False]
    [(chain_id, sender, sent)] = journal.rows
    assert (chain_id, sender) == (31337, submitter.sender)
    assert sent.tx_hash == outcome.tx_hash
    assert sent.transfer_ids == (request.transfer_id,)
    assert sent.nonce == await _nonce_of(anvil_rpc, outcome.tx_hash)
    raw = await anvil_rpc.request("eth_getTransactionByHash", ["0x" + outcome.tx_hash.hex()])
    assert isinstance(raw, dict)
    assert sent.max_fee_per_gas == int(raw["maxFeePerGas"], 16)
    assert sent.max_priority_fee_per_gas == int(raw["maxPriorityFeePerGas"], 16)


async def test_a_transaction_sent_before_a_restart_is_followed_not_sent_again(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    bridge = await _bridge(anvil_node, anvil_rpc)
    journal = MemoryJournal(anvil_rpc)
    key = await _fresh_key(anvil_rpc, "followed")
    request = _request(bridge, "journal: followed after a restart")
    async with automine_off(anvil_node):
        first = Submitter(
            anvil_rpc, signer_from_hex(key), InMemoryNonceSource(), _config(), journal
        )
        task = asyncio.create_task(first.submit(request))
        await eventually(lambda: _has_sent(first), 10)
        sent_hash = first.sent[0]
        task.cancel()  # the relayer dies with its transaction in the node's pool
        with contextlib.suppress(asyncio.CancelledError):
            await task
        before = await anvil_rpc.get_transaction_count(first.sender, "latest")

        restarted = Submitter(
            anvil_rpc, signer_from_hex(key), InMemoryNonceSource(), _config(), journal
        )
        resumed = asyncio.create_task(restarted.submit(request))
        await eventually(lambda: _has_sent(restarted), 10)
        assert restarted.sent == [sent_hash]
        await anvil_node.mine(1)
        outcome = await asyncio.wait_for(resumed, 15)
    assert isinstance(outcome, Mined)
    assert outcome.tx_hash == sent_hash
    assert len(journal.rows) == 1  # nothing else was signed
    assert await anvil_rpc.get_transaction_count(first.sender, "latest") == before + 1


async def test_a_recorded_transaction_the_node_never_saw_is_sent_again(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    bridge = await _bridge(anvil_node, anvil_rpc)
    journal = MemoryJournal(anvil_rpc)
    key = await _fresh_key(anvil_rpc, "never seen")
    request = _request(bridge, "journal: recorded, then the relayer died")
    submitter = Submitter(
        anvil_rpc, signer_from_hex(key), InMemoryNonceSource(), _config(), journal
    )
    never_sent = SentTx((request.transfer_id,), 0, Hash32(keccak(text="never sent")), GWEI, GWEI)
    journal.rows.append((31337, submitter.sender, never_sent))
    outcome = await submitter.submit(request)
    assert isinstance(outcome, Mined)
    assert outcome.tx_hash != never_sent.tx_hash
    assert [s.tx_hash for _, _, s in journal.rows] == [never_sent.tx_hash, outcome.tx_hash]
    assert await _nonce_of(anvil_rpc, outcome.tx_hash) == 0  # the nonce was never used


async def test_a_stuck_transaction_from_before_a_restart_is_replaced_at_its_nonce(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    bridge = await _bridge(anvil_node, anvil_rpc)
    journal = MemoryJournal(anvil_rpc)
    key = await _fresh_key(anvil_rpc, "stuck")
    request = _request(bridge, "journal: stuck, then replaced")
    async with automine_off(anvil_node):
        first = Submitter(
            anvil_rpc, signer_from_hex(key), InMemoryNonceSource(), _config(), journal
        )
        task = asyncio.create_task(first.submit(request))
        await eventually(lambda: _has_sent(first), 10)
        stuck = first.sent[0]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

        impatient = _config(replace_after=0.3)
        restarted = Submitter(
            anvil_rpc, signer_from_hex(key), InMemoryNonceSource(), impatient, journal
        )
        resumed = asyncio.create_task(restarted.submit(request))
        await eventually(lambda: _sent_twice(restarted), 10)
        assert restarted.sent[0] == stuck
        replacement = restarted.sent[1]
        await anvil_node.mine(1)
        outcome = await asyncio.wait_for(resumed, 15)
    assert isinstance(outcome, Mined)
    assert outcome.tx_hash == replacement
    [_, (_, _, second)] = journal.rows
    assert second.tx_hash == replacement
    assert second.nonce == journal.rows[0][2].nonce  # the same nonce, fees bumped
    assert second.max_fee_per_gas > journal.rows[0][2].max_fee_per_gas
    assert await anvil_rpc.get_transaction_receipt(stuck) is None


async def _has_sent(submitter: Submitter) -> bool:
    return bool(submitter.sent)


async def _sent_twice(submitter: Submitter) -> bool:
    return len(submitter.sent) >= 2


async def test_several_in_flight_take_consecutive_nonces_and_a_dropped_one_is_refilled(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    """Pipelined nonces: three submissions at once from one key get three consecutive
    nonces; the node drops the middle one from its pool (the later one cannot mine past the
    gap); the dropped one is replaced at its own nonce and all three mine, each once."""
    bridge = await _bridge(anvil_node, anvil_rpc)
    journal = MemoryJournal(anvil_rpc)
    key = await _fresh_key(anvil_rpc, "pipelined")
    # every unmined send is replaced each 0.5 s until the block below: the cap on sends is
    # not what this test is about, and a loaded machine may take several seconds to get there
    config = _config(replace_after=0.5, max_sends=100)
    submitter = Submitter(anvil_rpc, signer_from_hex(key), InMemoryNonceSource(), config, journal)
    requests = [_request(bridge, f"journal: pipelined {i}") for i in range(3)]
    base = await anvil_rpc.get_transaction_count(submitter.sender, "latest")
    async with automine_off(anvil_node):
        tasks = [asyncio.create_task(submitter.submit_tracked(r)) for r in requests]
        await eventually(lambda: _recorded(journal, 3), 10)
        nonces = sorted(s.nonce for _, _, s in journal.rows)
        assert nonces == [base, base + 1, base + 2]
        middle = next(s for _, _, s in journal.rows if s.nonce == base + 1)
        await anvil_rpc.request("anvil_dropTransaction", ["0x" + middle.tx_hash.hex()])
        assert await anvil_rpc.get_transaction(middle.tx_hash) is None
        # the dropped nonce is sent again (fees bumped) once it looks stuck (the others,
        # unmined here, are replaced at their nonces too)
        await eventually(lambda: _refilled(journal, middle), 10)
        await anvil_node.mine(1)
        results = await asyncio.wait_for(asyncio.gather(*tasks), 20)
    outcomes = [outcome for outcome, _ in results]
    assert all(isinstance(o, Mined) for o in outcomes), outcomes
    mined = {await _nonce_of(anvil_rpc, o.tx_hash) for o in outcomes if isinstance(o, Mined)}
    assert mined == {base, base + 1, base + 2}
    assert all(o.tx_hash != middle.tx_hash for o in outcomes if isinstance(o, Mined))
    assert await anvil_rpc.get_transaction_count(submitter.sender, "latest") == base + 3


async def _recorded(journal: MemoryJournal, count: int) -> bool:
    return len(journal.rows) >= count


async def _refilled(journal: MemoryJournal, dropped: SentTx) -> bool:
    return any(
        s.nonce == dropped.nonce and s.tx_hash != dropped.tx_hash for _, _, s in journal.rows
    )
