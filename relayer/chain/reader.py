"""What the watcher and the confirmation rule read from a chain, whatever its kind.

``RpcClient`` (EVM chains: eSpace, Ethereum) and ``CoreReader`` (Conflux Core Space, where
an epoch plays the block's part and its pivot block's hash the block hash) both are one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from relayer.chain.rpc_types import BlockId, BlockRef, LogEntry


class ChainReader(Protocol):
    """Heads, blocks (epochs) and logs of one chain."""

    async def block_number(self) -> int:
        """The newest block (epoch) whose state the node has."""
        ...

    async def get_block(self, block: BlockId) -> BlockRef | None:
        """A block by number or tag (``latest``, ``safe``, ``finalized``, ``earliest``)."""
        ...

    async def get_logs(
        self,
        address: bytes | Sequence[bytes] | None,
        topics: Sequence[bytes | Sequence[bytes] | None],
        from_block: int,
        to_block: int,
    ) -> list[LogEntry]:
        """The logs in ``[from_block, to_block]`` (inclusive)."""
        ...
