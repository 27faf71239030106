"""A second, independent node of a source chain vouches for an event before it is signed.

One node per chain cannot catch a node that lies consistently: a ``Locked`` log forged
*from the vault's own address* decodes like a real one. With ``cross_check_rpc_url``
set for a chain, every event its watcher stored is checked against that witness node
before this validator signs it. The witness must

1. have confirmed the event's block under the same confirmation rule (else: not yet),
2. hold the transaction's receipt, successful, in that very block (same hash),
3. with a log at the same index that decodes to exactly the same event.

Anything else contradicts the event: it is never signed, and the operator is alerted.
A witness that is down or answers nonsense is no evidence either way: not yet.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from relayer.chain.confirmation import ConfirmationRule, confirmed_head
from relayer.chain.events import EventDecoder, LogRejectedError
from relayer.chain.rpc import RpcClient
from relayer.chain.rpc_types import BlockRef
from relayer.domain.types import SourceEvent


@dataclass(frozen=True, slots=True)
class Corroborated:
    """The witness holds the same event in the same block, confirmed."""


@dataclass(frozen=True, slots=True)
class NotYetConfirmed:
    """The witness has not confirmed the event's block yet: ask again later."""

    witness_head: int | None


@dataclass(frozen=True, slots=True)
class Contradicted:
    """The witness disagrees with the event: never sign it."""

    reason: str


CrossCheck = Corroborated | NotYetConfirmed | Contradicted


def _differences(seen: SourceEvent, claimed: SourceEvent) -> list[str]:
    return [
        f.name for f in fields(SourceEvent) if getattr(seen, f.name) != getattr(claimed, f.name)
    ]


class CrossChecker:
    """Checks one chain's events against a witness node (see the module docstring)."""

    def __init__(
        self, name: str, rpc: RpcClient, decoder: EventDecoder, rule: ConfirmationRule
    ) -> None:
        self.name = name  # the chain's name in metrics: "conflux" or "ethereum"
        self.rpc = rpc
        self.decoder = decoder
        self.rule = rule

    async def witness_head(self) -> BlockRef | None:
        """The witness's confirmed head (read once, then passed to `check` for each event)."""
        return await confirmed_head(self.rpc, self.rule)

    async def check(self, event: SourceEvent, head: BlockRef | None) -> CrossCheck:
        """The witness's verdict on ``event``, given its confirmed ``head``.

        Raises the RPC client's errors when the witness cannot be read.
        """
        if head is None or head.number < event.block_number:
            return NotYetConfirmed(None if head is None else head.number)
        tx = "0x" + event.tx_hash.hex()
        receipt = await self.rpc.get_transaction_receipt(event.tx_hash)
        if receipt is None:
            return Contradicted(f"the witness knows no transaction {tx}")
        if receipt.block_hash != event.block_hash or receipt.block_number != event.block_number:
            return Contradicted(
                f"the witness has {tx} in block {receipt.block_number} "
                f"0x{receipt.block_hash.hex()}, not {event.block_number} "
                f"0x{event.block_hash.hex()}"
            )
        if receipt.status != 1:
            return Contradicted(f"the witness says {tx} reverted")
        log = next((x for x in receipt.logs if x.log_index == event.log_index), None)
        if log is None:
            return Contradicted(f"the witness has no log #{event.log_index} in {tx}")
        try:
            seen = self.decoder.decode(log)
        except LogRejectedError as err:
            return Contradicted(f"the witness's log #{event.log_index} in {tx}: {err.reason}")
        if seen != event:
            differ = ", ".join(_differences(seen, event))
            return Contradicted(f"the witness's log #{event.log_index} in {tx} differs in {differ}")
        return Corroborated()
