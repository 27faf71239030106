"""A tiny hand-assembled contract that emits arbitrary LOG4 events, and a tx helper.

Runtime: ``log4(memory = calldata[128:], topics = calldata[0:32], [32:64], [64:96],
[96:128])``. Calling it with a ``Locked`` topic 0 and ``encode_event_log`` output emits
a log of exactly the vault's shape, so watcher tests need no compiler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_utils.address import to_canonical_address

from relayer.chain.rpc import RpcClient
from relayer.domain.types import Address, Hash32, checksum

# PUSH1 0x80 CALLDATASIZE SUB DUP1 PUSH1 0x80 PUSH1 0 CALLDATACOPY
# PUSH1 0x60 CALLDATALOAD PUSH1 0x40 CALLDATALOAD PUSH1 0x20 CALLDATALOAD
# PUSH1 0 CALLDATALOAD DUP5 PUSH1 0 LOG4 STOP
EMITTER_RUNTIME = bytes.fromhex("60803603806080600037606035604035602035600035846000a400")
# PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN, then the runtime
EMITTER_INITCODE = (
    bytes([0x60, len(EMITTER_RUNTIME), 0x60, 12, 0x60, 0, 0x39, 0x60, len(EMITTER_RUNTIME)])
    + bytes([0x60, 0, 0xF3])
    + EMITTER_RUNTIME
)
GAS_MARGIN = 1.5


@dataclass
class DevSender:
    """Signs and sends EIP-1559 transactions from one funded key, tracking its nonce."""

    rpc: RpcClient
    key: str
    chain_id: int
    nonce: int | None = None
    sent: list[Hash32] = field(default_factory=list)

    @property
    def address(self) -> Address:
        """The sender's address."""
        return Address(to_canonical_address(Account.from_key(self.key).address))

    async def send(self, to: bytes | None, data: bytes, value: int = 0) -> Hash32:
        """Estimate gas (x1.5, and >= 100 gas per calldata byte), sign, send."""
        if self.nonce is None:
            self.nonce = await self.rpc.get_transaction_count(self.address, "pending")
        call: dict[str, Any] = {"from": checksum(self.address), "data": "0x" + data.hex()}
        if to is not None:
            call["to"] = checksum(to)
        gas = max(int(await self.rpc.estimate_gas(call) * GAS_MARGIN), 100 * len(data) + 21_000)
        base = await self.rpc.base_fee()
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": self.nonce,
            "gas": gas,
            "maxFeePerGas": 2 * base + 10**9,
            "maxPriorityFeePerGas": 10**9,
            "value": value,
            "data": data,
        }
        if to is not None:
            tx["to"] = checksum(to)
        signed = Account.sign_transaction(tx, self.key)
        tx_hash = await self.rpc.send_raw_transaction(bytes(signed.raw_transaction))
        self.nonce += 1
        self.sent.append(tx_hash)
        return tx_hash


async def deploy_emitter(sender: DevSender, receipt_timeout: float = 30.0) -> Address:
    """Deploy the emitter and wait for its receipt; returns its address."""
    from relayer.devnet.waiting import eventually

    tx_hash = await sender.send(None, EMITTER_INITCODE)

    async def mined() -> Any:
        return await sender.rpc.get_transaction_receipt(tx_hash)

    await eventually(mined, receipt_timeout, 0.1)
    raw = await sender.rpc.request("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])
    return Address(to_canonical_address(raw["contractAddress"]))


def emit_calldata(topics: tuple[bytes, ...], data: bytes) -> bytes:
    """Calldata that makes the emitter LOG4 ``topics`` (exactly 4) with ``data``."""
    if len(topics) != 4 or any(len(t) != 32 for t in topics):
        raise ValueError("the emitter needs exactly four 32-byte topics")
    return b"".join(topics) + data
