"""Asking each source chain's cross-check node about stored events before they are signed.

The processor's sweep asks `Corroboration.verdict` for every event it is about to
confirm (see ``relayer/chain/crosscheck.py`` for what the witness must hold). Within one
sweep each witness's confirmed head is read once, and a witness that failed is not
asked again until the next sweep, so a dead witness costs one timeout per sweep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relayer.api.metrics import Metrics
from relayer.chain.crosscheck import (
    Contradicted,
    Corroborated,
    CrossCheck,
    CrossChecker,
    NotYetConfirmed,
)
from relayer.chain.rpc_types import BlockRef
from relayer.domain.types import SourceEvent
from relayer.errors import RpcError, RpcResponseError
from relayer.log import get_logger, transfer_logger
from relayer.store import AlertKind, Transaction

log = get_logger("corroboration")
CROSS_CHECK_FAILED = "the cross-check node contradicts the event"


@dataclass(frozen=True, slots=True)
class WitnessUnavailable:
    """The witness could not be read (down, timeout, nonsense): no evidence either way."""

    error: str


Verdict = CrossCheck | WitnessUnavailable


@dataclass(frozen=True, slots=True)
class Proceed:
    """Decide the transfer now: sign if the policy allows, or refuse it as
    ``uncorroborated`` when the witness contradicted it (``contradiction`` says how)."""

    contradiction: str | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    """Leave the transfer for a later sweep: the witness lags or cannot be read."""


LABELS: Mapping[type, str] = {  # relayer_cross_checks_total{result}
    Corroborated: "corroborated",
    NotYetConfirmed: "notyetconfirmed",
    Contradicted: "contradicted",
    WitnessUnavailable: "unavailable",
}


class Corroboration:
    """The cross-check nodes of the source chains that have one."""

    def __init__(self, checkers: Mapping[int, CrossChecker], metrics: Metrics) -> None:
        self.checkers = dict(checkers)  # by source chain id
        self.metrics = metrics
        for checker in self.checkers.values():  # exported at 0: the first one is an increase
            for result in LABELS.values():
                metrics.cross_checks.labels(checker.name, result)
        self._heads: dict[int, BlockRef | None] = {}
        self._down: dict[int, str] = {}

    def new_sweep(self) -> None:
        """Forget the heads and failures of the last sweep."""
        self._heads.clear()
        self._down.clear()

    async def gate(self, event: SourceEvent, stage: str) -> Proceed | Wait:
        """What the processor does with ``event`` now, given its chain's witness."""
        match await self.verdict(event, stage):
            case NotYetConfirmed() | WitnessUnavailable():
                return Wait()
            case Contradicted(reason=reason):
                return Proceed(reason)
            case _:  # corroborated, or no witness for this chain
                return Proceed()

    async def verdict(self, event: SourceEvent, stage: str) -> Verdict | None:
        """The witness's verdict on ``event``; None when its chain has no witness."""
        chain = event.src_chain_id
        checker = self.checkers.get(chain)
        if checker is None:
            return None
        down = self._down.get(chain)
        if down is not None:
            return WitnessUnavailable(down)
        tlog = transfer_logger(log, event.transfer_id, chain, event.dst_chain_id, stage)
        verdict: Verdict
        try:
            if chain not in self._heads:
                self._heads[chain] = await checker.witness_head()
            verdict = await checker.check(event, self._heads[chain])
        except (RpcError, RpcResponseError) as err:
            verdict = WitnessUnavailable(f"{type(err).__name__}: {err}")
            self._down[chain] = verdict.error
        self.metrics.cross_checks.labels(checker.name, LABELS[type(verdict)]).inc()
        self._log(tlog, verdict)
        return verdict

    @staticmethod
    def _log(tlog: Any, verdict: Verdict) -> None:
        match verdict:
            case WitnessUnavailable(error=error):
                tlog.warning("cross-check node unavailable; not signing yet", error=error)
            case NotYetConfirmed(witness_head=head):
                tlog.debug("the cross-check node has not confirmed the event yet", head=head)
            case Contradicted(reason=reason):
                tlog.error("CROSS-CHECK FAILED: the event is refused", reason=reason)
            case Corroborated():
                tlog.debug("corroborated by the cross-check node")


async def alert_contradiction(tx: Transaction, event: SourceEvent, reason: str) -> None:
    """The operator's evidence: what the main node reported, what the witness said."""
    await tx.raise_alert(
        AlertKind.WARNING,
        event.src_chain_id,
        {
            "reason": CROSS_CHECK_FAILED,
            "transfer_id": "0x" + event.transfer_id.hex(),
            "tx_hash": "0x" + event.tx_hash.hex(),
            "log_index": event.log_index,
            "block_number": event.block_number,
            "block_hash": "0x" + event.block_hash.hex(),
            "witness": reason,
        },
    )
