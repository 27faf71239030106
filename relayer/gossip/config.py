"""How to reach the broker, and the transport's tunables (tests shrink them).

The node builds a `GossipConfig` from its settings (``broker.*``); nothing here reads
files or the environment. Certificates are read by paho when it first connects.
"""

from __future__ import annotations

from dataclasses import dataclass

from relayer.domain.types import Address, hex32
from relayer.gossip.topics import validate_prefix


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsFiles:
    """TLS towards the broker. ``ca_file=None`` trusts the system store.

    ``cert_file``/``key_file`` enable mutual TLS (the broker can map the certificate to
    the validator and restrict it to its own topics).
    """

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mutual TLS)")


@dataclass(frozen=True, slots=True, kw_only=True)
class GossipConfig:
    """Connection and tunables of one `MqttGossip`."""

    client_id: str  # one per validator; see `client_id_for`
    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "conflux-bridge"
    username: str | None = None
    password: str | None = None
    tls: TlsFiles | None = None
    persistent_session: bool = False  # clean_session=False: broker queues QoS 1 while away
    keepalive_s: int = 30  # a silent broker is declared dead after 1.5 x this
    connect_timeout_s: float = 10.0  # connect + CONNACK + SUBACK
    publish_timeout_s: float = 10.0  # default wait for PUBACK, reconnection included
    backoff_initial_s: float = 0.5  # first reconnect delay, doubled per failure
    backoff_max_s: float = 30.0
    inbound_queue_size: int = 1000  # per queue: raw ingress (drop-oldest) and accepted
    resync_min_interval_s: float = 30.0  # re-subscribe after shedding at most this often

    def __post_init__(self) -> None:
        validate_prefix(self.topic_prefix)
        if not self.client_id or len(self.client_id) > 128:
            raise ValueError("client_id must be 1..128 characters")
        if not 0 < self.port < 65536:
            raise ValueError(f"bad broker port {self.port}")
        if self.keepalive_s < 1 or self.inbound_queue_size < 1:
            raise ValueError("keepalive_s and inbound_queue_size must be positive")
        timings = (self.connect_timeout_s, self.publish_timeout_s, self.backoff_initial_s)
        if min(timings) <= 0 or self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("timeouts and backoff must be positive, max >= initial")


def client_id_for(signer: Address, role: str = "relayer") -> str:
    """The MQTT client id of a validator's relayer: stable, so persistent sessions work."""
    return f"{role}-{hex32(signer)}"
