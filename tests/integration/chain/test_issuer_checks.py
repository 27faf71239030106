"""The issuers' controls against a real token (the devnet's BlacklistToken on anvil): a
blacklisted sender or recipient is found before signing, naming the party and the call; a
token that does not answer a bool, or a node that does not answer, decides nothing."""

from __future__ import annotations

from typing import Any

import pytest
from chain_helpers import TEST_RETRY
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.api.metrics import Metrics
from relayer.chain.artifacts import load_artifact
from relayer.chain.rpc import RpcClient
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.emitter import DevSender
from relayer.devnet.faultproxy import Fault, FaultProxy
from relayer.devnet.waiting import eventually
from relayer.domain.issuers import IssuerCheck
from relayer.domain.policy import RefusalReason
from relayer.domain.types import Address, Hash32, SourceEvent, checksum
from relayer.service.corroboration import Wait
from relayer.service.issuers import Checked, IssuerGate

pytestmark = pytest.mark.asyncio(loop_scope="session")
SRC, DST = 31337, 1
MIRROR = Address(b"\xe1" * 20)
ALICE, BOB, CAROL = (Address(bytes([b]) * 20) for b in (0xA1, 0xB0, 0xC0))


async def _mined(rpc: RpcClient, tx_hash: Hash32) -> Any:
    async def receipt() -> Any:
        return await rpc.get_transaction_receipt(tx_hash)

    return await eventually(receipt, 30, 0.05)


async def _blacklist_token(anvil_node: AnvilNode, rpc: RpcClient) -> Address:
    """A BlacklistToken whose issuer (the sender) blacklisted BOB."""
    sender = DevSender(rpc, anvil_node.funded_keys[7], anvil_node.chain_id)
    artifact = load_artifact("BlacklistToken")
    args = encode(["string", "string", "uint8", "address"], ["HKD", "AxHKD", 6, sender.address])
    tx_hash = await sender.send(None, bytes.fromhex(artifact.bytecode[2:]) + args)
    await _mined(rpc, tx_hash)
    raw = await rpc.request("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])
    token = Address(bytes.fromhex(raw["contractAddress"][2:]))
    call = keccak(text="blacklist(address)")[:4] + encode(["address"], [BOB])
    await _mined(rpc, await sender.send(token, call))
    return token


def _event(token: Address, sender: Address, recipient: Address) -> SourceEvent:
    return SourceEvent(
        transfer_id=Hash32(keccak(sender + recipient)),
        src_chain_id=SRC,
        src_contract=Address(b"\x0a" * 20),
        nonce=1,
        src_token=token,
        sender=sender,
        recipient=recipient,
        amount=10**6,
        dst_chain_id=DST,
        block_number=1,
        block_hash=Hash32(b"\x01" * 32),
        tx_hash=Hash32(b"\x02" * 32),
        log_index=0,
    )


async def test_a_blacklisted_party_is_found_and_named(
    anvil_node: AnvilNode, anvil_rpc: RpcClient
) -> None:
    token = await _blacklist_token(anvil_node, anvil_rpc)
    metrics = Metrics()
    gate = IssuerGate(
        {(SRC, token): IssuerCheck(SRC, token, "isBlacklisted(address)")}, {SRC: anvil_rpc}, metrics
    )
    routes = {(SRC, token): (DST, MIRROR)}
    assert await gate.check(_event(token, ALICE, CAROL), routes) == Checked(None)
    for sender, recipient, role in ((BOB, CAROL, "sender"), (ALICE, BOB, "recipient")):
        found = await gate.check(_event(token, sender, recipient), routes)
        assert isinstance(found, Checked) and found.refusal is not None
        assert found.refusal.reason is RefusalReason.ISSUER_BLACKLISTED
        detail = found.refusal.detail
        assert detail.startswith(f"{role} 0x") and "isBlacklisted(address)" in detail
        assert f"(chain {SRC}) answered true" in detail
    # sender clear then recipient blocked: two calls; blocked sender: one (it stops there)
    assert metrics.issuer_checks.labels("blocked")._value.get() == 2
    assert metrics.issuer_checks.labels("clear")._value.get() == 3
    # a token the pack knows only on the other chain, or another token: nothing to ask
    other = IssuerGate(
        {(DST, token): IssuerCheck(DST, token, "isBlacklisted(address)")}, {DST: anvil_rpc}, metrics
    )
    assert other.queries(_event(token, BOB, BOB), {}) == ()
    assert len(other.queries(_event(token, BOB, BOB), {(SRC, token): (DST, token)})) == 2

    # an allow-list style check: blocked when the answer is false
    allow = IssuerGate(
        {(SRC, token): IssuerCheck(SRC, token, "isBlacklisted(address)", blocked_when=False)},
        {SRC: anvil_rpc},
        Metrics(),
    )
    flipped = await allow.check(_event(token, ALICE, CAROL), routes)  # ALICE: not listed
    assert isinstance(flipped, Checked) and flipped.refusal is not None
    assert flipped.refusal.detail.startswith(f"sender {checksum(ALICE)} ")
    assert flipped.refusal.detail.endswith("answered false")


async def test_no_answer_decides_nothing(anvil_node: AnvilNode, anvil_rpc: RpcClient) -> None:
    token = await _blacklist_token(anvil_node, anvil_rpc)
    metrics = Metrics()
    routes = {(SRC, token): (DST, MIRROR)}
    wrong = IssuerGate(
        {(SRC, token): IssuerCheck(SRC, token, "isFrozen(address)")}, {SRC: anvil_rpc}, metrics
    )
    assert isinstance(await wrong.check(_event(token, ALICE, CAROL), routes), Wait)  # reverts
    not_a_token = Address(b"\x5e" * 20)  # no code: an empty answer, not a bool
    empty = IssuerGate(
        {(SRC, not_a_token): IssuerCheck(SRC, not_a_token, "isBlacklisted(address)")},
        {SRC: anvil_rpc},
        metrics,
    )
    routes_empty = {(SRC, not_a_token): (DST, MIRROR)}
    assert isinstance(await empty.check(_event(not_a_token, ALICE, CAROL), routes_empty), Wait)
    assert metrics.issuer_checks.labels("bad_answer")._value.get() == 2
    async with (
        FaultProxy.running(anvil_node.rpc_url) as proxy,
        RpcClient(proxy.url, timeout=2, retry=TEST_RETRY) as flaky,
    ):
        down = IssuerGate(
            {(SRC, token): IssuerCheck(SRC, token, "isBlacklisted(address)")}, {SRC: flaky}, metrics
        )
        proxy.fail_next("eth_call", Fault.http(503), times=100)
        assert isinstance(await down.check(_event(token, ALICE, CAROL), routes), Wait)
        proxy.clear()
        assert await down.check(_event(token, ALICE, CAROL), routes) == Checked(None)
    assert metrics.issuer_checks.labels("unavailable")._value.get() == 1
