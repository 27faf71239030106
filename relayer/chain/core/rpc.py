"""Core Space JSON-RPC over the same pooled, timed, classified ``RpcClient`` as eSpace.

Facts this follows (checked on the conflux-rust dev node; conflux.md):
- ``cfx_getLogs`` takes ``fromEpoch``/``toEpoch`` and base32 addresses only (hex is refused);
  ``latest_mined`` as ``toEpoch`` is an error ("not executed yet"): ask up to
  ``latest_state`` (the head minus the deferred-execution epochs).
- ``cfx_getNextNonce`` ignores transactions still in the pool (re-using its answer fails
  "too stale nonce"): ``txpool_nextNonce`` counts them.
- ``cfx_estimateGasAndCollateral`` gives the gas and the storage to collateralize.
- Never ``eth_maxPriorityFeePerGas`` / ``eth_feeHistory`` on this node (they deadlock it);
  Core fees come from ``cfx_gasPrice``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from relayer.chain.core.answers import CoreLog, CoreReceipt, parse_core_log, parse_core_receipt
from relayer.chain.rpc import RpcClient
from relayer.chain.rpc_types import as_hash, as_int, field
from relayer.domain.cip37 import encode
from relayer.domain.types import Hash32
from relayer.errors import RpcResponseError

EPOCH_TAGS = frozenset(
    {"earliest", "latest_checkpoint", "latest_finalized", "latest_confirmed", "latest_state"}
)


@dataclass(frozen=True, slots=True)
class Estimate:
    """What ``cfx_estimateGasAndCollateral`` answered."""

    gas_limit: int  # what the node suggests as the limit (gas used plus its margin)
    gas_used: int
    storage_collateralized: int  # bytes


def epoch_param(epoch: int | str) -> str:
    if isinstance(epoch, int):
        if epoch < 0:
            raise ValueError("an epoch number is not negative")
        return hex(epoch)
    if epoch not in EPOCH_TAGS:
        raise ValueError(f"epoch tag {epoch!r} is not one of {sorted(EPOCH_TAGS)}")
    return epoch


class CoreRpc:
    """Core Space calls on ``rpc`` (the node's Core endpoint) for ``network_id``."""

    def __init__(self, rpc: RpcClient, network_id: int) -> None:
        self.rpc = rpc
        self.network_id = network_id

    def base32(self, address: bytes) -> str:
        return encode(address, self.network_id)

    async def status(self) -> dict[str, Any]:
        answer = await self.rpc.request("cfx_getStatus", [])
        if not isinstance(answer, dict):
            raise RpcResponseError("cfx_getStatus: expected an object")
        return answer

    async def check_network(self) -> None:
        """Raise unless the node serves ``network_id`` (a node of another network would
        answer every address with another prefix)."""
        network = as_int(field(await self.status(), "networkId"), "cfx_getStatus networkId")
        if network != self.network_id:
            raise RpcResponseError(f"the node serves network {network}, not {self.network_id}")

    async def epoch_number(self, epoch: int | str = "latest_state") -> int:
        answer = await self.rpc.request("cfx_epochNumber", [epoch_param(epoch)])
        return as_int(answer, "cfx_epochNumber")

    async def gas_price(self) -> int:
        return as_int(await self.rpc.request("cfx_gasPrice", []), "cfx_gasPrice")

    async def balance(self, address: bytes) -> int:
        answer = await self.rpc.request("cfx_getBalance", [self.base32(address)])
        return as_int(answer, "cfx_getBalance")

    async def next_nonce(self, address: bytes) -> int:
        """The next nonce counting the sender's transactions still in the pool."""
        answer = await self.rpc.request("txpool_nextNonce", [self.base32(address)])
        return as_int(answer, "txpool_nextNonce")

    async def estimate(
        self, sender: bytes, to: bytes | None, data: bytes, value: int = 0
    ) -> Estimate:
        call: dict[str, Any] = {"from": self.base32(sender), "data": "0x" + data.hex()}
        if to is not None:
            call["to"] = self.base32(to)
        if value:
            call["value"] = hex(value)
        answer = await self.rpc.request("cfx_estimateGasAndCollateral", [call, "latest_state"])
        return Estimate(
            gas_limit=as_int(field(answer, "gasLimit"), "estimate gasLimit"),
            gas_used=as_int(field(answer, "gasUsed"), "estimate gasUsed"),
            storage_collateralized=as_int(
                field(answer, "storageCollateralized"), "estimate storageCollateralized"
            ),
        )

    async def call(self, to: bytes, data: bytes, epoch: int | str = "latest_state") -> bytes:
        request = {"to": self.base32(to), "data": "0x" + data.hex()}
        answer = await self.rpc.request("cfx_call", [request, epoch_param(epoch)])
        if not isinstance(answer, str) or not answer.startswith("0x"):
            raise RpcResponseError(f"cfx_call: expected 0x-hex data, got {answer!r}")
        return bytes.fromhex(answer[2:])

    async def send_raw_transaction(self, raw: bytes) -> Hash32:
        answer = await self.rpc.request("cfx_sendRawTransaction", ["0x" + raw.hex()])
        return as_hash(answer, "cfx_sendRawTransaction")

    async def receipt(self, tx_hash: bytes) -> CoreReceipt | None:
        answer = await self.rpc.request("cfx_getTransactionReceipt", ["0x" + tx_hash.hex()])
        return None if answer is None else parse_core_receipt(answer, self.network_id)

    async def logs(
        self,
        address: bytes,
        from_epoch: int,
        to_epoch: int,
        topics: Sequence[bytes | None] = (),
    ) -> list[CoreLog]:
        """The contract's logs in ``[from_epoch, to_epoch]`` (ask at most up to
        ``latest_state``)."""
        if to_epoch < from_epoch:
            raise ValueError("to_epoch before from_epoch")
        query: dict[str, Any] = {
            "address": [self.base32(address)],
            "fromEpoch": hex(from_epoch),
            "toEpoch": hex(to_epoch),
        }
        if topics:
            query["topics"] = [None if t is None else "0x" + t.hex() for t in topics]
        answer = await self.rpc.request("cfx_getLogs", [query])
        if not isinstance(answer, list):
            raise RpcResponseError("cfx_getLogs: expected a list")
        return [parse_core_log(entry, self.network_id) for entry in answer]
