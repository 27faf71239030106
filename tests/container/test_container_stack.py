"""The relayer image, built and run for real: ops/Dockerfile built from the git-tracked
files on a Debian base, ops/docker-compose.yml brought up with five relayer containers,
their PostgreSQL databases and Mosquitto (TLS, client certificates, passwords, ACL),
against the devnet chains on the host.

It proves: a transfer locked on Conflux is released on Ethereum exactly once with the
exact amount, by the containers; a relayer container runs as uid 10001 on a read-only
root file system; `docker stop` (SIGTERM) ends it with exit code 0 and, started again, it
resumes from its database (what it knew is still there; what happened while it was down it
catches up on); no image layer holds a key, a keystore or a password.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from container_compose import VALIDATORS, ComposeNetwork, container
from container_engine import (
    MOSQUITTO_IMAGE,
    POSTGRES_IMAGE,
    RELAYER_IMAGE,
    Engine,
    saved_layer_files,
)
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from relayer.chain import transactions
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

ONE_CFX = 10**18
RELEASED = "Released(bytes32,address,address,uint256)"


def lock_native(chains: Stack, amount: int) -> tuple[bytes, int, str]:
    """lockNative on the vault from a devnet user to a fresh recipient on Ethereum:
    (transfer id, amount the vault credited, recipient)."""
    assert chains.w3c and chains.vault and chains.anvil
    recipient = Account.create().address
    receipt = transactions.send(
        chains.w3c,
        chains.users[0],
        chains.vault.functions.lockNative(recipient, chains.anvil.chain_id),
        value=amount,
    )
    (event,) = chains.vault.events.Locked().process_receipt(receipt, errors=DISCARD)
    return bytes(event["args"]["transferId"]), int(event["args"]["amount"]), recipient


def releases(chains: Stack, transfer_id: bytes, timeout: float = 180.0) -> list[dict[str, Any]]:
    """Wait until the gateway executed ``transfer_id``; its Released logs."""
    assert chains.gateway and chains.w3e
    gateway, w3 = chains.gateway, chains.w3e
    deadline = time.monotonic() + timeout
    while gateway.functions.statusOf(transfer_id).call() != 1:
        if time.monotonic() > deadline:
            raise AssertionError(f"0x{transfer_id.hex()} not released in {timeout}s")
        time.sleep(0.5)
    logs = w3.eth.get_logs(
        {
            "address": gateway.address,
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [Web3.keccak(text=RELEASED).to_0x_hex(), "0x" + transfer_id.hex()],
        }
    )
    return [dict(gateway.events.Released().process_log(entry)["args"]) for entry in logs]


def transfer_view(net: ComposeNetwork, validator: int, transfer_id: bytes) -> dict[str, Any] | None:
    url = f"{net.api(validator)}/transfers/0x{transfer_id.hex()}"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
            loaded: dict[str, Any] = json.loads(answer.read())
            return loaded
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return None


def wait_view(
    net: ComposeNetwork, validator: int, transfer_id: bytes, status: str, timeout: float = 120.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = transfer_view(net, validator, transfer_id)
        if last is not None and last.get("status") == status:
            return last
        time.sleep(0.5)
    raise AssertionError(f"relayer-{validator}: wanted {status}, last view {last}")


def test_relayer_containers_run_as_non_root_on_a_read_only_root(
    engine: Engine, network: ComposeNetwork, project: str
) -> None:
    for i in VALIDATORS:
        name = container(project, f"relayer-{i}")
        info = engine.inspect(name)
        assert info["HostConfig"]["ReadonlyRootfs"] is True
        assert info["Config"]["User"] == "relayer:relayer"
        assert info["State"]["Health"]["Status"] == "healthy"
    name = container(project, "relayer-1")
    assert engine.docker("exec", name, "id", "-u").strip() == "10001"
    assert engine.docker("exec", name, "id", "-g").strip() == "10001"
    written = engine.run("docker", "exec", name, "touch", "/opt/relayer/x", check=False)
    assert written.returncode != 0 and "Read-only file system" in written.stderr
    home = engine.run("docker", "exec", name, "touch", "/var/lib/relayer/x", check=False)
    assert home.returncode != 0 and "Read-only file system" in home.stderr
    # nothing to build with in the runtime image
    tools = engine.run(
        "docker", "exec", name, "sh", "-c", "command -v gcc cc make pip", check=False
    )
    assert tools.stdout.strip() == ""


def test_a_transfer_completes_through_the_containers(
    chains: Stack, network: ComposeNetwork
) -> None:
    transfer_id, amount, recipient = lock_native(chains, ONE_CFX)
    assert amount == ONE_CFX
    (released,) = releases(chains, transfer_id)
    assert released["amount"] == ONE_CFX
    assert released["recipient"] == recipient
    for i in VALIDATORS:  # every container saw it through
        wait_view(network, i, transfer_id, "released", timeout=60)


def test_sigterm_exits_zero_and_the_restarted_container_resumes_from_its_database(
    engine: Engine, chains: Stack, network: ComposeNetwork, project: str
) -> None:
    name = container(project, "relayer-2")
    before_id, _, _ = lock_native(chains, 2 * ONE_CFX)
    releases(chains, before_id)
    known = wait_view(network, 2, before_id, "released", timeout=60)

    engine.docker("stop", "--time", "30", name, timeout=60)  # SIGTERM (the image's STOPSIGNAL)
    state = engine.inspect(name)["State"]
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 0, engine.docker("logs", "--tail", "30", name)
    assert "relayer stopped" in engine.run("docker", "logs", "--tail", "5", name).stderr

    # While it is down, four of five (the threshold) still release a transfer.
    during_id, during_amount, _ = lock_native(chains, 3 * ONE_CFX)
    (released,) = releases(chains, during_id)
    assert released["amount"] == during_amount

    engine.docker("start", name)
    again = wait_view(network, 2, before_id, "released", timeout=60)
    assert again["observed_at"] == known["observed_at"]  # from its database, not re-observed
    wait_view(network, 2, during_id, "released", timeout=120)  # caught up from its cursor
    deadline = time.monotonic() + 60
    while engine.inspect(name)["State"].get("Health", {}).get("Status") != "healthy":
        assert time.monotonic() < deadline, "relayer-2 not healthy again"
        time.sleep(1)


def test_no_key_material_in_any_image_layer(
    engine: Engine, network: ComposeNetwork, tmp_path: Path
) -> None:
    needles = [s.encode() for s in network.secret_strings]
    needles += [s.upper().encode() for s in network.secret_strings if len(s) == 64]
    assert len(needles) >= 3 * len(VALIDATORS)
    secret_files = set(network.secret_files)
    assert {"validator-1.keystore.json", "broker.key", "db-1.pgpass"} <= secret_files
    scanned = 0
    for path, content in saved_layer_files(
        engine, [RELAYER_IMAGE, POSTGRES_IMAGE, MOSQUITTO_IMAGE], tmp_path
    ):
        scanned += 1
        name = path.rsplit("/", 1)[-1]
        assert name not in secret_files and not name.endswith(".keystore.json"), path
        for needle in needles:
            assert needle not in content, f"secret material in {path}"
        if path.endswith(".json") and b"ciphertext" in content:
            try:
                loaded = json.loads(content)
            except ValueError:
                continue
            if isinstance(loaded, dict):
                assert not {"crypto", "Crypto"} & set(loaded), f"a keystore in {path}"
    assert scanned > 1000  # really looked inside the layers
