"""Decode the bridge's ``Locked`` / ``Burned`` logs into ``SourceEvent`` values.

Mirrors ``contracts/src/interfaces/IBridge.sol``: both events have the shape
``(bytes32 indexed transferId, uint64 indexed nonce, address indexed token,
address sender, address recipient, uint256 amount, uint64 dstChainId)``.
Decoding is strict: a log from another contract, with another signature, with the
wrong number of topics, a data length other than 4 words, dirty address padding or an
out-of-range uint64 is rejected with ``LogRejectedError`` (callers count and skip it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from eth_utils.crypto import keccak

from relayer.chain.rpc_types import LogEntry
from relayer.domain.types import UINT64_MAX, Address, Hash32, SourceEvent, checksum
from relayer.errors import RejectedInputError

EVENT_ARGS = "(bytes32,uint64,address,address,address,uint256,uint64)"
WORD = 32


class BridgeEvent(enum.StrEnum):
    """The two source events the relayer watches."""

    LOCKED = "Locked"  # on the Conflux BridgeVault
    BURNED = "Burned"  # on the Ethereum BridgeGateway

    @property
    def signature(self) -> str:
        """Canonical signature, e.g. ``Locked(bytes32,uint64,...)``."""
        return self.value + EVENT_ARGS

    @property
    def topic0(self) -> Hash32:
        """keccak256 of the signature."""
        return Hash32(keccak(text=self.signature))


class LogRejectedError(RejectedInputError):
    """A log that must not become an event (foreign contract, bad shape)."""

    def __init__(self, reason: str, log: LogEntry) -> None:
        super().__init__(f"log rejected ({reason}): tx 0x{log.tx_hash.hex()} #{log.log_index}")
        self.reason = reason
        self.log = log


def _word_uint(word: bytes, bits: int, what: str, log: LogEntry) -> int:
    value = int.from_bytes(word, "big")
    if value >= 1 << bits:
        raise LogRejectedError(f"{what} exceeds uint{bits}", log)
    return value


def _word_address(word: bytes, what: str, log: LogEntry) -> Address:
    if any(word[:12]):
        raise LogRejectedError(f"{what} has dirty padding", log)
    return Address(word[12:])


@dataclass(frozen=True, slots=True)
class EventDecoder:
    """Decodes one contract's events on one chain."""

    event: BridgeEvent
    contract: Address
    src_chain_id: int

    @property
    def topic0(self) -> Hash32:
        """The event's topic 0, for ``eth_getLogs`` filters."""
        return self.event.topic0

    def decode(self, log: LogEntry) -> SourceEvent:
        """The ``SourceEvent`` of ``log``, or ``LogRejectedError``."""
        if log.address != self.contract:
            raise LogRejectedError(
                f"emitted by {checksum(log.address)}, not {checksum(self.contract)}", log
            )
        if log.removed:
            raise LogRejectedError("marked removed", log)
        if len(log.topics) != 4 or log.topics[0] != self.topic0:
            raise LogRejectedError(f"not a {self.event.value} log", log)
        if len(log.data) != 4 * WORD:
            raise LogRejectedError(f"data is {len(log.data)} bytes, expected 128", log)
        words = [log.data[i : i + WORD] for i in range(0, 4 * WORD, WORD)]
        nonce = _word_uint(log.topics[2], 64, "nonce", log)
        dst_chain_id = _word_uint(words[3], 64, "dstChainId", log)
        if dst_chain_id > UINT64_MAX:  # pragma: no cover - guarded above
            raise LogRejectedError("dstChainId out of range", log)
        return SourceEvent(
            transfer_id=Hash32(log.topics[1]),
            src_chain_id=self.src_chain_id,
            src_contract=self.contract,
            nonce=nonce,
            src_token=_word_address(log.topics[3], "token", log),
            sender=_word_address(words[0], "sender", log),
            recipient=_word_address(words[1], "recipient", log),
            amount=int.from_bytes(words[2], "big"),
            dst_chain_id=dst_chain_id,
            block_number=log.block_number,
            block_hash=log.block_hash,
            tx_hash=log.tx_hash,
            log_index=log.log_index,
        )


def encode_event_log(event: SourceEvent) -> tuple[tuple[bytes, ...], bytes]:
    """Topics 1..3 and data for an event, as the contract would emit it (tests, emitters)."""
    topics = (
        event.transfer_id,
        event.nonce.to_bytes(WORD, "big"),
        bytes(12) + event.src_token,
    )
    data = (
        bytes(12)
        + event.sender
        + bytes(12)
        + event.recipient
        + event.amount.to_bytes(WORD, "big")
        + event.dst_chain_id.to_bytes(WORD, "big")
    )
    return topics, data
