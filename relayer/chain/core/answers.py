"""Core Space answers, parsed strictly (a malformed answer is an ``RpcResponseError``).

Core logs carry ``epochNumber`` (no ``blockNumber``, no ``removed``); receipts report
``outcomeStatus`` 0 = success, 1 = failure, 2 = skipped (the opposite sense of Ethereum's
``status``), the gas charged, and the storage collateralized.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from relayer.chain.rpc_types import as_bytes, as_hash, as_int, field
from relayer.domain.cip37 import Cip37Error, decode
from relayer.domain.types import Address, Hash32
from relayer.errors import RpcResponseError


class Outcome(IntEnum):
    """A Core receipt's ``outcomeStatus``."""

    SUCCESS = 0
    FAILURE = 1
    SKIPPED = 2


@dataclass(frozen=True, slots=True)
class CoreLog:
    """One event log of Core Space."""

    address: Address  # the contract's 20 bytes (hex form)
    topics: tuple[Hash32, ...]
    data: bytes
    epoch_number: int
    block_hash: Hash32
    tx_hash: Hash32
    log_index: int  # within the epoch
    transaction_log_index: int  # within the transaction


@dataclass(frozen=True, slots=True)
class CoreReceipt:
    """A Core transaction's receipt."""

    tx_hash: Hash32
    outcome: Outcome
    epoch_number: int
    block_hash: Hash32
    gas_used: int
    gas_fee: int
    storage_collateralized: int
    contract_created: Address | None
    error: str  # ``txExecErrorMsg``: empty on success
    logs: tuple[CoreLog, ...]

    @property
    def succeeded(self) -> bool:
        return self.outcome is Outcome.SUCCESS


def as_core_address(value: Any, what: str, network_id: int) -> Address:
    """A CIP-37 address of ``network_id`` (either form) as its 20 bytes."""
    if not isinstance(value, str):
        raise RpcResponseError(f"{what}: expected a CIP-37 address, got {value!r}")
    try:
        return Address(decode(value, expected_network=network_id).address)
    except Cip37Error as err:
        raise RpcResponseError(f"{what}: {err}") from err


def parse_core_log(raw: Any, network_id: int) -> CoreLog:
    topics = field(raw, "topics")
    if not isinstance(topics, list):
        raise RpcResponseError("log topics: expected a list")
    return CoreLog(
        address=as_core_address(field(raw, "address"), "log address", network_id),
        topics=tuple(as_hash(t, "log topic") for t in topics),
        data=as_bytes(field(raw, "data"), "log data"),
        epoch_number=as_int(field(raw, "epochNumber"), "log epochNumber"),
        block_hash=as_hash(field(raw, "blockHash"), "log blockHash"),
        tx_hash=as_hash(field(raw, "transactionHash"), "log transactionHash"),
        log_index=as_int(field(raw, "logIndex"), "log logIndex"),
        transaction_log_index=as_int(field(raw, "transactionLogIndex"), "log transactionLogIndex"),
    )


def parse_core_receipt(raw: Any, network_id: int) -> CoreReceipt:
    status = as_int(field(raw, "outcomeStatus"), "receipt outcomeStatus")
    try:
        outcome = Outcome(status)
    except ValueError as err:
        raise RpcResponseError(f"receipt outcomeStatus: unknown value {status}") from err
    created = raw.get("contractCreated") if isinstance(raw, dict) else None
    logs = field(raw, "logs")
    if not isinstance(logs, list):
        raise RpcResponseError("receipt logs: expected a list")
    epoch = as_int(field(raw, "epochNumber"), "receipt epochNumber")
    block_hash = as_hash(field(raw, "blockHash"), "receipt blockHash")
    tx_hash = as_hash(field(raw, "transactionHash"), "receipt transactionHash")
    parsed_logs = []
    for i, entry in enumerate(logs):  # receipt logs lack the epoch and hashes: filled in
        if not isinstance(entry, dict):
            raise RpcResponseError("receipt log: expected an object")
        parsed_logs.append(
            parse_core_log(
                {
                    "epochNumber": hex(epoch),
                    "blockHash": "0x" + block_hash.hex(),
                    "transactionHash": "0x" + tx_hash.hex(),
                    "logIndex": hex(i),
                    "transactionLogIndex": hex(i),
                    **entry,
                },
                network_id,
            )
        )
    error = raw.get("txExecErrorMsg") or ""
    return CoreReceipt(
        tx_hash=tx_hash,
        outcome=outcome,
        epoch_number=epoch,
        block_hash=block_hash,
        gas_used=as_int(field(raw, "gasUsed"), "receipt gasUsed"),
        gas_fee=as_int(field(raw, "gasFee"), "receipt gasFee"),
        storage_collateralized=as_int(
            field(raw, "storageCollateralized"), "receipt storageCollateralized"
        ),
        contract_created=None
        if created is None
        else as_core_address(created, "receipt contractCreated", network_id),
        error=str(error),
        logs=tuple(parsed_logs),
    )
