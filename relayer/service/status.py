"""What the HTTP API shows: readiness checks, transfer status, metrics refresh."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from relayer.api.metrics import Metrics
from relayer.api.server import Check
from relayer.chain.heads import HeadFeed
from relayer.chain.rpc import RpcClient
from relayer.chain.rpc_types import as_int
from relayer.chain.watcher import EventWatcher
from relayer.domain.transfer import TransferStatus
from relayer.domain.types import Address, checksum, hex32, parse_hash32
from relayer.errors import RelayerError
from relayer.gossip.reasons import Reason
from relayer.gossip.transport import MqttGossip
from relayer.log import get_logger
from relayer.service.books import SetBook
from relayer.store import Alert, Store, TransferView

log = get_logger("status")

# unfinished states: relayer_transfers_waiting_seconds{state} is exported for each
WAITING_STATES = (
    TransferStatus.OBSERVED,
    TransferStatus.CONFIRMED,
    TransferStatus.REVIEW,
    TransferStatus.ATTESTED,
    TransferStatus.QUORUM,
    TransferStatus.SUBMITTED,
    TransferStatus.DELAYED,
    TransferStatus.VETOED,
    TransferStatus.CANCELLED,
)


def alert_to_json(alert: Alert) -> dict[str, Any]:
    """An open alert as the API and ``relayer alerts list`` show it."""
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "chain_id": alert.chain_id,
        "raised_at": alert.raised_at.isoformat(),
        "detail": alert.detail,
    }


def _refusals(view: TransferView, jurisdictions: Mapping[str, str]) -> list[dict[str, Any]]:
    """Who refused and why: our refusal as stored, then each peer's signed refusal."""
    listed = [
        {
            "validator": checksum(r.validator),
            "jurisdiction": jurisdictions.get(checksum(r.validator)),
            "reason": r.reason_code,
            "detail": r.detail,
            "policy": None if r.policy_version is None else "0x" + r.policy_version,
        }
        for r in view.refusals
    ]
    ours = {r["validator"] for r in listed}
    for d in view.decisions:
        if not d.decision.approved and checksum(d.signer) not in ours:
            listed.append(
                {
                    "validator": checksum(d.signer),
                    "jurisdiction": jurisdictions.get(checksum(d.signer)),
                    "reason": d.decision.verdict,
                    "detail": d.decision.detail,
                    "policy": hex32(d.decision.policy),
                }
            )
    return listed


def _signers(view: TransferView, kind: str, jurisdictions: dict[str, str]) -> list[dict[str, Any]]:
    """Who signed the transfer's ``kind`` ("cancel" or "refund"), as known here."""
    return [
        {"address": checksum(s.signer), "jurisdiction": jurisdictions.get(checksum(s.signer))}
        for s in view.veto_signatures
        if s.kind == kind
    ]


def view_to_json(view: TransferView, sets: SetBook) -> dict[str, Any]:
    """A transfer as a user or operator wants to read it: where, why, who signed."""
    t = view.transfer
    jurisdictions: dict[str, str] = {}
    for accepted in sets.sets_for(t.dst_chain_id):
        for member in accepted.members:
            jurisdictions[checksum(member.address)] = member.jurisdiction
    vset = sets.current.get(t.dst_chain_id)
    own_digest = None if view.own_signature is None else view.own_signature.digest
    counted = [a for a in view.attestations if own_digest is None or a.digest == own_digest]
    return {
        "transfer_id": hex32(t.transfer_id),
        "direction": t.direction.value,
        "status": t.status.value,
        "reason": t.status_reason,
        "src_chain_id": t.src_chain_id,
        "dst_chain_id": t.dst_chain_id,
        "nonce": t.nonce,
        "src_token": checksum(t.src_token),
        "dst_token": None if t.dst_token is None else checksum(t.dst_token),
        "sender": checksum(t.sender),
        "recipient": checksum(t.recipient),
        "amount": str(t.amount),
        "source_tx": hex32(t.tx_hash),
        "source_block": t.block_number,
        "observed_at": t.observed_at.isoformat(),
        "confirmed_at": None if t.confirmed_at is None else t.confirmed_at.isoformat(),
        "released_at": None if t.released_at is None else t.released_at.isoformat(),
        # the executing transaction; before that the store holds our last sent one
        "release_tx": None
        if t.release_tx_hash is None or t.status is not TransferStatus.RELEASED
        else hex32(t.release_tx_hash),
        # delayed by the destination's governor: executeDelayed may run from then on
        "executable_at": t.executable_at,
        "attestations": {
            "count": len(counted),
            "threshold": None if vset is None else vset.threshold,
            "min_jurisdictions": None if vset is None else vset.min_jurisdictions,
            "jurisdictions": sorted({jurisdictions.get(checksum(a.signer), "??") for a in counted}),
            "signers": [
                {
                    "address": checksum(a.signer),
                    "jurisdiction": jurisdictions.get(checksum(a.signer)),
                    "received_at": a.received_at.isoformat(),  # when it reached this validator
                }
                for a in counted
            ],
        },
        "refusals": _refusals(view, jurisdictions),
        # this validator's veto, and the Cancel (destination) and Refund (source) signatures
        "veto": None
        if view.veto is None
        else {
            "by": view.veto.vetoed_by,
            "reason": view.veto.reason,
            "automatic": view.veto.automatic,
            "at": view.veto.requested_at.isoformat(),
        },
        "cancel_signers": _signers(view, "cancel", jurisdictions),
        "refund_signers": _signers(view, "refund", jurisdictions),
        # every validator's signed decision known here (ours, and peers' from the gossip)
        "decisions": [
            {
                "validator": checksum(d.signer),
                "jurisdiction": jurisdictions.get(checksum(d.signer)),
                "verdict": d.decision.verdict,
                "detail": d.decision.detail,
                "digest": None if not d.decision.approved else hex32(d.decision.digest),
                "policy": hex32(d.decision.policy),
                "signature": hex32(d.signature),
            }
            for d in view.decisions
        ],
        "submissions": [
            {"tx_hash": hex32(s.tx_hash), "status": s.status.value, "block": s.mined_block}
            for s in view.submissions
        ],
    }


@dataclass
class NodeStatus:
    """``StatusSource`` of a running relayer."""

    store: Store
    sets: SetBook
    metrics: Metrics
    rpcs: Mapping[str, RpcClient]
    watchers: Mapping[str, EventWatcher]
    gossip: MqttGossip
    submitter_accounts: Mapping[str, tuple[RpcClient, Address]]
    stall_after_s: float
    probe_timeout_s: float = 0.5  # settings.api.probe_timeout_s
    feeds: Mapping[str, HeadFeed] = field(default_factory=dict)  # chains with a ws_url
    # what the submitter saw paused on each destination (chain id -> detail), if anything
    pauses: Callable[[], Mapping[int, str]] | None = None
    _progress: dict[str, tuple[int | None, float]] = field(default_factory=dict)
    # probes still running from an earlier answer (never more than one per check)
    _probes: dict[str, asyncio.Task[Check]] = field(default_factory=dict)

    async def readiness(self) -> Mapping[str, Check]:
        """Every check at once, each probe tried once and waited for ``probe_timeout_s``:
        a node or a database that hangs is reported as such, it never holds up the answer.

        A probe runs as its own task and is not cancelled when the wait ends: cancelling
        it would wait for its clean-up (SQLAlchemy shields a connection's close, which
        queues behind the database's work), and a slow probe is simply still in flight at
        the next answer, which reports it again instead of starting another."""
        probes: dict[str, Callable[[], Coroutine[Any, Any, Check]]] = {
            f"rpc:{name}": functools.partial(self._probe_rpc, rpc)
            for name, rpc in self.rpcs.items()
        }
        probes["database"] = self._probe_database
        tasks: dict[str, asyncio.Task[Check]] = {}
        for name, probe in probes.items():
            task = self._probes.get(name)
            if task is None or task.done():
                task = self._probes[name] = asyncio.create_task(probe(), name=f"probe {name}")
            tasks[name] = task
        await asyncio.wait(tasks.values(), timeout=self.probe_timeout_s)
        late = Check(False, f"no answer within {self.probe_timeout_s}s")
        checks = {name: task.result() if task.done() else late for name, task in tasks.items()}
        connected = self.gossip.connected.is_set()
        checks["broker"] = Check(connected, "connected" if connected else "disconnected")
        now = time.monotonic()
        for name, watcher in self.watchers.items():
            next_block = watcher.stats.next_block
            head = watcher.stats.confirmed_head
            previous, since = self._progress.get(name, (None, now))
            if next_block != previous:
                self._progress[name] = (next_block, now)
                since = now
            caught_up = head is not None and next_block is not None and next_block > head
            stalled = not caught_up and now - since > self.stall_after_s
            detail = f"next block {next_block}, confirmed head {head}"
            checks[f"cursor:{name}"] = Check(next_block is not None and not stalled, detail)
        # A pause is the guardian's decision, not a fault here: shown, never unready.
        for chain_id, detail in ({} if self.pauses is None else self.pauses()).items():
            checks[f"paused:{chain_id}"] = Check(True, detail)
        return checks

    @property
    def _probe_limit_s(self) -> float:
        """How long a probe task may run at all (it outlives the answer that started it)."""
        return max(5.0, 10 * self.probe_timeout_s)

    async def _probe_rpc(self, rpc: RpcClient) -> Check:
        try:
            async with asyncio.timeout(self._probe_limit_s):
                head = as_int(await rpc.request_once("eth_blockNumber", []), "blockNumber")
        except TimeoutError:
            return Check(False, f"no answer within {self._probe_limit_s}s")
        except RelayerError as err:
            return Check(False, str(err))
        return Check(True, f"head {head}")

    async def _probe_database(self) -> Check:
        try:
            async with asyncio.timeout(self._probe_limit_s):
                await self.store.ping()
        except TimeoutError:
            return Check(False, f"no answer within {self._probe_limit_s}s")
        except RelayerError as err:
            return Check(False, str(err))
        return Check(True, self.store.dialect)

    async def transfer_status(self, key: str) -> Mapping[str, Any] | None:
        async with self.store.reader() as tx:
            view = await tx.transfer_view(parse_hash32(key))
        return None if view is None else view_to_json(view, self.sets)

    async def list_transfers(
        self, status: str | None, limit: int, party: Address | None = None
    ) -> list[Mapping[str, Any]]:
        statuses = list(TransferStatus) if status is None else [TransferStatus(status)]
        out: list[Mapping[str, Any]] = []
        async with self.store.reader() as tx:
            if party is not None:  # the transfers it sent or receives, newest first
                for rec in await tx.transfers_of_party(party, limit=limit):
                    view = await tx.transfer_view(rec.transfer_id)
                    if view is not None and status in (None, rec.status.value):
                        out.append(view_to_json(view, self.sets))
                return out
            for s in statuses:
                for rec in await tx.transfers_by_status(s, limit=limit):
                    view = await tx.transfer_view(rec.transfer_id)
                    if view is not None:
                        out.append(view_to_json(view, self.sets))
        return out[:limit]

    async def open_alerts(self) -> list[Mapping[str, Any]]:
        async with self.store.reader() as tx:
            return [alert_to_json(alert) for alert in await tx.open_alerts()]

    async def refresh_metrics(self) -> None:
        async with self.store.reader() as tx:
            counts = await tx.counts_by_status()
            alerts = await tx.open_alerts()
            since = await tx.waiting_since(WAITING_STATES)
            next_executable = await tx.next_delayed_executable_at()
        now = datetime.now(UTC)
        for s in TransferStatus:
            self.metrics.transfers.labels(s.value).set(counts.get(s, 0))
        for s in WAITING_STATES:
            waited = (now - since[s]).total_seconds() if s in since else 0.0
            self.metrics.waiting.labels(s.value).set(max(0.0, waited))
        self.metrics.delayed_next.set(next_executable or 0)
        self.metrics.alerts.set(len(alerts))
        for name, watcher in self.watchers.items():
            head, next_block = watcher.stats.confirmed_head, watcher.stats.next_block
            if head is not None:
                self.metrics.confirmed_head.labels(name).set(head)
            if head is not None and next_block is not None:
                self.metrics.head_lag.labels(name).set(max(0, head - (next_block - 1)))
            self.metrics.rejected_logs.labels(name).set(watcher.stats.rejected_logs)
        for name, feed in self.feeds.items():
            self.metrics.head_feed_live.labels(name).set(1 if feed.live else 0)
            self.metrics.heads_pushed.labels(name).set(feed.heads)
            self.metrics.heads_rejected.labels(name).set(feed.rejected)
        stats = self.gossip.stats
        self.metrics.gossip_received.set(stats.received)
        self.metrics.gossip_resyncs.set(stats.resyncs)
        for reason in Reason:  # every reason from the start: the first drop is an increase
            self.metrics.gossip_dropped.labels(reason.value).set(stats.dropped_by_reason[reason])

    async def refresh_balances(self) -> None:
        """Reads the submitter balances into their gauge (a background task: ``/metrics``
        shows the last values read and never waits for a chain)."""
        for name, (rpc, account) in self.submitter_accounts.items():
            try:
                self.metrics.balance.labels(name).set(await rpc.get_balance(account))
            except RelayerError as err:
                log.info("submitter balance not read", chain=name, error=str(err))
