"""Core Space as a ``ChainReader``: the watcher and the confirmation rule run unchanged on it.

- An epoch is the block: numbers are epoch numbers, a block's hash is the epoch's pivot
  block hash, and its parent the previous epoch's pivot (so a pivot-chain reorganisation
  shows as a changed hash, as on an EVM chain).
- Heads: ``latest`` is ``latest_state`` (the newest executed epoch: ``latest_mined`` is not
  executed yet), ``safe`` is ``latest_confirmed``, ``finalized`` is ``latest_finalized``.
- Logs come from ``cfx_getLogs`` by epoch with the base32 address; each log's block hash is
  its epoch's pivot hash (the node names the block that packed the transaction, which may
  be any block of the epoch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relayer.chain.core.rpc import CoreRpc
from relayer.chain.rpc_types import (
    BlockId,
    BlockRef,
    LogEntry,
    as_hash,
    as_int,
    field,
)
from relayer.domain.types import Hash32
from relayer.errors import RpcResponseError

TAGS = {
    "latest": "latest_state",
    "safe": "latest_confirmed",
    "finalized": "latest_finalized",
    "earliest": "earliest",
}


class CoreReader:
    """Reads one Core Space node for the watcher (see the module docstring)."""

    def __init__(self, core: CoreRpc) -> None:
        self.core = core

    async def block_number(self) -> int:
        return await self.core.epoch_number("latest_state")

    async def get_block(self, block: BlockId) -> BlockRef | None:
        if isinstance(block, int):
            if block > await self.block_number():
                return None  # not executed yet: as an EVM node has no such block
            epoch: str = hex(block)
        elif block in TAGS:
            epoch = TAGS[block]
        else:
            raise ValueError(f"block tag {block!r} has no Core epoch")
        raw = await self.core.rpc.request("cfx_getBlockByEpochNumber", [epoch, False])
        return None if raw is None else _pivot(raw)

    async def get_logs(
        self,
        address: bytes | Sequence[bytes] | None,
        topics: Sequence[bytes | Sequence[bytes] | None],
        from_block: int,
        to_block: int,
    ) -> list[LogEntry]:
        if not isinstance(address, bytes):
            raise TypeError("a Core log query names one contract")
        flat: list[bytes | None] = []
        for topic in topics:
            if topic is not None and not isinstance(topic, bytes):
                raise TypeError("a Core log query takes one value per topic position")
            flat.append(topic)
        logs = await self.core.logs(address, from_block, to_block, flat)
        pivots: dict[int, Hash32] = {}
        entries = []
        for entry in logs:
            if entry.epoch_number not in pivots:
                pivot = await self.get_block(entry.epoch_number)
                if pivot is None:
                    raise RpcResponseError(f"a log of epoch {entry.epoch_number} beyond the state")
                pivots[entry.epoch_number] = pivot.hash
            entries.append(
                LogEntry(
                    address=entry.address,
                    topics=entry.topics,
                    data=entry.data,
                    block_number=entry.epoch_number,
                    block_hash=pivots[entry.epoch_number],
                    tx_hash=entry.tx_hash,
                    log_index=entry.log_index,
                )
            )
        return entries


def _pivot(raw: Any) -> BlockRef:
    return BlockRef(
        number=as_int(field(raw, "epochNumber"), "block epochNumber"),
        hash=as_hash(field(raw, "hash"), "block hash"),
        parent_hash=as_hash(field(raw, "parentHash"), "block parentHash"),
        timestamp=as_int(field(raw, "timestamp"), "block timestamp"),
    )
