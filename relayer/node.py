"""Wiring: one relayer process, every task in one TaskGroup.

``run(settings)`` checks the world against the settings (chain ids, contract code),
opens the store, connects to the broker, then runs the watchers, the gossip inbound
loop, the publisher, the submitter, the settler, the set and policy refreshers, the audit
head publisher and the HTTP API side by side. SIGTERM or SIGINT stops it cleanly (exit 0);
any task that crashes stops the whole process with a non-zero code instead of leaving it
half-dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from relayer import crashpoints
from relayer.api.metrics import Metrics
from relayer.api.server import ApiServer, build_app
from relayer.chain.bridge import BridgeContract
from relayer.chain.confirmation import ConfirmationRule, SharedHead
from relayer.chain.crosscheck import CrossChecker
from relayer.chain.events import BridgeEvent, EventDecoder
from relayer.chain.fees import FeePolicy
from relayer.chain.heads import HeadFeed
from relayer.chain.kind import ChainKind
from relayer.chain.rpc import NO_RETRY, RpcClient
from relayer.chain.submitter import Submitter, SubmitterConfig
from relayer.chain.watcher import EventWatcher, ReorgPolicy, WatcherConfig
from relayer.domain.types import Address, Direction, EvmDomain, checksum, parse_address
from relayer.errors import (
    ConfigError,
    FatalError,
    RelayerError,
)
from relayer.gossip.audit_heads import AuditHeadMessage
from relayer.gossip.config import GossipConfig, TlsFiles, client_id_for
from relayer.gossip.refusals import RefusalMessage
from relayer.gossip.sets import SetApprovalMessage, SetProposalMessage
from relayer.gossip.transport import MqttGossip
from relayer.gossip.vetoes import VetoMessage
from relayer.gossip.wire import AttestationMessage
from relayer.keys import Signer, load_keystore, signer_from_hex
from relayer.keys.hsm import Pkcs11Key, open_pkcs11_signer
from relayer.keys.kms import KmsKey, open_kms_signer
from relayer.log import get_logger
from relayer.service.audit_heads import AuditHeads
from relayer.service.batching import BatchPolicy
from relayer.service.books import RouteBook, SetBook
from relayer.service.corroboration import Corroboration
from relayer.service.inbound import InboundVerifier
from relayer.service.issuers import IssuerGate
from relayer.service.policy import PolicyBook
from relayer.service.processor import Processor
from relayer.service.publisher import Publisher
from relayer.service.roots import Roots
from relayer.service.rotation import Rotations
from relayer.service.settle import Settler
from relayer.service.sink import StoreSink
from relayer.service.status import NodeStatus
from relayer.service.submit import (
    Destination,
    StoreNonceSource,
    StoreSendJournal,
    SubmitRunner,
)
from relayer.service.supervision import start_supervisor_api
from relayer.service.vetoes import Vetoes
from relayer.service.writer import Writer
from relayer.settings import ChainSettings, ConfluxSettings, Settings
from relayer.store import Store

log = get_logger("node")

GWEI = 10**9
STORE_RETRY_S = 120.0  # how long a batch of received attestations waits for the database


@dataclass(frozen=True, slots=True)
class Keys:
    """The attesting key and the (possibly different) submitting key."""

    attester: Signer
    submitter: Signer


def _hsm_key(settings: Settings, prefix: str) -> Pkcs11Key | None:
    """The PKCS#11 key the ``validator.<prefix>*`` settings name, if they are set (the
    settings model checks that all four are)."""
    v = settings.validator
    module = getattr(v, prefix + "module")
    if module is None:
        return None
    return Pkcs11Key(
        module,
        getattr(v, prefix + "token_label"),
        getattr(v, prefix + "key_label"),
        getattr(v, prefix + "pin_file"),
        prefix=f"validator.{prefix}",
    )


def _kms_key(settings: Settings, prefix: str) -> KmsKey | None:
    """The AWS KMS key the ``validator.<prefix>*`` settings name, if they are set."""
    v = settings.validator
    key_id = getattr(v, prefix + "key_id")
    if key_id is None:
        return None
    region, url = getattr(v, prefix + "region"), getattr(v, prefix + "endpoint_url")
    return KmsKey(key_id, region, url, prefix=f"validator.{prefix}")


def load_keys(settings: Settings) -> Keys:
    """Keystores, PKCS#11 (HSM) or AWS KMS keys (or the dev-only raw keys, with a warning)."""
    v = settings.validator
    attester_hsm = _hsm_key(settings, "pkcs11_")
    submitter_hsm = _hsm_key(settings, "submitter_pkcs11_")
    attester_kms = _kms_key(settings, "kms_")
    submitter_kms = _kms_key(settings, "submitter_kms_")
    attester: Signer
    if attester_hsm is not None:
        attester = open_pkcs11_signer(attester_hsm)
    elif attester_kms is not None:
        attester = open_kms_signer(attester_kms)
    elif v.keystore is not None and v.password_file is not None:
        attester = load_keystore(v.keystore, v.password_file)
    elif v.dev_private_key is not None:
        attester = signer_from_hex(
            v.dev_private_key.get_secret_value(), dev_only_setting="validator.dev_private_key"
        )
    else:  # the settings model forbids this; keep mypy and readers honest
        raise ConfigError("validator: no attesting key configured")
    submitter = attester
    if submitter_hsm is not None and submitter_hsm != attester_hsm:
        submitter = open_pkcs11_signer(submitter_hsm)
    elif submitter_kms is not None and submitter_kms != attester_kms:
        submitter = open_kms_signer(submitter_kms)
    elif v.submitter_keystore is not None and v.submitter_password_file is not None:
        submitter = load_keystore(v.submitter_keystore, v.submitter_password_file)
    elif v.dev_submitter_private_key is not None:
        submitter = signer_from_hex(
            v.dev_submitter_private_key.get_secret_value(),
            dev_only_setting="validator.dev_submitter_private_key",
        )
    return Keys(attester, submitter)


async def check_chain(
    rpc: RpcClient, chain: ChainSettings, name: str, contract: Address, url_setting: str = "rpc_url"
) -> None:
    """The node serves the configured chain and the contract address holds code."""
    url = getattr(chain, url_setting)
    try:
        actual = await rpc.chain_id()
        code = await rpc.get_code(contract)
    except RelayerError as err:
        raise ConfigError(f"{name}.{url_setting}: cannot reach {url}: {err}") from err
    if actual != chain.chain_id:
        raise ConfigError(
            f"{name}.chain_id: settings say {chain.chain_id}, the node at {name}.{url_setting} "
            f"says {actual}"
        )
    if not code:
        where = "vault" if name == "conflux" else "gateway"
        raise ConfigError(
            f"{name}.{where}: no contract code at {checksum(contract)} "
            f"(asked the node at {name}.{url_setting})"
        )


def submitter_config(chain: ChainSettings) -> SubmitterConfig:
    """The submitter's configuration of one chain, from its settings."""
    return SubmitterConfig(
        chain_id=chain.chain_id,
        fees=FeePolicy(
            max_fee_cap=int(chain.max_fee_gwei * GWEI),
            tip=int(chain.priority_fee_gwei * GWEI),
        ),
        kind=ChainKind.CONFLUX if isinstance(chain, ConfluxSettings) else ChainKind.ETHEREUM,
        confirmations=chain.receipt_confirmations,
        rule=ConfirmationRule.parse(chain.confirmation),
        poll_interval=min(1.0, chain.poll_interval_s),
        replace_after=chain.replace_after_s,
    )


def gossip_config(settings: Settings, signer: Signer) -> GossipConfig:
    b = settings.broker
    url = urlparse(b.url)
    tls = None
    if url.scheme == "mqtts":
        tls = TlsFiles(
            ca_file=None if b.ca_file is None else str(b.ca_file),
            cert_file=None if b.client_cert is None else str(b.client_cert),
            key_file=None if b.client_key is None else str(b.client_key),
        )
    password = None
    if b.password_file is not None:
        try:
            password = b.password_file.read_text().strip()
        except OSError as err:
            raise ConfigError(f"broker.password_file: cannot read {b.password_file}") from err
    return GossipConfig(
        client_id=client_id_for(signer.address),
        host=url.hostname or "127.0.0.1",
        port=url.port or (8883 if url.scheme == "mqtts" else 1883),
        topic_prefix=b.topic_prefix,
        username=b.username,
        password=password,
        tls=tls,
        connect_timeout_s=b.timeout_s,
        publish_timeout_s=b.timeout_s,
    )


async def _forever(
    period_s: float, action: Callable[[], Awaitable[object]], what: str, *, first_now: bool = False
) -> None:
    """Run ``action`` every ``period_s`` (``first_now``: also once at the start); transient
    failures are logged and retried."""
    if not first_now:
        await asyncio.sleep(period_s)
    while True:
        try:
            await action()
        except FatalError:  # bad configuration, safety halt: stop the process
            raise
        except RelayerError as err:
            log.warning(f"{what} failed; will retry", error=str(err))
        await asyncio.sleep(period_s)


class Relayer:
    """One validator's relayer; ``await Relayer(settings).run()``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.api_port: int | None = None
        self.ready = asyncio.Event()  # set once every task runs (tests wait on it)

    @contextlib.asynccontextmanager
    async def _clients(self) -> AsyncIterator[tuple[RpcClient, RpcClient]]:
        s = self.settings
        count = self._count_rpc_errors
        async with (
            RpcClient(
                s.conflux.rpc_url,
                timeout=s.conflux.rpc_timeout_s,
                on_error=count("conflux"),
                max_connections=s.conflux.rpc_max_connections,
                fallback_urls=s.conflux.rpc_urls,
            ) as conflux,
            RpcClient(
                s.ethereum.rpc_url,
                timeout=s.ethereum.rpc_timeout_s,
                on_error=count("ethereum"),
                max_connections=s.ethereum.rpc_max_connections,
                fallback_urls=s.ethereum.rpc_urls,
            ) as ethereum,
        ):
            yield conflux, ethereum

    def _count_rpc_errors(self, chain: str) -> Callable[[str, Exception], None]:
        """An RPC client's ``on_error`` feeding ``relayer_rpc_errors_total{chain,kind}``."""
        errors = self.metrics.rpc_errors

        def on_error(_method: str, err: Exception) -> None:
            kind = type(err).__name__.removeprefix("Rpc").removesuffix("Error").lower()
            errors.labels(chain, kind or "other").inc()

        return on_error

    async def run(self) -> None:
        s = self.settings
        keys = load_keys(s)
        if s.testing.crash_after is not None:
            crashpoints.arm(crashpoints.CrashPoint(s.testing.crash_after))
        vault = parse_address(s.conflux.vault)
        gateway = parse_address(s.ethereum.gateway)
        async with self._clients() as (cfx_rpc, eth_rpc), self._witnesses() as witnesses:
            await check_chain(cfx_rpc, s.conflux, "conflux", vault)
            await check_chain(eth_rpc, s.ethereum, "ethereum", gateway)
            checkers = self._checkers(witnesses, vault, gateway)
            for checker in checkers.values():
                chain = s.conflux if checker.name == "conflux" else s.ethereum
                contract = checker.decoder.contract
                url_setting = "cross_check_rpc_url"
                await check_chain(checker.rpc, chain, checker.name, contract, url_setting)
                try:  # e.g. a node without the `finalized` tag cannot serve the rule
                    await checker.witness_head()
                except RelayerError as err:
                    raise ConfigError(
                        f"{checker.name}.cross_check_rpc_url: cannot answer the confirmation "
                        f"rule {checker.rule}: {err}"
                    ) from err
            store = await Store.open(
                s.database.url,
                migrate_schema=s.database.migrate_on_start,
                require_head=True,
            )
            try:
                await self._run_with(store, keys, cfx_rpc, eth_rpc, vault, gateway, checkers)
            finally:
                await store.close()

    @contextlib.asynccontextmanager
    async def _witnesses(self) -> AsyncIterator[dict[str, RpcClient]]:
        """A client of each chain's cross-check node, where one is configured.

        One attempt per call: the confirm loop asks again on its next sweep, so a dead
        witness costs one timeout per sweep, not a retry budget per event.
        """
        s = self.settings
        async with contextlib.AsyncExitStack() as stack:
            clients = {}
            for name, chain in (("conflux", s.conflux), ("ethereum", s.ethereum)):
                if chain.cross_check_rpc_url is not None:
                    client = RpcClient(
                        chain.cross_check_rpc_url,
                        timeout=chain.rpc_timeout_s,
                        retry=NO_RETRY,
                        max_connections=chain.rpc_max_connections,
                        on_error=self._count_rpc_errors(f"{name}:cross_check"),
                    )
                    clients[name] = await stack.enter_async_context(client)
            yield clients

    def _checkers(
        self, witnesses: dict[str, RpcClient], vault: Address, gateway: Address
    ) -> dict[int, CrossChecker]:
        """A checker per chain with a witness, by source chain id."""
        s = self.settings
        sources = {
            "conflux": (s.conflux, BridgeEvent.LOCKED, vault),
            "ethereum": (s.ethereum, BridgeEvent.BURNED, gateway),
        }
        checkers = {}
        for name, witness in witnesses.items():
            chain, event, contract = sources[name]
            decoder = EventDecoder(event, contract, chain.chain_id)
            rule = ConfirmationRule.parse(chain.confirmation)
            checkers[chain.chain_id] = CrossChecker(name, witness, decoder, rule)
        return checkers

    async def _run_with(
        self,
        store: Store,
        keys: Keys,
        cfx_rpc: RpcClient,
        eth_rpc: RpcClient,
        vault: Address,
        gateway: Address,
        cross_checks: dict[int, CrossChecker],
    ) -> None:
        s = self.settings
        cfx_id, eth_id = s.conflux.chain_id, s.ethereum.chain_id
        vault_c = BridgeContract(cfx_rpc, vault, cfx_id)
        gateway_c = BridgeContract(eth_rpc, gateway, eth_id)
        destinations = {eth_id: gateway_c, cfx_id: vault_c}
        domains = {eth_id: EvmDomain(eth_id, gateway), cfx_id: EvmDomain(cfx_id, vault)}
        sets = SetBook(destinations)
        await sets.refresh()
        self._check_membership(sets, keys.attester)
        routes = RouteBook(gateway_c, cfx_id)
        policy = PolicyBook(s.policy, s.validator.jurisdiction, self.metrics)
        corroboration = Corroboration(cross_checks, self.metrics)
        issuers = IssuerGate.from_settings(
            s.policy.issuer_checks, {cfx_id: cfx_rpc, eth_id: eth_rpc}, self.metrics
        )
        processor = Processor(
            store,
            keys.attester,
            domains,
            sets,
            routes,
            policy,
            self.metrics,
            corroboration,
            confirm_batch_max=s.pipeline.confirm_batch_max,
            issuers=issuers if issuers.checks else None,
        )
        await policy.reload_pack(processor.writer, strict=True)
        verifier = InboundVerifier(processor, self.metrics)
        processor.on_confirmed = verifier.replay_buffered
        audit_heads = AuditHeads(
            processor.writer,
            keys.attester,
            lambda address: any(sets.member_set(c, address) is not None for c in sets.current),
        )

        # one confirmed-head read per chain and poll, shared by its watcher and the settler;
        # with a ws_url, polls follow the heads the node pushes
        feeds = {
            name: HeadFeed(
                chain.ws_url,
                chain_id=chain.chain_id,
                timeout_s=chain.rpc_timeout_s,
                stale_after_s=chain.head_stale_s,
            )
            for name, chain in (("conflux", s.conflux), ("ethereum", s.ethereum))
            if chain.ws_url is not None
        }
        heads = {
            chain.chain_id: SharedHead(
                rpc,
                ConfirmationRule.parse(chain.confirmation),
                chain.poll_interval_s / 2,
                feeds.get(name),
            )
            for name, chain, rpc in (
                ("conflux", s.conflux, cfx_rpc),
                ("ethereum", s.ethereum, eth_rpc),
            )
        }
        watchers = {
            "conflux": self._watcher(
                heads[cfx_id],
                s.conflux,
                vault,
                BridgeEvent.LOCKED,
                Direction.TO_ETHEREUM,
                store,
                processor,
                routes,
            ),
            "ethereum": self._watcher(
                heads[eth_id],
                s.ethereum,
                gateway,
                BridgeEvent.BURNED,
                Direction.TO_CONFLUX,
                store,
                processor,
                routes,
            ),
        }
        roots = (
            Roots(
                processor,
                self.metrics,
                window_size=s.pipeline.root_window,
                source_chains=(cfx_id, eth_id),
                idle_wakeup_s=s.pipeline.idle_wakeup_s,
                republish_interval_s=s.pipeline.republish_interval_s,
            )
            if s.pipeline.root_wait_s > 0
            else None
        )
        nonces = StoreNonceSource(processor.writer)
        journal = StoreSendJournal(processor.writer)
        runner = SubmitRunner(
            processor,
            {
                eth_id: Destination(
                    eth_id,
                    gateway,
                    "release",
                    Submitter(
                        eth_rpc, keys.submitter, nonces, self._submitter_config(s.ethereum), journal
                    ),
                    gateway_c,
                    s.ethereum.max_log_window,
                ),
                cfx_id: Destination(
                    cfx_id,
                    vault,
                    "unlock",
                    Submitter(
                        cfx_rpc, keys.submitter, nonces, self._submitter_config(s.conflux), journal
                    ),
                    vault_c,
                    s.conflux.max_log_window,
                ),
            },
            self.metrics,
            grace_period_s=s.submitter.grace_period_s,
            poll_interval_s=min(s.conflux.poll_interval_s, s.ethereum.poll_interval_s),
            batch=BatchPolicy(
                s.pipeline.batch_max_releases,
                s.pipeline.batch_gas_budget,
                s.pipeline.batch_linger_s,
                s.pipeline.max_in_flight,
            ),
            idle_wakeup_s=s.pipeline.idle_wakeup_s,
            enabled=s.submitter.enabled,
            roots=roots,
            root_wait_s=s.pipeline.root_wait_s,
        )
        vetoes = Vetoes(
            processor,
            runner.destinations,
            self.metrics,
            hold_s=s.policy.veto_hold_s,
            sweep_s=s.policy.veto_sweep_s,
            grace_period_s=s.submitter.grace_period_s,
            send=s.submitter.enabled,
        )
        rotations = Rotations(
            processor.writer,
            keys.attester.address,
            sets,
            runner.destinations,
            sweep_s=s.pipeline.set_sweep_s,
            grace_period_s=s.submitter.grace_period_s,
            republish_interval_s=s.pipeline.republish_interval_s,
            send=s.submitter.enabled,
        )
        settler = Settler(
            processor,
            destinations,
            self.metrics,
            poll_interval_s=min(s.conflux.poll_interval_s, s.ethereum.poll_interval_s),
            sweep_interval_s=s.pipeline.settle_sweep_s,
            max_window={cfx_id: s.conflux.max_log_window, eth_id: s.ethereum.max_log_window},
            heads=heads,
        )
        async with MqttGossip(gossip_config(s, keys.attester)) as gossip:
            publisher = Publisher(
                processor,
                gossip,
                poll_interval_s=min(s.conflux.poll_interval_s, s.ethereum.poll_interval_s),
                republish_interval_s=s.pipeline.republish_interval_s,
                idle_wakeup_s=s.pipeline.idle_wakeup_s,
                decisions=s.broker.publish_decisions,
            )
            status = NodeStatus(
                store=store,
                sets=sets,
                metrics=self.metrics,
                rpcs={
                    "conflux": cfx_rpc,
                    "ethereum": eth_rpc,
                    **{f"{c.name}:cross_check": c.rpc for c in cross_checks.values()},
                },
                watchers={name: w for name, (w, _sink) in watchers.items()},
                gossip=gossip,
                pauses=runner.pauses,
                submitter_accounts={
                    "conflux": (cfx_rpc, keys.submitter.address),
                    "ethereum": (eth_rpc, keys.submitter.address),
                },
                stall_after_s=max(
                    60.0, 20 * max(s.conflux.poll_interval_s, s.ethereum.poll_interval_s)
                ),
                probe_timeout_s=s.api.probe_timeout_s,
                feeds=feeds,
            )
            await processor.sweep()  # finish what a crash left undone
            api = ApiServer(build_app(status, self.metrics), s.api.host, s.api.port)
            await api.start()
            self.api_port = api.port
            supervisor_api = await start_supervisor_api(
                s, store, sets, policy, keys.attester.address, eth_rpc
            )
            log.info(
                "relayer started",
                validator=checksum(keys.attester.address),
                jurisdiction=s.validator.jurisdiction,
                submitter=checksum(keys.submitter.address),
                api_port=api.port,
                database=store.dialect,
            )
            try:
                async with asyncio.TaskGroup() as group:
                    for name, feed in feeds.items():
                        group.create_task(feed.run(), name=f"heads:{name}")
                    for name, (watcher, _sink) in watchers.items():
                        group.create_task(watcher.run(), name=f"watch:{name}")
                    group.create_task(
                        self._inbound(gossip, verifier, roots, vetoes, audit_heads, rotations),
                        name="inbound",
                    )
                    group.create_task(
                        _forever(
                            s.audit.head_interval_s,
                            lambda: audit_heads.publish_once(gossip.publish_audit_head),
                            "audit head publish",
                            first_now=True,
                        ),
                        name="audit-heads",
                    )
                    if roots is not None:
                        group.create_task(roots.run(gossip.publish_root), name="roots")
                    group.create_task(publisher.run(), name="publish")
                    group.create_task(runner.run(), name="submit")
                    group.create_task(settler.run(), name="settle")
                    group.create_task(vetoes.run(), name="vetoes")
                    group.create_task(rotations.run(gossip.publish_set), name="set-rotation")
                    group.create_task(
                        _forever(s.pipeline.set_refresh_s, sets.refresh, "set refresh")
                    )
                    group.create_task(
                        _forever(
                            s.api.balance_refresh_s,
                            status.refresh_balances,
                            "balance refresh",
                            first_now=True,
                        ),
                        name="balances",
                    )
                    retry_s = min(s.conflux.poll_interval_s, s.ethereum.poll_interval_s)
                    group.create_task(
                        processor.confirm_loop(s.pipeline.confirm_sweep_s, retry_s), name="confirm"
                    )
                    group.create_task(
                        _forever(
                            s.policy.reload_interval_s,
                            self._reload(policy, processor.writer),
                            "policy reload",
                        )
                    )
                    self.ready.set()
            finally:
                await api.stop()
                if supervisor_api is not None:
                    await supervisor_api.stop()

    @staticmethod
    def _reload(policy: PolicyBook, writer: Writer) -> Callable[[], Awaitable[object]]:
        async def reload() -> bool:
            denied = policy.reload()
            packed = await policy.reload_pack(writer)
            return denied or packed

        return reload

    def _check_membership(self, sets: SetBook, signer: Signer) -> None:
        for chain_id, vset in sets.current.items():
            jurisdiction = vset.jurisdiction_of(signer.address)
            if jurisdiction is None:
                log.warning(
                    "this validator is not a member of the destination's set: its "
                    "attestations will not count there",
                    chain_id=chain_id,
                    validator=checksum(signer.address),
                )
            elif jurisdiction != self.settings.validator.jurisdiction:
                raise ConfigError(
                    f"validator.jurisdiction: settings say {self.settings.validator.jurisdiction}, "
                    f"the contract on chain {chain_id} says {jurisdiction}"
                )

    def _submitter_config(self, chain: ChainSettings) -> SubmitterConfig:
        return submitter_config(chain)

    def _watcher(
        self,
        head: SharedHead,
        chain: ChainSettings,
        contract: Address,
        event: BridgeEvent,
        direction: Direction,
        store: Store,
        processor: Processor,
        routes: RouteBook,
    ) -> tuple[EventWatcher, StoreSink]:
        sink = StoreSink(
            chain_id=chain.chain_id,
            contract=contract,
            direction=direction,
            store=store,
            processor=processor,
            routes=routes,
            metrics=self.metrics,
        )
        config = WatcherConfig(
            contract=contract,
            event=event,
            chain_id=chain.chain_id,
            rule=head.rule,
            start_block=chain.start_block,
            max_window=chain.max_log_window,
            poll_interval=chain.poll_interval_s,
            reorg_policy=ReorgPolicy.RESCAN,
            cursor_flush_s=self.settings.pipeline.cursor_flush_s,
        )
        return EventWatcher(head.rpc, config, sink, head), sink

    async def _inbound(
        self,
        gossip: MqttGossip,
        verifier: InboundVerifier,
        roots: Roots | None,
        vetoes: Vetoes,
        audit_heads: AuditHeads,
        rotations: Rotations,
    ) -> None:
        async def receive(limit: int) -> list[AttestationMessage | RefusalMessage]:
            """The next attestations and refusals; root signatures met on the way go to
            ``roots``, Cancel and Refund signatures to ``vetoes``, audit heads to
            ``audit_heads``, validator-set proposals and approvals to ``rotations``."""
            while True:
                attestations: list[AttestationMessage | RefusalMessage] = []
                for received in await gossip.receive_batch(limit):
                    message = received.message
                    if isinstance(message, AttestationMessage | RefusalMessage):
                        attestations.append(message)
                    elif isinstance(message, VetoMessage):
                        await vetoes.receive(message)
                    elif isinstance(message, AuditHeadMessage):
                        await audit_heads.receive(message)
                    elif isinstance(message, SetProposalMessage | SetApprovalMessage):
                        await rotations.receive(message)
                    elif roots is not None:
                        await roots.receive(message)
                    else:
                        self.metrics.root_received.labels("roots_off").inc()
                if attestations:
                    return attestations

        await verifier.consume(receive, self.settings.pipeline.inbound_batch_max, STORE_RETRY_S)


async def run_until_signalled(settings: Settings) -> int:
    """Run a relayer until SIGTERM/SIGINT (exit 0) or a task fails (exit 1)."""
    relayer = Relayer(settings)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop() -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("stop requested; shutting down")
            if task is not None:
                task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        await relayer.run()
    except asyncio.CancelledError:
        if stopping.is_set():
            log.info("relayer stopped")
            return 0
        raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 0
