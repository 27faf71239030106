"""Building the ``Release`` a destination contract executes from a source event.

A token mapping pairs each source token with its counterpart on the other chain; the
same mapping read backwards routes ``Burned`` events (the mirror token maps back to the
original). address(0) stands for native CFX on Conflux (``lockNative`` / native unlock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from relayer.domain.types import Address, Release, SourceEvent, checksum

TokenRoute = tuple[int, Address]  # (chain id, token on that chain)


@dataclass(frozen=True, slots=True)
class Unroutable:
    """No destination token is known for the event's (chain, token): never signed."""

    src_chain_id: int
    src_token: Address
    dst_chain_id: int

    def __str__(self) -> str:
        return (
            f"no route for token {checksum(self.src_token)} from chain {self.src_chain_id} "
            f"to chain {self.dst_chain_id}"
        )


def destination_token(
    routes: Mapping[TokenRoute, TokenRoute], event: SourceEvent
) -> Address | Unroutable:
    """The token delivered on ``event.dst_chain_id``.

    ``routes`` maps (source chain, source token) -> (destination chain, destination token),
    e.g. ``{(1030, CFX_USDT): (1, ETH_USDT), (1030, ZERO): (1, WCFX_ON_ETH)}``. Only the
    forward direction needs listing: a reverse lookup routes the mirror token back.
    """
    source = (event.src_chain_id, event.src_token)
    forward = routes.get(source)
    if forward is not None and forward[0] == event.dst_chain_id:
        return forward[1]
    for origin, mirror in routes.items():
        if mirror == source and origin[0] == event.dst_chain_id:
            return origin[1]
    return Unroutable(event.src_chain_id, event.src_token, event.dst_chain_id)


def build_release(event: SourceEvent, dst_token: Address) -> Release:
    """Mirrors the ``Release`` struct the destination's ``release``/``unlock`` verifies."""
    return Release(
        transfer_id=event.transfer_id,
        src_chain_id=event.src_chain_id,
        nonce=event.nonce,
        token=dst_token,
        recipient=event.recipient,
        amount=event.amount,
    )


def route_release(
    routes: Mapping[TokenRoute, TokenRoute], event: SourceEvent
) -> Release | Unroutable:
    """``build_release`` with the token from ``destination_token``."""
    token = destination_token(routes, event)
    if isinstance(token, Unroutable):
        return token
    return build_release(event, token)
