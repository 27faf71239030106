"""Freezes of the mirror tokens, read from the destination chain's logs for the supervisor.

``MirroredToken`` emits ``Frozen(address indexed account)`` and ``Unfrozen(address indexed
account)`` when its issuer freezes or unfreezes a holder. The supervisor view reads them
with ``eth_getLogs`` over the latest ``lookback`` blocks of Ethereum (a bounded range, in
windows of ``max_log_window``), from the mirrors this relayer knows (the Ethereum-side
tokens of stored transfers and of the pack in force). Older freezes are outside the view;
``isFrozen(address)`` on the token answers for any one address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from relayer.chain.rpc import RpcClient
from relayer.chain.rpc_types import LogEntry
from relayer.domain.types import checksum, hex32

FROZEN_TOPIC = keccak(text="Frozen(address)")
UNFROZEN_TOPIC = keccak(text="Unfrozen(address)")


@dataclass(frozen=True, slots=True)
class FreezeEvent:
    """One freeze or unfreeze of ``account`` on ``token``."""

    token: bytes
    account: bytes
    frozen: bool
    block: int
    log_index: int
    tx_hash: bytes


def decode_freeze(entry: LogEntry) -> FreezeEvent | None:
    """A Frozen/Unfrozen log, or None for any other or malformed log."""
    if entry.removed or len(entry.topics) != 2:
        return None
    topic = bytes(entry.topics[0])
    if topic not in (FROZEN_TOPIC, UNFROZEN_TOPIC):
        return None
    account = bytes(entry.topics[1])
    if account[:12] != b"\x00" * 12:
        return None
    return FreezeEvent(
        bytes(entry.address),
        account[12:],
        topic == FROZEN_TOPIC,
        entry.block_number,
        entry.log_index,
        bytes(entry.tx_hash),
    )


def frozen_now(events: Iterable[FreezeEvent]) -> list[FreezeEvent]:
    """Per (token, account), the last event if it is a freeze: frozen at the range's end."""
    last: dict[tuple[bytes, bytes], FreezeEvent] = {}
    for event in sorted(events, key=lambda e: (e.block, e.log_index)):
        last[(event.token, event.account)] = event
    return [e for e in last.values() if e.frozen]


def freeze_to_json(event: FreezeEvent) -> dict[str, Any]:
    return {
        "token": checksum(event.token),
        "account": checksum(event.account),
        "event": "frozen" if event.frozen else "unfrozen",
        "block": event.block,
        "tx_hash": hex32(event.tx_hash),
    }


async def read_freezes(
    rpc: RpcClient, tokens: Iterable[bytes], lookback: int, window: int
) -> tuple[int, int, list[FreezeEvent]]:
    """``(from_block, to_block, events)`` over the latest ``lookback`` blocks."""
    watched = sorted(set(tokens))
    head = await rpc.block_number()
    start = max(0, head - lookback + 1)
    events: list[FreezeEvent] = []
    if not watched:
        return start, head, events
    low = start
    while low <= head:
        high = min(head, low + window - 1)
        topics: list[bytes | list[bytes] | None] = [[FROZEN_TOPIC, UNFROZEN_TOPIC]]
        for entry in await rpc.get_logs(watched, topics, low, high):
            event = decode_freeze(entry)
            if event is not None:
                events.append(event)
        low = high + 1
    events.sort(key=lambda e: (e.block, e.log_index))
    return start, head, events
