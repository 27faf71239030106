"""Values around one release submission: the request, typed outcomes, the nonce source.

The store implements ``NonceSource`` durably (one row per chain and sender);
``InMemoryNonceSource`` is the reference implementation for tests and tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from relayer.chain.bridge import (
    ALREADY_PROCESSED_SELECTOR,
    IS_PROCESSED_SELECTOR,
    NOT_DELAYED_SELECTOR,
    STATUS_OF_SELECTOR,
    TRANSFER_CANCELLED_SELECTOR,
)
from relayer.chain.fees import FeeAboveCap
from relayer.chain.rpc_types import LogEntry
from relayer.domain.types import Address, Hash32

STATUS_DELAYED = 2  # statusOf


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    """Send ``data`` to ``to`` for ``transfer_id``: a ``release``/``unlock`` call by
    default, or (``execute_delayed_request``) an ``executeDelayed``.

    The work is still to do while the view ``pending_check(transferId)`` answers
    ``pending_answer``; a revert whose selector is in ``done_errors`` means it was done, one
    in ``HELD_ERRORS`` that it must wait (``Held``).
    """

    transfer_id: Hash32
    to: Address
    data: bytes
    value: int = 0
    pending_check: bytes = IS_PROCESSED_SELECTOR
    pending_answer: int = 0
    done_errors: tuple[bytes, ...] = (ALREADY_PROCESSED_SELECTOR, TRANSFER_CANCELLED_SELECTOR)
    # A batch (``releaseBatch``/``unlockBatch``): the transfers it carries, ``transfer_id``
    # being the first. The caller checked each was still to do; the contract skips an item
    # done meanwhile (``ReleaseSkipped``), so there is no pre-flight and a revert is Failed.
    batch: tuple[Hash32, ...] = ()
    gas_budget: int | None = None  # an estimate above it is ``OverBudget``, nothing is sent
    # False for a transaction that carries no transfer (``commitRoot``): it is not in the
    # send journal, so a restart does not follow it (sent again, it reverts harmlessly)
    journaled: bool = True

    @property
    def transfer_ids(self) -> tuple[Hash32, ...]:
        """The transfers this request carries: a batch's, or the one of a single request."""
        return self.batch or (self.transfer_id,)


def execute_delayed_request(transfer_id: Hash32, to: Address, data: bytes) -> SubmitRequest:
    """``executeDelayed``: to do while ``statusOf`` is 2 (delayed); ``NotDelayed``: done."""
    return SubmitRequest(
        transfer_id,
        to,
        data,
        pending_check=STATUS_OF_SELECTOR,
        pending_answer=STATUS_DELAYED,
        done_errors=(NOT_DELAYED_SELECTOR,),
    )


@dataclass(frozen=True, slots=True)
class Mined:
    """Mined with the wanted confirmations and ``status`` 1 (final once the chain's
    confirmation rule covers its block: until then the caller keeps the work open)."""

    tx_hash: Hash32
    block_number: int
    gas_used: int
    logs: tuple[LogEntry, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class OverBudget:
    """Not sent: the request's gas estimate is above its ``gas_budget`` (a batch to split)."""

    gas: int
    budget: int


@dataclass(frozen=True, slots=True)
class AlreadyProcessed:
    """Done: the destination contract acted on this transfer at or below its confirmed
    head (a peer did, or our own earlier transaction): the caller reads what it did
    (executed, delayed or cancelled)."""

    transfer_id: Hash32
    tx_hash: Hash32 | None = None  # our transaction, if one reverted with AlreadyProcessed
    # the confirmed head it was read at (None: an estimateGas revert, no head read)
    confirmed_at: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AwaitingFinality:
    """Executed on the destination, but not yet at or below its confirmed head: a reorg
    could still drop the execution, so nothing is sent and nothing counts as done yet."""

    transfer_id: Hash32


@dataclass(frozen=True, slots=True)
class OutOfFunds:
    """The sender cannot pay the fees: alert the operator, retry after funding."""

    sender: Address
    detail: str


@dataclass(frozen=True, slots=True)
class Held:
    """Not sent: the destination refuses it for now (the contract, the token or the route is
    paused there, ``HELD_ERRORS``). Nothing is recorded; it is tried again next round."""

    transfer_id: Hash32
    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    """The transaction reverts (other than AlreadyProcessed) or the node refused it."""

    reason: str
    tx_hash: Hash32 | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """The deadline passed with a transaction still unmined: call again later."""

    tx_hash: Hash32
    nonce: int


SubmitOutcome = (
    Mined
    | AlreadyProcessed
    | AwaitingFinality
    | FeeAboveCap
    | OutOfFunds
    | Held
    | OverBudget
    | Failed
    | Pending
)


class NonceSource(Protocol):
    """Durable next-nonce bookkeeping per (chain, sender)."""

    async def next_nonce(self, chain_id: int, sender: Address, chain_pending: int) -> int:
        """The nonce to use now, given the node's pending transaction count."""
        ...

    async def commit(self, chain_id: int, sender: Address, nonce: int) -> None:
        """A transaction with ``nonce`` was accepted by the node: the next one is +1."""
        ...

    async def resync(self, chain_id: int, sender: Address, chain_nonce: int) -> None:
        """The node said "nonce too low": forget what is stored, trust ``chain_nonce``."""
        ...


@dataclass(frozen=True, slots=True)
class SentTx:
    """A signed release transaction as recorded before it is broadcast."""

    transfer_ids: tuple[Hash32, ...]  # what it carries (one, or a batch's)
    nonce: int
    tx_hash: Hash32
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


class SendJournal(Protocol):
    """Where a submitter records each transaction before it leaves, and finds again the
    ones it sent before a restart (``Submitter``: it follows such a transaction while the
    node still holds it instead of sending another)."""

    async def record(self, chain_id: int, sender: Address, sent: SentTx) -> None:
        """Durably record ``sent`` (idempotent); called before the broadcast."""
        ...

    async def in_flight(
        self, chain_id: int, sender: Address, transfer_ids: tuple[Hash32, ...]
    ) -> tuple[SentTx, ...]:
        """Recorded transactions of ``sender`` on ``chain_id`` carrying any of
        ``transfer_ids`` whose fate is not known yet, by ascending nonce."""
        ...


@dataclass
class InMemoryNonceSource:
    """``NonceSource`` in a dict, with the store's rule: the node's pending count wins."""

    stored: dict[tuple[int, Address], int] = field(default_factory=dict)

    async def next_nonce(self, chain_id: int, sender: Address, chain_pending: int) -> int:
        """``chain_pending``: a stored nonce ahead of it means the node dropped our
        transactions (a restart, or a reorg that orphaned them); leaving that gap open
        would stall every later send, so it is refilled."""
        return chain_pending

    async def commit(self, chain_id: int, sender: Address, nonce: int) -> None:
        """Stored becomes at least ``nonce + 1``."""
        key = (chain_id, sender)
        self.stored[key] = max(self.stored.get(key, 0), nonce + 1)

    async def resync(self, chain_id: int, sender: Address, chain_nonce: int) -> None:
        """Stored becomes ``chain_nonce``."""
        self.stored[(chain_id, sender)] = chain_nonce
