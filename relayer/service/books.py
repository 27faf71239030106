"""What the processor needs to know about the outside, cached: sets and routes.

* :class:`SetBook` — the validator set of each destination contract (and the previous
  one during its grace period), refreshed by a task; a rotation shows up within one
  refresh interval.
* :class:`RouteBook` — token routes read from the gateway (``mirrorOf`` for locks,
  ``sourceOf`` for burns), loaded lazily per token and cached (registrations are
  append-only on the contract).

This validator's policy is kept by :class:`relayer.service.policy.PolicyBook`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from relayer.chain.bridge import BridgeContract, PreviousSet
from relayer.domain.routing import TokenRoute
from relayer.domain.types import Address, SourceEvent, ValidatorSet
from relayer.log import get_logger

log = get_logger("books")


@dataclass
class SetBook:
    """Current (and previous, in grace) validator set per destination chain id."""

    contracts: Mapping[int, BridgeContract]
    current: dict[int, ValidatorSet] = field(default_factory=dict)
    previous: dict[int, PreviousSet] = field(default_factory=dict)

    async def refresh(self) -> None:
        for chain_id, contract in self.contracts.items():
            fresh = await contract.validator_set()
            old = self.current.get(chain_id)
            if old is None or old.set_id != fresh.set_id:
                log.info(
                    "validator set loaded",
                    chain_id=chain_id,
                    set_id=fresh.set_id,
                    members=len(fresh.members),
                    threshold=fresh.threshold,
                    min_jurisdictions=fresh.min_jurisdictions,
                )
            self.current[chain_id] = fresh
            previous = await contract.previous_validator_set()
            if previous is None:
                self.previous.pop(chain_id, None)
            else:
                self.previous[chain_id] = previous

    def sets_for(self, chain_id: int, now: float | None = None) -> tuple[ValidatorSet, ...]:
        """Sets whose signatures the destination accepts now: current first."""
        sets: list[ValidatorSet] = []
        if chain_id in self.current:
            sets.append(self.current[chain_id])
        previous = self.previous.get(chain_id)
        if previous is not None and previous.valid_until > (now or time.time()):
            sets.append(previous.validator_set)
        return tuple(sets)

    def member_set(self, chain_id: int, signer: Address) -> ValidatorSet | None:
        """The accepted set ``signer`` belongs to, if any."""
        for vset in self.sets_for(chain_id):
            if vset.jurisdiction_of(signer) is not None:
                return vset
        return None


@dataclass
class RouteBook:
    """Token routes ``(src chain, src token) -> (dst chain, dst token)`` from the gateway."""

    gateway: BridgeContract
    conflux_chain_id: int
    routes: dict[TokenRoute, TokenRoute] = field(default_factory=dict)
    _mirrors_checked: set[Address] = field(default_factory=set)

    async def ensure(self, event: SourceEvent) -> None:
        """Load the route ``event`` needs, if the gateway knows it."""
        eth_chain = self.gateway.chain_id
        if event.src_chain_id == self.conflux_chain_id:
            key = (event.src_chain_id, event.src_token)
            if key not in self.routes:
                mirror = await self.gateway.mirror_of(event.src_chain_id, event.src_token)
                if mirror is not None:
                    self.routes[key] = (eth_chain, mirror)
        elif event.src_chain_id == eth_chain and event.src_token not in self._mirrors_checked:
            source = await self.gateway.source_of(event.src_token)
            self._mirrors_checked.add(event.src_token)
            if source is not None:
                self.routes[source] = (eth_chain, event.src_token)
