"""Helpers shared by the chain integration tests: Locked-shaped events on demand, anvil
with automining off."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from eth_account import Account
from eth_utils.crypto import keccak

from relayer.chain.events import BridgeEvent, encode_event_log
from relayer.chain.rpc import RetryPolicy, RpcClient
from relayer.chain.scan import InMemorySink
from relayer.chain.watcher import EventWatcher
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.emitter import DevSender, emit_calldata
from relayer.devnet.waiting import eventually
from relayer.domain.types import Address, Hash32, SourceEvent, checksum

# quick retries: a test that waits on a dead node fails in seconds
TEST_RETRY = RetryPolicy(attempts=4, initial_seconds=0.05, max_seconds=0.5, deadline_seconds=10)


def sample_event(nonce: int, amount: int = 10**18) -> SourceEvent:
    """A Locked event with ids derived from ``nonce`` (block fields are placeholders)."""
    return SourceEvent(
        transfer_id=Hash32(keccak(nonce.to_bytes(8, "big"))),
        src_chain_id=0,
        src_contract=Address(bytes(20)),
        nonce=nonce,
        src_token=Address(b"\x07" * 20),
        sender=Address(b"\x22" * 20),
        recipient=Address(b"\x33" * 20),
        amount=amount,
        dst_chain_id=11155111,
        block_number=0,
        block_hash=Hash32(bytes(32)),
        tx_hash=Hash32(bytes(32)),
        log_index=0,
    )


def locked_calldata(nonce: int) -> bytes:
    """Emitter calldata for a Locked log with this nonce."""
    topics, data = encode_event_log(sample_event(nonce))
    return emit_calldata((BridgeEvent.LOCKED.topic0, *topics), data)


async def emit_locked(sender: DevSender, emitter: Address, nonce: int) -> Hash32:
    """Send one emitter call (does not wait for it to be mined)."""
    return await sender.send(emitter, locked_calldata(nonce))


async def wait_receipt_block(rpc: RpcClient, tx_hash: bytes, limit: float = 30) -> int:
    """The block number the transaction was mined in (waits)."""

    async def probe() -> int | None:
        receipt = await rpc.get_transaction_receipt(tx_hash)
        return None if receipt is None else receipt.block_number

    return await eventually(probe, limit, 0.1)


async def scan_until(watcher: EventWatcher, sink: InMemorySink, block: int, limit: float) -> None:
    """Poll the watcher until its cursor is past ``block``."""

    async def done() -> bool:
        await watcher.poll_once()
        return sink.cursor is not None and sink.cursor.next_block > block

    await eventually(done, limit, 0.1)


def nonces(events: list[SourceEvent]) -> list[int]:
    """The nonces of ``events`` in order."""
    return [e.nonce for e in events]


async def signed_raw_tx(
    rpc: RpcClient, chain_id: int, key: str, to: Address, data: bytes = b"", gas: int = 200_000
) -> str:
    """A signed raw transaction from ``key``'s next nonce, for ``anvil_reorg`` (which puts
    it on the replacing branch)."""
    address = Account.from_key(key).address
    tx = {
        "type": 2,
        "chainId": chain_id,
        "nonce": await rpc.get_transaction_count(bytes.fromhex(address[2:]), "latest"),
        "gas": gas,
        "maxFeePerGas": 100 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "to": checksum(to),
        "data": data,
        "value": 0,
    }
    return "0x" + bytes(Account.sign_transaction(tx, key).raw_transaction).hex()


@contextlib.asynccontextmanager
async def automine_off(anvil: AnvilNode) -> AsyncIterator[None]:
    """Anvil mines only when told to (``anvil.mine``) inside the block: sent transactions
    wait in its pool. Automining is back on afterwards, even on an error."""
    await anvil.set_automine(False)
    try:
        yield
    finally:
        await anvil.set_automine(True)
