"""Frozen values the RPC client returns, and strict parsers from raw JSON-RPC answers.

Every parser raises ``RpcResponseError`` on a missing field or a wrong type, so a
malformed answer never reaches the watcher or the submitter as a half-filled value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from relayer.domain.types import Address, Hash32, parse_address, parse_hash32
from relayer.errors import RpcResponseError

BlockTag = Literal["latest", "safe", "finalized", "pending", "earliest"]
BlockId = int | BlockTag


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block header's identity: enough to detect reorgs and order events."""

    number: int
    hash: Hash32
    parent_hash: Hash32
    timestamp: int
    base_fee: int | None = None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One raw event log as the node reported it."""

    address: Address
    topics: tuple[Hash32, ...]
    data: bytes
    block_number: int
    block_hash: Hash32
    tx_hash: Hash32
    log_index: int
    removed: bool = False


@dataclass(frozen=True, slots=True)
class Receipt:
    """A mined transaction's receipt (``status`` 1 = success, Ethereum sense)."""

    tx_hash: Hash32
    status: int
    block_number: int
    block_hash: Hash32
    gas_used: int
    effective_gas_price: int | None
    logs: tuple[LogEntry, ...]


def block_param(block: BlockId) -> str:
    """A block number or tag as a JSON-RPC parameter."""
    if isinstance(block, bool):
        raise TypeError("block must be an int or a tag")
    return hex(block) if isinstance(block, int) else block


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` or ``RpcResponseError`` if ``obj`` is no dict or lacks the field."""
    if not isinstance(obj, dict):
        raise RpcResponseError(f"expected an object with {name!r}, got {type(obj).__name__}")
    if name not in obj:
        raise RpcResponseError(f"answer lacks field {name!r}")
    return obj[name]


def as_int(value: Any, what: str) -> int:
    """A 0x-hex quantity as ``int``."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RpcResponseError(f"{what}: expected a hex quantity, got {value!r}")
    try:
        return int(value, 16)
    except ValueError as err:
        raise RpcResponseError(f"{what}: bad hex quantity {value!r}") from err


def as_bytes(value: Any, what: str) -> bytes:
    """0x-hex data as ``bytes``."""
    if not isinstance(value, str) or not value.startswith("0x") or len(value) % 2:
        raise RpcResponseError(f"{what}: expected 0x-hex data, got {value!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as err:
        raise RpcResponseError(f"{what}: bad hex data {value!r}") from err


def as_hash(value: Any, what: str) -> Hash32:
    """A 32-byte 0x-hex hash."""
    try:
        return parse_hash32(value, what)
    except (ValueError, TypeError) as err:
        raise RpcResponseError(str(err)) from err


def as_address(value: Any, what: str) -> Address:
    """A 20-byte 0x-hex address."""
    try:
        return parse_address(value, what)
    except (ValueError, TypeError) as err:
        raise RpcResponseError(str(err)) from err


def parse_block(raw: Any) -> BlockRef:
    """A block object (header fields only) as ``BlockRef``."""
    base_fee = raw.get("baseFeePerGas") if isinstance(raw, dict) else None
    return BlockRef(
        number=as_int(field(raw, "number"), "block.number"),
        hash=as_hash(field(raw, "hash"), "block.hash"),
        parent_hash=as_hash(field(raw, "parentHash"), "block.parentHash"),
        timestamp=as_int(field(raw, "timestamp"), "block.timestamp"),
        base_fee=None if base_fee is None else as_int(base_fee, "block.baseFeePerGas"),
    )


def parse_log(raw: Any) -> LogEntry:
    """A log object as ``LogEntry``."""
    topics = field(raw, "topics")
    if not isinstance(topics, list):
        raise RpcResponseError(f"log.topics: expected a list, got {topics!r}")
    removed = raw.get("removed", False)
    if not isinstance(removed, bool):
        raise RpcResponseError(f"log.removed: expected a bool, got {removed!r}")
    return LogEntry(
        address=as_address(field(raw, "address"), "log.address"),
        topics=tuple(as_hash(t, "log.topic") for t in topics),
        data=as_bytes(field(raw, "data"), "log.data"),
        block_number=as_int(field(raw, "blockNumber"), "log.blockNumber"),
        block_hash=as_hash(field(raw, "blockHash"), "log.blockHash"),
        tx_hash=as_hash(field(raw, "transactionHash"), "log.transactionHash"),
        log_index=as_int(field(raw, "logIndex"), "log.logIndex"),
        removed=removed,
    )


def parse_receipt(raw: Any) -> Receipt:
    """A receipt object as ``Receipt``."""
    logs = field(raw, "logs")
    if not isinstance(logs, list):
        raise RpcResponseError(f"receipt.logs: expected a list, got {logs!r}")
    price = raw.get("effectiveGasPrice")
    return Receipt(
        tx_hash=as_hash(field(raw, "transactionHash"), "receipt.transactionHash"),
        status=as_int(field(raw, "status"), "receipt.status"),
        block_number=as_int(field(raw, "blockNumber"), "receipt.blockNumber"),
        block_hash=as_hash(field(raw, "blockHash"), "receipt.blockHash"),
        gas_used=as_int(field(raw, "gasUsed"), "receipt.gasUsed"),
        effective_gas_price=None if price is None else as_int(price, "receipt.effectiveGasPrice"),
        logs=tuple(parse_log(entry) for entry in logs),
    )


@dataclass(frozen=True, slots=True)
class SentTransaction:
    """What a node says of a transaction it holds (``eth_getTransactionByHash``)."""

    tx_hash: Hash32
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    block_number: int | None  # None while it waits in the pool


def parse_transaction(raw: Any) -> SentTransaction:
    """A transaction object as ``SentTransaction`` (a legacy one: its gas price as both fees)."""
    if not isinstance(raw, dict):
        raise RpcResponseError(f"transaction: expected an object, got {type(raw).__name__}")
    price = raw.get("gasPrice")
    block = raw.get("blockNumber")
    return SentTransaction(
        tx_hash=as_hash(field(raw, "hash"), "transaction.hash"),
        nonce=as_int(field(raw, "nonce"), "transaction.nonce"),
        gas=as_int(field(raw, "gas"), "transaction.gas"),
        max_fee_per_gas=as_int(raw.get("maxFeePerGas", price), "transaction.maxFeePerGas"),
        max_priority_fee_per_gas=as_int(
            raw.get("maxPriorityFeePerGas", price), "transaction.maxPriorityFeePerGas"
        ),
        block_number=None if block is None else as_int(block, "transaction.blockNumber"),
    )
