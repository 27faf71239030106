"""MQTT transport of attestations, refusals and root signatures: reconnecting, bounded,
idempotent publishes.

`MqttGossip` is an async context manager owning one background task that connects,
subscribes to ``{prefix}/v1/att/#``, ``{prefix}/v1/refusal/#``, ``{prefix}/v1/root/#``,
``{prefix}/v1/cancel/#``, ``{prefix}/v1/refund/#``, ``{prefix}/v1/audit/#`` and
``{prefix}/v1/set/#`` (QoS 1),
pumps received messages through the strict decoder, and reconnects with exponential
backoff forever (re-subscribing, which also re-delivers every retained message). Inbound
flow::

    broker ─► ingress queue (bounded, drop-oldest, counts `received`/QUEUE_FULL)
           ─► decode_inbound (junk counted by `Reason`, empty payloads by `cleared`)
           ─► accepted queue (bounded, back-pressure) ─► `receive()` / `attestations()`

A flood can shed honest attestations from the drop-oldest ingress queue. So once the
queue has shed and the consumer has drained both queues, the transport subscribes again
(at most once per ``resync_min_interval_s``): the broker re-sends every retained
attestation, and what was shed arrives again (``stats.resyncs``). The drain is signalled
by `receive()` itself, so the resync happens even when no further message arrives.

Publishing is QoS 1 + retained on a per-(destination, transfer, signer) topic, so it is
idempotent: the caller keeps its attestation (or refusal) in its database and publishes it
again after a `BrokerError`. A publish while disconnected waits for the reconnection,
and an attempt cut by a disconnect is retried, both within the publish timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar

import aiomqtt
import structlog

from relayer.errors import BrokerError
from relayer.gossip.audit_heads import AuditHeadMessage, encode_audit_head
from relayer.gossip.config import GossipConfig
from relayer.gossip.reasons import GossipWireError, Reason
from relayer.gossip.refusals import RefusalMessage, encode_refusal
from relayer.gossip.sets import (
    SetApprovalMessage,
    SetProposalMessage,
    encode_set_approval,
    encode_set_proposal,
)
from relayer.gossip.stats import GossipStats
from relayer.gossip.topics import (
    Cleared,
    ClearedRefusal,
    Inbound,
    TopicKey,
    attestation_topic,
    audit_subscription_filter,
    audit_topic,
    decode_inbound,
    refusal_subscription_filter,
    refusal_topic,
    refusal_topic_for,
    root_subscription_filter,
    root_topic,
    set_approval_topic,
    set_proposal_topic,
    set_subscription_filter,
    subscription_filter,
    topic_for,
    veto_subscription_filters,
    veto_topic,
)
from relayer.gossip.vetoes import VetoMessage, encode_veto
from relayer.gossip.wire import AttestationMessage, RootMessage, encode_attestation, encode_root

_log = structlog.get_logger(__name__)
_T = TypeVar("_T")
QOS = 1
SHUTDOWN_TIMEOUT_S = 5.0
DROP_LOG_EVERY = 1000
RESYNC_MAX_INTERVAL_S = 600.0


@dataclass(frozen=True, slots=True)
class Received:
    """One accepted attestation, refusal or root signature with the raw topic and payload
    it came in."""

    topic: str
    payload: bytes
    message: Inbound
    retained: bool  # True when delivered from the broker's store on (re)subscribe


@dataclass(frozen=True, slots=True)
class _Session:
    client: aiomqtt.Client
    lost: asyncio.Event


def _ingress_queue_type(
    stats: GossipStats, made: list[asyncio.Queue[aiomqtt.Message]]
) -> type[asyncio.Queue[aiomqtt.Message]]:
    """A queue class for aiomqtt that counts arrivals and drops the oldest when full
    (the newest instance is kept in ``made``, so the pump can see when it drained)."""

    class _DropOldestQueue(asyncio.Queue[aiomqtt.Message]):
        def __init__(self, maxsize: int = 0) -> None:
            super().__init__(maxsize)
            made[:] = [self]  # only the current connection's queue matters

        def put_nowait(self, item: aiomqtt.Message) -> None:
            stats.received += 1
            if self.full():
                self.get_nowait()
                stats.drop(Reason.QUEUE_FULL)
            super().put_nowait(item)

    return _DropOldestQueue


class MqttGossip:
    """The attestation gossip of one relayer over one MQTT broker."""

    def __init__(self, config: GossipConfig) -> None:
        self.config = config
        self.stats = GossipStats()
        self.connected = asyncio.Event()  # set while connected and subscribed
        self.disconnected = asyncio.Event()  # the inverse, for waiting on an outage
        self.disconnected.set()
        self._accepted: asyncio.Queue[Received] = asyncio.Queue(config.inbound_queue_size)
        self._session: _Session | None = None
        self._ingress: list[asyncio.Queue[aiomqtt.Message]] = []
        self._resynced_shed = 0  # QUEUE_FULL drops already answered by a resync
        self._last_resync = -math.inf
        self._resync_interval = config.resync_min_interval_s
        self._drained = asyncio.Event()  # set by `receive()` when it empties the queue
        self._runner: asyncio.Task[None] | None = None
        self._log = _log.bind(client_id=config.client_id)

    async def __aenter__(self) -> Self:
        if self._runner is not None:
            raise RuntimeError("MqttGossip is not reentrant")
        self._runner = asyncio.create_task(self._run(), name=f"gossip:{self.config.client_id}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if runner.done() and not runner.cancelled() and runner.exception() is not None:
            if exc is None:
                raise BrokerError("gossip transport crashed") from runner.exception()
            return
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            async with asyncio.timeout(SHUTDOWN_TIMEOUT_S + self.config.connect_timeout_s):
                await runner

    # ----------------------------------------------------------------- outbound

    async def wait_connected(self, timeout_s: float | None = None) -> None:
        """Wait until connected and subscribed; raise `BrokerError` after ``timeout_s``."""
        budget = self.config.connect_timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(budget):
                await self._unless_stopped(self.connected.wait())
        except TimeoutError as err:
            raise BrokerError(f"broker not reachable within {budget}s") from err

    async def publish(self, message: AttestationMessage, *, timeout_s: float | None = None) -> None:
        """Publish ``message`` retained with QoS 1 and wait for the broker's PUBACK.

        Idempotent: same attestation, same topic, same bytes. Raises `BrokerError` if
        it is not acknowledged within ``timeout_s`` (default ``publish_timeout_s``).
        """
        topic = attestation_topic(self.config.topic_prefix, message)
        await self._publish(topic, encode_attestation(message), timeout_s)

    async def publish_root(self, message: RootMessage, *, timeout_s: float | None = None) -> None:
        """Publish a root signature with QoS 1, NOT retained: a window's roots matter only
        while its releases are unsent, so the broker keeps no history of them (the signer
        publishes its roots in play again from time to time instead)."""
        topic = root_topic(self.config.topic_prefix, message)
        await self._publish(topic, encode_root(message), timeout_s, retain=False)

    async def clear(self, key: TopicKey, *, timeout_s: float | None = None) -> None:
        """Withdraw the retained attestation at ``key`` (empty retained payload)."""
        await self._publish(topic_for(self.config.topic_prefix, key), b"", timeout_s)

    async def publish_refusal(
        self, message: RefusalMessage, *, timeout_s: float | None = None
    ) -> None:
        """Publish a refusal retained with QoS 1 and wait for the broker's PUBACK.

        Like `publish`: one retained refusal per (destination, transfer, signer), so a
        supervisor that subscribes late still sees who refused what; idempotent.
        """
        topic = refusal_topic(self.config.topic_prefix, message)
        await self._publish(topic, encode_refusal(message), timeout_s)

    async def clear_refusal(self, key: TopicKey, *, timeout_s: float | None = None) -> None:
        """Withdraw the retained refusal at ``key`` (empty retained payload)."""
        await self._publish(refusal_topic_for(self.config.topic_prefix, key), b"", timeout_s)

    async def publish_veto(self, message: VetoMessage, *, timeout_s: float | None = None) -> None:
        """Publish a Cancel or Refund signature retained with QoS 1 (idempotent, like
        `publish`)."""
        topic = veto_topic(self.config.topic_prefix, message)
        await self._publish(topic, encode_veto(message), timeout_s)

    async def publish_audit_head(
        self, message: AuditHeadMessage, *, timeout_s: float | None = None
    ) -> None:
        """Publish this validator's audit chain head retained with QoS 1 (one topic per
        validator: the newest head replaces the previous one on the broker)."""
        topic = audit_topic(self.config.topic_prefix, message)
        await self._publish(topic, encode_audit_head(message), timeout_s)

    async def publish_set(
        self, message: SetProposalMessage | SetApprovalMessage, *, timeout_s: float | None = None
    ) -> None:
        """Publish a validator-set proposal or this validator's approval of one, retained
        with QoS 1 (idempotent: same message, same topic, same bytes)."""
        prefix = self.config.topic_prefix
        pid = message.proposal.proposal_id
        if isinstance(message, SetProposalMessage):
            topic, payload = set_proposal_topic(prefix, pid), encode_set_proposal(message)
        else:
            topic = set_approval_topic(prefix, pid, message.signer)
            payload = encode_set_approval(message)
        await self._publish(topic, payload, timeout_s)

    async def _publish(
        self, topic: str, payload: bytes, timeout_s: float | None, *, retain: bool = True
    ) -> None:
        budget = self.config.publish_timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(budget):
                while True:
                    await self._unless_stopped(self.connected.wait())
                    session = self._session
                    if session is None:
                        continue
                    if await self._attempt(session, topic, payload, retain):
                        self.stats.published += 1
                        return
                    self.stats.publish_retries += 1
                    await self._unless_stopped(session.lost.wait())
        except TimeoutError as err:
            self.stats.publish_failures += 1
            self._log.warning("gossip.publish_timeout", topic=topic, timeout_s=budget)
            raise BrokerError(f"publish to {topic} not acknowledged within {budget}s") from err

    async def _attempt(
        self, session: _Session, topic: str, payload: bytes, retain: bool = True
    ) -> bool:
        """One publish on one connection; False if the connection broke under it."""
        publish = asyncio.ensure_future(
            session.client.publish(topic, payload, qos=QOS, retain=retain, timeout=math.inf)
        )
        lost = asyncio.ensure_future(session.lost.wait())
        try:
            await asyncio.wait((publish, lost), return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not publish.done():
                publish.cancel()
        if not publish.done() or publish.cancelled():
            return False
        err = publish.exception()
        if err is None:
            return True
        if isinstance(err, aiomqtt.MqttError):
            self._log.info("gossip.publish_interrupted", topic=topic, error=str(err))
            return False
        raise err

    # ------------------------------------------------------------------ inbound

    async def receive(self) -> Received:
        """The next accepted message (waits; raises `BrokerError` if stopped)."""
        received = await self._unless_stopped(self._accepted.get())
        if self._accepted.empty():
            self._drained.set()
        return received

    async def receive_batch(self, limit: int) -> list[Received]:
        """The next accepted message (waits) and those already queued behind it: at most
        ``limit`` in all."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        batch = [await self.receive()]
        while len(batch) < limit and not self._accepted.empty():
            batch.append(self._accepted.get_nowait())
        if self._accepted.empty():
            self._drained.set()
        return batch

    async def attestations(self) -> AsyncIterator[Received]:
        """Every accepted message (attestations, refusals, roots), forever, across reconnects."""
        while True:
            yield await self.receive()

    async def _unless_stopped(self, awaitable: Awaitable[_T]) -> _T:
        """Await ``awaitable`` but fail fast if the background task has ended."""
        runner = self._runner
        if runner is None:
            raise RuntimeError("use `async with MqttGossip(...)` first")
        task = asyncio.ensure_future(awaitable)
        try:
            await asyncio.wait((task, runner), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                task.cancel()
        if task.done() and not task.cancelled():
            return task.result()
        cause = None if runner.cancelled() else runner.exception()
        raise BrokerError("gossip transport stopped") from cause

    # --------------------------------------------------------------- connection

    def _new_client(self) -> aiomqtt.Client:
        cfg = self.config
        tls = None
        if cfg.tls is not None:
            tls = aiomqtt.TLSParameters(
                ca_certs=cfg.tls.ca_file, certfile=cfg.tls.cert_file, keyfile=cfg.tls.key_file
            )
        return aiomqtt.Client(
            cfg.host,
            cfg.port,
            username=cfg.username,
            password=cfg.password,
            identifier=cfg.client_id,
            clean_session=not cfg.persistent_session,
            keepalive=cfg.keepalive_s,
            timeout=cfg.connect_timeout_s,
            tls_params=tls,
            queue_type=_ingress_queue_type(self.stats, self._ingress),
            max_queued_incoming_messages=cfg.inbound_queue_size,
        )

    async def _run(self) -> None:
        """Connect, subscribe, pump; on any broker failure back off and do it again."""
        failures = 0
        while True:
            lost = asyncio.Event()
            try:
                client = self._new_client()
                async with contextlib.AsyncExitStack() as stack:
                    async with asyncio.timeout(2 * self.config.connect_timeout_s):
                        await stack.enter_async_context(client)
                        await self._subscribe(client)
                    self._session = _Session(client, lost)
                    self.stats.connects += 1
                    failures = 0
                    self.connected.set()
                    self.disconnected.clear()
                    self._log.info("gossip.connected", host=self.config.host, port=self.config.port)
                    async with asyncio.TaskGroup() as session:
                        resync = session.create_task(self._resync_when_drained(client))
                        await self._pump(client)
                        resync.cancel()  # the stream ended: reconnect below
            except* (aiomqtt.MqttError, BrokerError, TimeoutError) as group:
                err = group.exceptions[0]
                error = f"{type(err).__name__}: {err}"
                if self._session is None:
                    self.stats.connect_failures += 1
                    self._log.warning("gossip.connect_failed", error=error, failures=failures + 1)
                else:
                    self.stats.disconnects += 1
                    self._log.warning("gossip.disconnected", error=error)
            finally:
                self.connected.clear()
                self.disconnected.set()
                self._session = None
                lost.set()
            failures += 1
            await asyncio.sleep(self._backoff(failures))

    def _backoff(self, failures: int) -> float:
        cfg = self.config
        delay = min(cfg.backoff_max_s, cfg.backoff_initial_s * 2.0 ** min(failures - 1, 32))
        return delay * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not crypto)

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        prefix = self.config.topic_prefix
        filters = (
            subscription_filter,
            refusal_subscription_filter,
            root_subscription_filter,
            audit_subscription_filter,
            set_subscription_filter,
        )
        topics = [each(prefix) for each in filters] + list(veto_subscription_filters(prefix))
        codes = await client.subscribe([(topic, QOS) for topic in topics])
        values = [code if isinstance(code, int) else code.value for code in codes]
        if any(value >= 0x80 for value in values):
            raise BrokerError(f"subscription refused by the broker: {values}")

    async def _pump(self, client: aiomqtt.Client) -> None:
        """Decode every delivered message; junk is counted and skipped, never fatal."""
        async for message in client.messages:
            raw = message.payload
            payload = bytes(raw) if isinstance(raw, bytes | bytearray) else str(raw).encode()
            topic = message.topic.value
            try:
                decoded = decode_inbound(self.config.topic_prefix, topic, payload)
            except GossipWireError as err:
                self._count_drop(err)
                continue
            if decoded is None or isinstance(decoded, Cleared | ClearedRefusal):
                self.stats.cleared += 1
                continue
            await self._accepted.put(Received(topic, payload, decoded, bool(message.retain)))
            self.stats.accepted += 1

    async def _resync_when_drained(self, client: aiomqtt.Client) -> None:
        """Subscribe again each time the consumer has drained both queues after a shed.

        Woken by `receive()` emptying the accepted queue, so it does not depend on any
        further message arriving. When the last resync is too recent it waits out the
        interval (then checks again that the queues are still drained).
        """
        while True:
            await self._drained.wait()
            self._drained.clear()
            delay = self._resync_delay()
            if delay is None:
                continue
            if delay > 0:  # the last resync is too recent: wait it out, then check again
                await asyncio.sleep(delay)
                self._drained.set()
                continue
            await self._resync(client)

    def _resync_delay(self) -> float | None:
        """Seconds until a resync is due (<= 0: now), or None when none is needed:
        nothing shed since the last one, or a queue still holds messages (their drain
        wakes the resync again)."""
        shed = self.stats.dropped_by_reason[Reason.QUEUE_FULL]
        if shed == self._resynced_shed or not self._ingress or not self._ingress[-1].empty():
            return None
        if not self._accepted.empty():
            return None
        return self._last_resync + self._resync_interval - time.monotonic()

    async def _resync(self, client: aiomqtt.Client) -> None:
        """Re-subscribe so the broker re-sends every retained attestation and refusal.

        When a resync's own replay sheds again soon after, the interval doubles (up to
        ``RESYNC_MAX_INTERVAL_S``), so a retained store larger than the queues cannot
        cause a resync storm.
        """
        shed = self.stats.dropped_by_reason[Reason.QUEUE_FULL]
        now = time.monotonic()
        if now - self._last_resync < 2 * self._resync_interval:
            # shed again soon after the last resync: likely by its own replay
            self._resync_interval = min(2 * self._resync_interval, RESYNC_MAX_INTERVAL_S)
        else:
            self._resync_interval = self.config.resync_min_interval_s
        self._resynced_shed, self._last_resync = shed, now
        await self._subscribe(client)
        self.stats.resyncs += 1
        self._log.warning("gossip.resync", shed=shed, reason="the inbound queue shed messages")

    def _count_drop(self, err: GossipWireError) -> None:
        """Count a refused message; log the first and every `DROP_LOG_EVERY`-th per reason.

        Logging each one would let a flood of junk flood the logs as well.
        """
        self.stats.drop(err.reason)
        count = self.stats.dropped_by_reason[err.reason]
        if count == 1 or count % DROP_LOG_EVERY == 0:
            self._log.warning(
                "gossip.dropped", reason=err.reason.value, count=count, last=err.detail
            )
