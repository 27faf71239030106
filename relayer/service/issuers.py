"""Asking regulated tokens' issuers about a transfer's parties before it is decided.

The processor's sweep asks the gate for every transfer it is about to decide, before the
deciding transaction (the calls are network reads; no write lock is held while they run).
The rule (which calls, how to read them, the verdict) is ``relayer.domain.issuers``. A
token that does not answer, or answers something that is not a bool, leaves the transfer
for a later sweep: a transfer is never decided without its issuer's answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from relayer.api.metrics import Metrics
from relayer.chain.rpc import RpcClient
from relayer.domain.issuers import (
    IssuerAnswerError,
    IssuerCheck,
    IssuerQuery,
    TokenKey,
    issuer_queries,
    issuer_verdict,
    read_answer,
)
from relayer.domain.policy import Refused
from relayer.domain.routing import TokenRoute, Unroutable, route_release
from relayer.domain.types import SourceEvent, checksum, parse_address
from relayer.errors import ConfigError, RpcError, RpcResponseError
from relayer.log import get_logger, transfer_logger
from relayer.service.corroboration import Wait
from relayer.settings import IssuerCheckSettings

log = get_logger("issuers")


@dataclass(frozen=True, slots=True)
class Checked:
    """Every issuer asked answered: ``refusal`` if one blocks a party, else None."""

    refusal: Refused | None = None


class IssuerGate:
    """The issuer checks of this validator, made through each chain's RPC client."""

    def __init__(
        self,
        checks: Mapping[TokenKey, IssuerCheck],
        rpcs: Mapping[int, RpcClient],
        metrics: Metrics,
    ) -> None:
        self.checks = checks
        self.rpcs = rpcs
        self.metrics = metrics

    @classmethod
    def from_settings(
        cls,
        settings: Sequence[IssuerCheckSettings],
        rpcs: Mapping[int, RpcClient],
        metrics: Metrics,
    ) -> IssuerGate:
        """Raises ``ConfigError`` naming an entry on a chain this relayer does not serve, or a
        token listed twice."""
        checks: dict[TokenKey, IssuerCheck] = {}
        for i, entry in enumerate(settings):
            where = f"policy.issuer_checks[{i}]"
            if entry.chain_id not in rpcs:
                raise ConfigError(
                    f"{where}.chain_id: {entry.chain_id} is not a chain of this bridge"
                )
            key = (entry.chain_id, parse_address(entry.token))
            if key in checks:
                raise ConfigError(f"{where}.token: {entry.token} is listed twice")
            checks[key] = IssuerCheck(key[0], key[1], entry.function, entry.blocked_when)
        return cls(checks, rpcs, metrics)

    def queries(
        self, event: SourceEvent, routes: Mapping[TokenRoute, TokenRoute]
    ) -> tuple[IssuerQuery, ...]:
        release = route_release(routes, event)
        dst_token = None if isinstance(release, Unroutable) else release.token
        return issuer_queries(self.checks, event, dst_token)

    async def check(
        self, event: SourceEvent, routes: Mapping[TokenRoute, TokenRoute]
    ) -> Checked | Wait:
        """Ask every issuer concerned (stopping at the first block)."""
        answers: list[tuple[IssuerQuery, bool]] = []
        for query in self.queries(event, routes):
            c = query.check
            try:
                answer = read_answer(await self.rpcs[c.chain_id].call(c.token, query.calldata))
            except (RpcError, RpcResponseError, IssuerAnswerError) as err:
                # unavailable (retried), or reverted / not a bool: a wrong function in the
                # settings or a token that changed; either way no answer, no decision
                result = "unavailable" if isinstance(err, RpcError) else "bad_answer"
                self.metrics.issuer_checks.labels(result).inc()
                transfer_logger(
                    log, event.transfer_id, event.src_chain_id, event.dst_chain_id, "confirmed"
                ).warning(
                    "issuer check failed; the transfer waits for the next sweep",
                    token=checksum(c.token),
                    chain_id=c.chain_id,
                    function=c.function,
                    error=str(err),
                )
                return Wait()
            answers.append((query, answer))
            blocked = answer == c.blocked_when
            self.metrics.issuer_checks.labels("blocked" if blocked else "clear").inc()
            if blocked:
                break
        return Checked(issuer_verdict(answers))
