"""What the supervisor view shows, read from this relayer's store, books and chains.

Read-only: it holds a ``Store`` but opens only ``reader()`` transactions, and no method
calls anything that signs, sends or changes policy.

Jurisdictions: a validator's comes from the validator sets the destination contracts
hold (current and, during its grace period, previous). A transfer concerns the
jurisdictions of the validators whose attestations, decisions or refusals this relayer
holds for it. This validator's own records (its volumes, reviews, alerts, audit chain)
concern its own jurisdiction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from relayer.api.server import ApiServer
from relayer.api.supervisor_app import build_supervisor_app
from relayer.api.supervisor_auth import Credential
from relayer.api.supervisor_query import ListQuery
from relayer.chain.rpc import RpcClient
from relayer.domain.types import Address, Hash32, checksum, hex32
from relayer.log import get_logger
from relayer.service.books import SetBook
from relayer.service.freezes import freeze_to_json, frozen_now, read_freezes
from relayer.service.policy import PolicyBook
from relayer.service.status import alert_to_json, view_to_json
from relayer.service.volumes import daily_volumes, since_for
from relayer.settings import Settings
from relayer.store import Store
from relayer.store.audit import verify_links
from relayer.store.outcomes import AuditChainIntact
from relayer.store.supervision_records import ListedRefusal, SupervisedTransfer
from relayer.store.witnesses import WitnessCheck, check_witnessed

log = get_logger("supervision")

AUDIT_CACHE_S = 5.0  # a verification is reused this long (it reads the whole chain)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass
class NodeSupervision:
    """The ``SupervisorSource`` of a running relayer."""

    store: Store
    sets: SetBook
    policy: PolicyBook
    validator: bytes
    jurisdiction: str
    ethereum: RpcClient
    ethereum_chain_id: int
    max_log_window: int
    freeze_lookback: int
    rpc_timeout_s: float = 10.0
    clock: Callable[[], float] = time.time
    _audit: tuple[float, dict[str, Any]] | None = field(default=None, repr=False)
    _audit_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    # ------------------------------------------------------------ who is who

    def jurisdictions_by_validator(self) -> dict[bytes, str]:
        found: dict[bytes, str] = {bytes(self.validator): self.jurisdiction}
        for chain_id in sorted(set(self.sets.current) | set(self.sets.previous)):
            for vset in self.sets.sets_for(chain_id):
                for member in vset.members:
                    found.setdefault(bytes(member.address), member.jurisdiction)
        return found

    def known_jurisdictions(self) -> list[str]:
        return sorted(set(self.jurisdictions_by_validator().values()))

    def _validators_in(self, scope: Collection[str]) -> set[bytes]:
        return {a for a, j in self.jurisdictions_by_validator().items() if j in scope}

    def _jurisdictions_of(self, signers: Collection[bytes]) -> list[str]:
        """The jurisdictions a transfer concerns: this validator's (it observed and
        decided every transfer it stores) and those of the validators that signed,
        decided or refused it."""
        by = self.jurisdictions_by_validator()
        return sorted({by[s] for s in signers if s in by} | {self.jurisdiction})

    # ------------------------------------------------------------ transfers

    def _transfer_json(self, t: SupervisedTransfer) -> dict[str, Any]:
        return {
            "transfer_id": hex32(t.transfer_id),
            "direction": t.direction,
            "status": t.status,
            "reason": t.status_reason,
            "src_chain_id": t.src_chain_id,
            "dst_chain_id": t.dst_chain_id,
            "src_token": checksum(t.src_token),
            "dst_token": None if t.dst_token is None else checksum(t.dst_token),
            "sender": checksum(t.sender),
            "recipient": checksum(t.recipient),
            "amount": str(t.amount),
            "observed_at": _iso(t.observed_at),
            "released_at": _iso(t.released_at),
            "executable_at": t.executable_at,
            "jurisdictions": self._jurisdictions_of(t.signers),
        }

    async def transfers(self, scope: frozenset[str], query: ListQuery) -> list[dict[str, Any]]:
        w = query.window
        async with self.store.reader() as tx:
            # this validator's own jurisdiction concerns every transfer it stores
            signers = None if self.jurisdiction in scope else self._validators_in(scope)
            found = await tx.supervised_transfers(
                signers, query.states, w.since, w.until, query.limit
            )
        return [self._transfer_json(t) for t in found]

    async def transfer(self, transfer_id: bytes) -> tuple[list[str], dict[str, Any]] | None:
        """The transfer's jurisdictions and everything the status API shows of it."""
        async with self.store.reader() as tx:
            listed = await tx.supervised_transfer(transfer_id)
            if listed is None:
                return None
            try:
                view = await tx.transfer_view(Hash32(transfer_id))
            except ValueError:  # a state this code's lifecycle does not know: the summary
                view = None
        shown = self._transfer_json(listed) if view is None else view_to_json(view, self.sets)
        shown["status"] = listed.status
        shown["jurisdictions"] = self._jurisdictions_of(listed.signers)
        return shown["jurisdictions"], shown

    # ------------------------------------------------------------ refusals, reviews

    def _refusal_json(
        self, r: ListedRefusal, packs: Mapping[bytes, tuple[str, int]]
    ) -> dict[str, Any]:
        pack = None if r.policy is None else packs.get(r.policy)
        return {
            "transfer_id": hex32(r.transfer_id),
            "validator": checksum(r.validator),
            "jurisdiction": self.jurisdictions_by_validator().get(r.validator),
            "reason": r.reason,
            "detail": r.detail,
            "policy": None if r.policy is None else hex32(r.policy),
            "pack_jurisdiction": None if pack is None else pack[0],
            "pack_version": None if pack is None else pack[1],
            "at": _iso(r.at),
            "signed": r.signed,
            "transfer_status": r.status,
        }

    async def refusals(self, scope: frozenset[str], query: ListQuery) -> list[dict[str, Any]]:
        w = query.window
        async with self.store.reader() as tx:
            listed = await tx.refusals_by(self._validators_in(scope), w.since, w.until, query.limit)
            packs = await tx.pack_versions()
        return [self._refusal_json(r, packs) for r in listed]

    async def reviews(self, limit: int) -> list[dict[str, Any]]:
        async with self.store.reader() as tx:
            listed = await tx.reviews_listed(limit)
        return [
            {
                **self._transfer_json(r.transfer),
                "decision": None
                if r.approved is None
                else ("approved" if r.approved else "rejected"),
                "reviewer": r.reviewer,
                "review_reason": r.reason,
                "decided_at": _iso(r.decided_at),
            }
            for r in listed
        ]

    # ------------------------------------------------------------ volumes, freezes

    async def volumes(self, days: int) -> dict[str, Any]:
        now = int(self.clock())
        async with self.store.reader() as tx:
            spends = await tx.spends_from(since_for(now, days))
        pack = self.policy.pack
        local = {
            (t.chain_id, bytes.fromhex(t.token[2:])): t.max_amount
            for t in self.policy.settings.tokens
        }
        return {
            "jurisdiction": self.jurisdiction,
            "now": datetime.fromtimestamp(now, UTC).isoformat(),
            "days": days,
            "pack": None
            if pack is None
            else {
                "jurisdiction": pack.jurisdiction,
                "version": pack.version,
                "hash": "0x" + pack.hash_hex,
            },
            "tokens": daily_volumes(spends, pack, local, now, days),
        }

    async def freezes(self) -> dict[str, Any]:
        async with self.store.reader() as tx:
            tokens = set(await tx.tokens_on(self.ethereum_chain_id))
        pack = self.policy.pack
        if pack is not None:
            tokens |= {bytes(t) for (c, t), _ in pack.tokens.items() if c == self.ethereum_chain_id}
        tokens.discard(b"\x00" * 20)
        async with asyncio.timeout(self.rpc_timeout_s * 3):
            start, end, events = await read_freezes(
                self.ethereum, tokens, self.freeze_lookback, self.max_log_window
            )
        return {
            "chain_id": self.ethereum_chain_id,
            "from_block": start,
            "to_block": end,
            "tokens_watched": sorted(checksum(t) for t in tokens),
            "events": [freeze_to_json(e) for e in events],
            "frozen": [freeze_to_json(e) for e in frozen_now(events)],
        }

    # ------------------------------------------------------------ alerts, audit

    async def alerts(self) -> list[dict[str, Any]]:
        async with self.store.reader() as tx:
            return [alert_to_json(a) for a in await tx.open_alerts()]

    async def audit(self) -> dict[str, Any]:
        async with self._audit_lock:
            now = self.clock()
            if self._audit is not None and now - self._audit[0] < AUDIT_CACHE_S:
                return self._audit[1]
            witnesses: list[WitnessCheck] = []
            async with self.store.reader() as tx:
                entries = await tx.audit_entries()
                verdict = verify_links(entries)
                if isinstance(verdict, AuditChainIntact):
                    witnesses = await check_witnessed(tx, Address(self.validator), entries)
            checked = {
                "validator": checksum(self.validator),
                "jurisdiction": self.jurisdiction,
                "checked_at": datetime.fromtimestamp(now, UTC).isoformat(),
            }
            if isinstance(verdict, AuditChainIntact):
                result = {
                    **checked,
                    "intact": True,
                    "entries": verdict.entries,
                    "head": hex32(verdict.head),
                    "broken_at": None,
                    "problem": None,
                    # every head of this chain another validator witnessed, per witness
                    "witnesses": [w.line() for w in witnesses],
                    "extends_witnessed_heads": all(w.ok for w in witnesses),
                }
            else:
                result = {
                    **checked,
                    "intact": False,
                    "entries": None,
                    "head": None,
                    "broken_at": verdict.seq,
                    "problem": verdict.reason,
                    "witnesses": [],
                    "extends_witnessed_heads": False,
                }
            self._audit = (now, result)
            return result


async def start_supervisor_api(
    settings: Settings,
    store: Store,
    sets: SetBook,
    policy: PolicyBook,
    validator: bytes,
    ethereum: RpcClient,
) -> ApiServer | None:
    """Start the supervisor API on its own port when ``[supervisor_api] enabled``."""
    s = settings.supervisor_api
    if not s.enabled:
        return None
    source = NodeSupervision(
        store=store,
        sets=sets,
        policy=policy,
        validator=validator,
        jurisdiction=settings.validator.jurisdiction,
        ethereum=ethereum,
        ethereum_chain_id=settings.ethereum.chain_id,
        max_log_window=settings.ethereum.max_log_window,
        freeze_lookback=s.freeze_lookback_blocks,
        rpc_timeout_s=settings.ethereum.rpc_timeout_s,
    )
    credentials = [Credential.from_settings(c) for c in s.supervisors]
    server = ApiServer(build_supervisor_app(source, credentials), s.host, s.port)
    await server.start()
    log.info(
        "supervisor API started",
        port=server.port,
        supervisors=[c.name for c in s.supervisors],
    )
    return server
