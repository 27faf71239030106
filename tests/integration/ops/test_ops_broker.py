"""The production broker of ops/ refuses what it must and carries what it should.

Mosquitto runs from ops/mosquitto/mosquitto.conf and ops/mosquitto/acl (ports and file
locations rewritten), TLS material from ops/scripts/make-dev-certs.sh, users from
ops/scripts/make-broker-users.sh. The validators connect with the relayer's own
transport (`MqttGossip`), validator A configured through the settings model exactly as
ops/relayer/validator-1.toml does it.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import ssl
import subprocess
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import aiomqtt
import pytest
from ops_broker import OPS, BrokerUser, OpsBroker
from paho.mqtt.reasoncodes import ReasonCode

from relayer.domain.types import Hash32, Release, hex32
from relayer.errors import BrokerError
from relayer.gossip.config import GossipConfig, TlsFiles, client_id_for
from relayer.gossip.topics import key_of
from relayer.gossip.transport import MqttGossip, Received
from relayer.gossip.wire import AttestationMessage
from relayer.node import gossip_config
from relayer.settings import load_settings

WAIT_S = 10.0  # upper bound of every wait on an event
QUIET_S = 1.5  # a refused publish must stay unseen this long after its control arrived
PREFIX = "conflux-bridge"  # the prefix ops/mosquitto/acl grants
# paho reports an MQTT 3.1.1 CONNACK refusal as the MQTT 5 reason code of the same meaning
NOT_AUTHORISED = {5, 135}  # 3.1.1 "not authorised" (5) = 5.0 "Not authorized" (0x87)
BAD_CREDENTIALS = {4, 134}  # 3.1.1 "bad username or password" (4) = 5.0 0x86

async_test = pytest.mark.asyncio


def _users(broker: OpsBroker) -> tuple[BrokerUser, BrokerUser]:
    a, b = (user for name, user in broker.users.items() if name.startswith("0x"))
    return a, b


def attestation(signer: BrokerUser) -> AttestationMessage:
    """A valid attestation of a fresh transfer, signed (on paper) by ``signer``."""
    n = secrets.randbelow(2**63)
    return AttestationMessage(
        release=Release(
            transfer_id=Hash32(secrets.token_bytes(32)),
            src_chain_id=2030,
            nonce=n,
            token=signer.address,
            recipient=signer.address,
            amount=10**18,
        ),
        dst_chain_id=31337,
        set_id=1,
        digest=Hash32(b"\x33" * 32),
        signer=signer.address,
        signature=b"\x44" * 64 + b"\x1c",
        signed_at=1_700_000_000,
    )


def _tls(broker: OpsBroker, user: BrokerUser) -> TlsFiles:
    return TlsFiles(ca_file=str(broker.ca), cert_file=str(user.cert), key_file=str(user.key))


def gossip_as(broker: OpsBroker, user: BrokerUser, *, password: str | None = None) -> MqttGossip:
    """The relayer's transport logged in as ``user`` over TLS with its client certificate."""
    return MqttGossip(
        GossipConfig(
            client_id=f"{client_id_for(user.address)}-{uuid.uuid4().hex[:6]}",
            port=broker.port,
            topic_prefix=PREFIX,
            username=user.name,
            password=user.password if password is None else password,
            tls=_tls(broker, user),
            keepalive_s=5,
            connect_timeout_s=5.0,
            publish_timeout_s=WAIT_S,
            backoff_initial_s=0.05,
            backoff_max_s=0.5,
        )
    )


def gossip_from_ops_settings(broker: OpsBroker, user: BrokerUser, tmp_path: Path) -> MqttGossip:
    """A transport built by the node's own `gossip_config` from ops/relayer/validator-1.toml,
    its [broker] files pointed at this broker's (what compose mounts at /run/secrets)."""
    password_file = tmp_path / "broker.password"
    password_file.write_text(user.password + "\n")
    settings = load_settings(
        OPS / "relayer" / "validator-1.toml",
        broker={
            "url": f"mqtts://127.0.0.1:{broker.port}",
            "topic_prefix": PREFIX,
            "username": user.name,
            "password_file": password_file,
            "ca_file": broker.ca,
            "client_cert": user.cert,
            "client_key": user.key,
            "timeout_s": WAIT_S,
        },
    )
    signer = cast(Any, SimpleNamespace(address=user.address))
    config = gossip_config(settings, signer)
    assert config.tls is not None and config.tls.cert_file == str(user.cert)
    assert config.client_id == f"relayer-{user.name}"
    return MqttGossip(config)


async def connect_error(
    broker: OpsBroker,
    *,
    username: str | None,
    password: str | None,
    cert: tuple[Path, Path] | None,
) -> aiomqtt.MqttError:
    """Try a raw MQTT 3.1.1 login; return the error (fail if the broker accepts it)."""
    tls_params = aiomqtt.TLSParameters(
        ca_certs=str(broker.ca),
        certfile=None if cert is None else str(cert[0]),
        keyfile=None if cert is None else str(cert[1]),
    )
    client = aiomqtt.Client(
        "127.0.0.1",
        broker.port,
        username=username,
        password=password,
        identifier=f"probe-{uuid.uuid4().hex[:8]}",
        tls_params=tls_params,
        timeout=WAIT_S,
    )
    try:
        async with asyncio.timeout(2 * WAIT_S):
            async with client:
                pass
    except aiomqtt.MqttError as err:
        return err
    pytest.fail("the broker accepted a connection it must refuse")


def _code(err: aiomqtt.MqttError) -> int | None:
    rc = getattr(err, "rc", None)
    return rc.value if isinstance(rc, ReasonCode) else rc


async def receive_until(
    gossip: MqttGossip, wanted: AttestationMessage, seen: list[Received]
) -> None:
    """Consume (bounded) until ``wanted`` arrives; everything seen lands in ``seen``."""
    async with asyncio.timeout(WAIT_S):
        while True:
            received = await gossip.receive()
            seen.append(received)
            if received.message == wanted:
                return


# ----------------------------------------------------------------------------- (a) - (e)


@async_test
async def test_anonymous_client_is_refused(ops_broker: OpsBroker) -> None:
    # even with a valid client certificate: no username, no entry
    err = await connect_error(
        ops_broker, username=None, password=None, cert=ops_broker.anonymous_cert()
    )
    assert isinstance(err, aiomqtt.MqttCodeError), err
    assert _code(err) in NOT_AUTHORISED, err


@async_test
async def test_validator_connects_over_tls_and_uses_its_own_topic(
    ops_broker: OpsBroker, tmp_path: Path
) -> None:
    a, b = _users(ops_broker)
    own = attestation(a)
    async with (
        gossip_from_ops_settings(ops_broker, a, tmp_path) as gossip_a,
        gossip_as(ops_broker, b) as gossip_b,
    ):
        await gossip_a.wait_connected(WAIT_S)  # TLS + client cert + password, and SUBACK
        await gossip_b.wait_connected(WAIT_S)
        await gossip_a.publish(own)  # PUBACK
        seen_a: list[Received] = []
        seen_b: list[Received] = []
        await receive_until(gossip_a, own, seen_a)  # its own subscription
        await receive_until(gossip_b, own, seen_b)  # and every other validator's
        assert seen_b[-1].topic.endswith(f"/{a.name}")
        await gossip_a.clear(key_of(own))  # it may withdraw its own attestation, too
    assert gossip_a.stats.connect_failures == 0


@async_test
async def test_acl_refuses_a_publish_under_another_signer(ops_broker: OpsBroker) -> None:
    a, b = _users(ops_broker)
    forged = attestation(b)  # B's signer level, published by A
    control = attestation(a)  # A's own level, published right after it
    async with gossip_as(ops_broker, a) as gossip_a, gossip_as(ops_broker, b) as gossip_b:
        await gossip_a.wait_connected(WAIT_S)
        await gossip_b.wait_connected(WAIT_S)
        # MQTT 3.1.1: the broker acknowledges and silently drops a publish the ACL denies
        await gossip_a.publish(forged)
        await gossip_a.publish(control)
        seen: list[Received] = []
        await receive_until(gossip_b, control, seen)
        assert forged not in [r.message for r in seen]
        with pytest.raises(TimeoutError):  # and nothing else is on its way
            await asyncio.wait_for(gossip_b.receive(), QUIET_S)

    # nor was it retained: a fresh subscriber gets the control from the store, not the forgery
    async with gossip_as(ops_broker, b) as fresh:
        seen = []
        await receive_until(fresh, control, seen)
        assert all(r.message != forged for r in seen)
        assert seen[-1].retained


@async_test
async def test_acl_refuses_clearing_another_signers_attestation(ops_broker: OpsBroker) -> None:
    a, b = _users(ops_broker)
    genuine = attestation(b)
    async with gossip_as(ops_broker, b) as gossip_b:
        await gossip_b.publish(genuine)
    async with gossip_as(ops_broker, a) as gossip_a:
        await gossip_a.clear(key_of(genuine))  # A tries to withdraw B's attestation
        control = attestation(a)
        await gossip_a.publish(control)
    async with gossip_as(ops_broker, a) as fresh:
        seen: list[Received] = []
        await receive_until(fresh, control, seen)
        assert genuine in [r.message for r in seen if r.retained]  # still retained
    assert fresh.stats.cleared == 0


@async_test
async def test_wrong_password_is_refused(ops_broker: OpsBroker) -> None:
    a, _ = _users(ops_broker)
    err = await connect_error(
        ops_broker, username=a.name, password=a.password + "x", cert=(a.cert, a.key)
    )
    assert isinstance(err, aiomqtt.MqttCodeError), err
    assert _code(err) in BAD_CREDENTIALS | NOT_AUTHORISED, err
    # and the relayer's transport never gets connected with it
    async with gossip_as(ops_broker, a, password="not-" + a.password) as gossip:
        with pytest.raises(BrokerError):
            await gossip.wait_connected(2.0)
        assert gossip.stats.connect_failures >= 1


def _connect_packet(client_id: str, username: str, password: str) -> bytes:
    """An MQTT 3.1.1 CONNECT with username and password, clean session, keepalive 60."""

    def field(value: str) -> bytes:
        raw = value.encode()
        return len(raw).to_bytes(2, "big") + raw

    body = field("MQTT") + bytes([4, 0xC2]) + (60).to_bytes(2, "big")
    body += field(client_id) + field(username) + field(password)
    assert len(body) < 128  # one-byte remaining length
    return bytes([0x10, len(body)]) + body


def _raw_login(broker: OpsBroker, user: BrokerUser, *, tls: bool, cert: bool) -> bytes:
    """Send a CONNECT as ``user`` over a raw socket; what came back before the broker
    closed it (b"" when it closed without a word; an SSL alert counts as that too)."""
    sock = socket.create_connection(("127.0.0.1", broker.port), timeout=WAIT_S)
    try:
        if tls:
            context = ssl.create_default_context(cafile=str(broker.ca))
            if cert:
                context.load_cert_chain(str(user.cert), str(user.key))
            sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
        sock.sendall(_connect_packet(f"probe-{uuid.uuid4().hex[:8]}", user.name, user.password))
        return sock.recv(4)
    except (ssl.SSLError, ConnectionError):
        return b""
    finally:
        sock.close()


def test_plain_tcp_to_the_tls_port_fails(ops_broker: OpsBroker) -> None:
    a, _ = _users(ops_broker)
    assert _raw_login(ops_broker, a, tls=True, cert=True) == b"\x20\x02\x00\x00"  # control
    assert _raw_login(ops_broker, a, tls=False, cert=False) == b""  # closed, no CONNACK


def test_tls_without_a_client_certificate_fails(ops_broker: OpsBroker) -> None:
    a, _ = _users(ops_broker)
    assert _raw_login(ops_broker, a, tls=True, cert=False) == b""  # closed, no CONNACK


@async_test
async def test_relayer_transport_without_tls_never_connects(ops_broker: OpsBroker) -> None:
    a, _ = _users(ops_broker)
    plain = GossipConfig(
        client_id=f"{client_id_for(a.address)}-plain",
        port=ops_broker.port,
        topic_prefix=PREFIX,
        username=a.name,
        password=a.password,
        connect_timeout_s=1.0,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )
    async with MqttGossip(plain) as gossip:
        with pytest.raises(BrokerError):
            await gossip.wait_connected(2.0)
    assert gossip.stats.connects == 0


def test_compose_healthcheck_login_works(ops_broker: OpsBroker) -> None:
    """What the mosquitto service's healthcheck runs (ops/docker-compose.yml)."""
    user = ops_broker.users["healthcheck"]
    done = subprocess.run(
        [
            "mosquitto_sub",
            *("-h", "localhost", "-p", str(ops_broker.port), "-C", "1", "-W", "5"),
            *("--cafile", str(ops_broker.ca), "--cert", str(user.cert), "--key", str(user.key)),
            *("-u", "healthcheck", "-P", user.password, "-t", "$SYS/broker/uptime"),
        ],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "seconds" in done.stdout


def test_topics_of_a_validator_match_its_username(ops_broker: OpsBroker) -> None:
    """The ACL's %u works only if the username is exactly the topic's signer level."""
    a, _ = _users(ops_broker)
    assert hex32(a.address) == a.name == a.name.lower()
