"""Prometheus metrics of one relayer, in a registry of its own (tests run several)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass
class Metrics:
    """Every metric the relayer exports; label values are small closed sets."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.transfers = Gauge(
            "relayer_transfers", "Transfers known to this relayer, by state.", ["state"], registry=r
        )
        self.waiting = Gauge(
            "relayer_transfers_waiting_seconds",
            "Per unfinished state, how long its longest-waiting transfer has waited since its "
            "confirmation (since its observation while not confirmed); 0 when none is there.",
            ["state"],
            registry=r,
        )
        self.delayed_next = Gauge(
            "relayer_transfers_delayed_next_executable_timestamp_seconds",
            "The earliest executable_at (unix seconds, the destination's clock) of the "
            "transfers a governor holds delayed; 0 when none is.",
            registry=r,
        )
        self.attestations = Counter(
            "relayer_attestations_received_total",
            "Attestations received over gossip, by result (accepted or the rejection reason).",
            ["result"],
            registry=r,
        )
        self.signatures = Counter(
            "relayer_signatures_total", "Release attestations this validator signed.", registry=r
        )
        self.refusals_received = Counter(
            "relayer_refusals_received_total",
            "Peers' signed refusals received over gossip, by result.",
            ["result"],
            registry=r,
        )
        self.root_signatures = Counter(
            "relayer_root_signatures_total",
            "Committed-root candidates (ReleaseRoot) this validator signed.",
            registry=r,
        )
        self.root_received = Counter(
            "relayer_root_signatures_received_total",
            "Root signatures received over gossip, by result (accepted or the rejection reason).",
            ["result"],
            registry=r,
        )
        self.roots_committed = Counter(
            "relayer_roots_committed_total",
            "Roots this relayer committed on a destination (commitRoot mined).",
            registry=r,
        )
        self.veto_signatures = Counter(
            "relayer_veto_signatures_total",
            "Cancel and Refund signatures this validator signed, by kind.",
            ["kind"],
            registry=r,
        )
        self.veto_received = Counter(
            "relayer_veto_signatures_received_total",
            "Peers' Cancel and Refund signatures received over gossip, by kind and result.",
            ["kind", "result"],
            registry=r,
        )
        self.veto_sent = Counter(
            "relayer_veto_transactions_total",
            "cancel and refund transactions, by kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.refusals = Counter(
            "relayer_policy_refusals_total", "Transfers refused by policy.", ["reason"], registry=r
        )
        self.pack_version = Gauge(
            "relayer_policy_pack_version",
            "Version of the jurisdiction policy pack in force (0: none).",
            ["jurisdiction"],
            registry=r,
        )
        self.issuer_checks = Counter(
            "relayer_issuer_checks_total",
            "Issuer checks made before deciding (clear, blocked, unavailable, bad_answer).",
            ["result"],
            registry=r,
        )
        self.pack_refused = Counter(
            "relayer_policy_pack_refused_total",
            "Policy packs refused (the one in force stays), by fault.",
            ["fault"],
            registry=r,
        )
        self.head_lag = Gauge(
            "relayer_chain_head_lag_blocks",
            "Blocks between the chain head and the last scanned block.",
            ["chain"],
            registry=r,
        )
        self.confirmed_head = Gauge(
            "relayer_chain_confirmed_head_block",
            "The chain's confirmed head as the watcher last read it (stops moving when the "
            "chain halts or its node stops answering).",
            ["chain"],
            registry=r,
        )
        self.last_scan = Gauge(
            "relayer_chain_last_scanned_block", "Last block scanned.", ["chain"], registry=r
        )
        self.release_latency = Histogram(
            "relayer_release_latency_seconds",
            "Time from a source event being confirmed to its release being mined.",
            ["direction"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        for direction in ("to_ethereum", "to_conflux"):  # exported before the first release
            self.release_latency.labels(direction)
        self.submissions = Counter(
            "relayer_submissions_total",
            "Release submissions by outcome: mined (our transaction), alreadyprocessed "
            "(executed by another relayer), pending, failed, feeabovecap, outoffunds, held "
            "(the destination refuses it for now), skipped (left out by a batch that mined; "
            "looked at again on its own); a batch counts once per release it carries.",
            ["outcome"],
            registry=r,
        )
        self.batch_size = Histogram(
            "relayer_batch_releases",
            "Releases (or unlocks) carried by each batch transaction this relayer sent.",
            ["chain_id"],
            buckets=(2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.cross_checks = Counter(
            "relayer_cross_checks_total",
            "Source events checked against the chain's cross-check node, by verdict: "
            "corroborated, notyetconfirmed, contradicted (never signed: alert), unavailable.",
            ["chain", "result"],
            registry=r,
        )
        self.balance = Gauge(
            "relayer_submitter_balance_wei",
            "Native balance of the submitting account.",
            ["chain"],
            registry=r,
        )
        self.destination_paused = Gauge(
            "relayer_destination_paused",
            "1 while the destination contract on this chain id is paused (nothing is sent to "
            "it), as the submitter saw it at its last round with work for that chain.",
            ["chain_id"],
            registry=r,
        )
        self.releases_held = Gauge(
            "relayer_releases_held",
            "Releases the destination refuses for now (nothing sent: each would revert) because "
            "what is paused there is the token or the route (or, for a batch, the contract), "
            "as the submitter's last round saw them; 0 again once resumed.",
            ["chain_id", "paused"],
            registry=r,
        )
        self.alerts = Gauge(
            "relayer_alerts_active", "Unacknowledged alerts (a halted chain is one).", registry=r
        )
        self.gossip_dropped = Gauge(
            "relayer_gossip_dropped_messages",
            "Inbound MQTT messages refused before verification (junk), by reason, since start.",
            ["reason"],
            registry=r,
        )
        self.gossip_received = Gauge(
            "relayer_gossip_received_messages",
            "Inbound MQTT messages delivered by the broker since start.",
            registry=r,
        )
        self.rejected_logs = Gauge(
            "relayer_chain_rejected_logs",
            "Logs a node returned that failed the watcher's checks (wrong contract, range, "
            "shape), since start.",
            ["chain"],
            registry=r,
        )
        self.head_feed_live = Gauge(
            "relayer_chain_head_feed_live",
            "1 while the chain's new-heads subscription (ws_url) is live, 0 while it is down "
            "and the chain is polled; absent without ws_url.",
            ["chain"],
            registry=r,
        )
        self.heads_pushed = Gauge(
            "relayer_chain_heads_pushed",
            "New heads the chain's node pushed over its subscription since start.",
            ["chain"],
            registry=r,
        )
        self.heads_rejected = Gauge(
            "relayer_chain_heads_rejected",
            "Messages on the chain's new-heads subscription that were not a head of it "
            "(malformed, another subscription), since start.",
            ["chain"],
            registry=r,
        )
        self.gossip_resyncs = Gauge(
            "relayer_gossip_resyncs",
            "Re-subscriptions after the inbound queue shed messages (a flood), since start.",
            registry=r,
        )
        self.rpc_errors = Counter(
            "relayer_rpc_errors_total",
            "Failed JSON-RPC calls, by chain and kind.",
            ["chain", "kind"],
            registry=r,
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
