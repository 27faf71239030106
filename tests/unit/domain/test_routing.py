"""Release construction and token routing in both directions."""

from __future__ import annotations

from domain_strategies import RECIPIENT, source_event

from relayer.domain.routing import Unroutable, build_release, destination_token, route_release
from relayer.domain.types import ZERO_ADDRESS, Address, Release

CFX_USDT = Address(b"\xc1" * 20)
ETH_MIRROR_USDT = Address(b"\xe1" * 20)
ETH_MIRROR_CFX = Address(b"\xe2" * 20)
ROUTES = {
    (1030, CFX_USDT): (1, ETH_MIRROR_USDT),
    (1030, ZERO_ADDRESS): (1, ETH_MIRROR_CFX),
}


def test_locked_token_routes_to_its_mirror() -> None:
    event = source_event(token=CFX_USDT, src_chain_id=1030, dst_chain_id=1)
    release = route_release(ROUTES, event)
    assert release == Release(event.transfer_id, 1030, 7, ETH_MIRROR_USDT, RECIPIENT, 10**18)


def test_native_cfx_routes_to_its_mirror() -> None:
    event = source_event(token=ZERO_ADDRESS, src_chain_id=1030, dst_chain_id=1)
    assert destination_token(ROUTES, event) == ETH_MIRROR_CFX


def test_burned_mirror_routes_back_to_the_source_token() -> None:
    burned = source_event(token=ETH_MIRROR_USDT, src_chain_id=1, dst_chain_id=1030)
    assert destination_token(ROUTES, burned) == CFX_USDT
    native = source_event(token=ETH_MIRROR_CFX, src_chain_id=1, dst_chain_id=1030)
    assert destination_token(ROUTES, native) == ZERO_ADDRESS  # unlock native CFX


def test_unknown_token_or_wrong_destination_is_unroutable() -> None:
    unknown = source_event(token=Address(b"\x99" * 20), src_chain_id=1030, dst_chain_id=1)
    assert isinstance(route_release(ROUTES, unknown), Unroutable)
    wrong_dst = source_event(token=CFX_USDT, src_chain_id=1030, dst_chain_id=56)
    outcome = destination_token(ROUTES, wrong_dst)
    assert outcome == Unroutable(1030, CFX_USDT, 56)
    assert "chain 56" in str(outcome)


def test_build_release_copies_the_event() -> None:
    event = source_event(amount=3)
    release = build_release(event, ETH_MIRROR_USDT)
    assert (release.transfer_id, release.nonce, release.amount) == (event.transfer_id, 7, 3)
    assert release.recipient == event.recipient
