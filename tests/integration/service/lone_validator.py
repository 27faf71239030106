"""A processor on a real store where this validator is the whole set (threshold 1): one
signature is a quorum; or, with ``peers``, one member of a larger set. Shared by the
service tests that drive it without chains."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from relayer.api.metrics import Metrics
from relayer.domain.packs import PolicyPack, Sanctions, TokenRules
from relayer.domain.types import Address, EvmDomain, Hash32, SourceEvent, Validator, ValidatorSet
from relayer.keys import Signer, signer_from_hex
from relayer.service.books import RouteBook, SetBook
from relayer.service.corroboration import Corroboration
from relayer.service.policy import PolicyBook
from relayer.service.processor import Processor
from relayer.settings import PolicySettings, TokenLimit
from relayer.store import Store, Transaction

CFX, ETH = 71, 11155111
VAULT = Address(b"\x0a" * 20)
GATEWAY = Address(b"\x0b" * 20)
TOKEN = Address(b"\x0c" * 20)
MIRROR = Address(b"\x0d" * 20)
UNROUTED_TOKEN = Address(b"\x0f" * 20)  # neither allowed nor routed: the local rules refuse it
KEY = "0x" + "46" * 32


class NoMoreRoutes:
    """The gateway's route reads: it knows no route beyond the one configured."""

    chain_id = ETH

    async def mirror_of(self, chain_id: int, token: bytes) -> None:
        return None

    async def source_of(self, token: bytes) -> None:
        return None


def lone_event(nonce: int, token: Address = TOKEN, block: int = 900) -> SourceEvent:
    """A lock of ``token`` on the vault (Conflux -> Ethereum), ``nonce`` its vault nonce
    (and its transfer id, as a number), in ``block``."""
    return SourceEvent(
        transfer_id=Hash32(nonce.to_bytes(32, "big")),
        src_chain_id=CFX,
        src_contract=VAULT,
        nonce=nonce,
        src_token=token,
        sender=Address(b"\x33" * 20),
        recipient=Address(b"\x44" * 20),
        amount=10**18 + nonce,
        dst_chain_id=ETH,
        block_number=block,
        block_hash=Hash32(block.to_bytes(32, "big")),
        tx_hash=Hash32(nonce.to_bytes(32, "little")),
        log_index=0,
    )


def lone_pack(rules: TokenRules, sanctioned: frozenset[Address] = frozenset()) -> PolicyPack:
    """An HK policy pack (version 1) with ``rules`` for TOKEN, as if verified."""
    return PolicyPack(
        jurisdiction="HK",
        version=1,
        issued_at="2026-12-07T00:00:00Z",
        tokens={(CFX, TOKEN): rules},
        sanctions=Sanctions("test list", "1", sanctioned),
        content_hash=Hash32(b"\x9c" * 32),
    )


def lone_processor(
    store: Store,
    metrics: Metrics,
    corroboration: Corroboration | None = None,
    peers: Sequence[Signer] = (),
    threshold: int = 1,
    pack: PolicyPack | None = None,
) -> Processor:
    """Conflux (vault) -> Ethereum (gateway) for TOKEN, any amount, no cross-check unless
    ``corroboration`` is given; the set on Ethereum is us and ``peers`` (set id 1); with
    ``pack``, that policy pack is in force (put there as if it had been verified)."""
    signer = signer_from_hex(KEY)
    policy = PolicyBook(
        PolicySettings(
            tokens=[TokenLimit(chain_id=CFX, token="0x" + TOKEN.hex(), max_amount=10**30)]
        ),
        "HK",
    )
    if pack is not None:
        policy._use(pack, "test pack put in force", "test")
    members = [Validator(signer.address, "HK"), *(Validator(p.address, "SG") for p in peers)]
    only_us = ValidatorSet(1, tuple(sorted(members, key=lambda v: v.address)), threshold, 1)
    return Processor(
        store,
        signer,
        {ETH: EvmDomain(ETH, GATEWAY), CFX: EvmDomain(CFX, VAULT)},
        SetBook(contracts={}, current={ETH: only_us}),
        RouteBook(
            gateway=NoMoreRoutes(),  # type: ignore[arg-type]
            conflux_chain_id=CFX,
            routes={(CFX, TOKEN): (ETH, MIRROR)},
        ),
        policy,
        metrics,
        corroboration,
    )


class CountingStore(Store):
    """A store that counts its writing transactions."""

    writes = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with super().transaction() as tx:
            yield tx
        self.writes += 1
