"""A second, independent node of a source chain vouches for an event before it is signed.

One node per chain cannot catch a node that lies consistently: a ``Locked`` log forged
*from the vault's own address* decodes like a real one. With ``cross_check_rpc_url``
set for a chain, every event its watcher stored is checked against that witness node
before this validator signs it, with the watcher's own query:

1. the witness must have confirmed the event's block under the same rule (else: not
   yet; a witness that lags is no evidence);
2. its block at that height must be the same block (same hash);
3. its ``eth_getLogs`` for that block and contract must hold a log from the same
   transaction at the same index, decoding to exactly the same event.

A different block, or no such log in it, contradicts the event: it is never signed,
and the operator is alerted. Only ``eth_getLogs`` and headers are used, so a witness
without a transaction index (a Conflux full node's default) serves as well as any.
A witness that is down or answers nonsense raises the RPC client's errors: no verdict.
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
    """The witness has not confirmed the event's block yet (or its block moved while
    it was read): ask again later."""

    witness_head: int | None


@dataclass(frozen=True, slots=True)
class Contradicted:
    """The witness disagrees with the event: never sign it."""

    reason: str


CrossCheck = Corroborated | NotYetConfirmed | Contradicted


def _differences(seen: SourceEvent, claimed: SourceEvent) -> list[str]:
    names = [f.name for f in fields(SourceEvent)]
    return [name for name in names if getattr(seen, name) != getattr(claimed, name)]


class CrossChecker:
    """Checks one chain's events against a witness node (see the module docstring)."""

    def __init__(
        self, name: str, rpc: RpcClient, decoder: EventDecoder, rule: ConfirmationRule
    ) -> None:
        self.name = name  # the chain's name in metrics and logs: "conflux" or "ethereum"
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
        number = event.block_number
        if head is None or head.number < number:
            return NotYetConfirmed(None if head is None else head.number)
        before = await self.rpc.get_block(number)
        if before is None:  # it reported a confirmed head above this block: inconsistent
            return NotYetConfirmed(head.number)
        if before.hash != event.block_hash:
            return Contradicted(
                f"the witness's block {number} is 0x{before.hash.hex()}, "
                f"not 0x{event.block_hash.hex()}"
            )
        logs = await self.rpc.get_logs(self.decoder.contract, [self.decoder.topic0], number, number)
        after = await self.rpc.get_block(number)
        if after is None or after.hash != before.hash:  # reorganised while read
            return NotYetConfirmed(head.number)
        tx = "0x" + event.tx_hash.hex()
        log = next(
            (x for x in logs if x.tx_hash == event.tx_hash and x.log_index == event.log_index),
            None,
        )
        if log is None:
            return Contradicted(
                f"the witness has no {self.decoder.event.value} log #{event.log_index} "
                f"of {tx} in block {number}"
            )
        try:
            seen = self.decoder.decode(log)
        except LogRejectedError as err:
            return Contradicted(f"the witness's log #{event.log_index} of {tx}: {err.reason}")
        if seen != event:
            differ = ", ".join(_differences(seen, event))
            return Contradicted(f"the witness's log #{event.log_index} of {tx} differs in {differ}")
        return Corroborated()
