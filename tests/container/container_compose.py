"""ops/docker-compose.yml, run for real on a host network against the devnet chains.

What the test changes in the compose file, and nothing else (``host_network_variant``):
- every service on the host network (this engine runs with ``--bridge=none``; all test
  traffic stays on loopback): ``networks``, ``ports`` and ``expose`` go, each listener gets
  a free port (PGPORT for a database, the broker's ``listener`` line, RELAYER_API__PORT);
- the placeholder chains ``conflux`` and ``ethereum`` go (and the relayers' wait for
  them): the chains are relayer/devnet's, on the host, with the contracts deployed;
- PostgreSQL and Mosquitto come from the images built here from Debian packages;
- the relayers' addresses of their database, broker and chains are set by environment
  (RELAYER_<SECTION>__<NAME>, docs/configuration.md), as an operator's .env would.
Secrets are made by ops/scripts/make-compose-secrets.sh itself, with the devnet's
validator keys put in keystores first (so the deployed contracts know the five signers).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from container_engine import MOSQUITTO_IMAGE, POSTGRES_IMAGE, REPO
from eth_account import Account

from relayer.devnet.processes import free_ports
from relayer.devnet.stack import Stack

VALIDATORS = range(1, 6)
PLACEHOLDER_CHAINS = ("conflux", "ethereum")


@dataclass(frozen=True)
class Ports:
    broker: int
    databases: dict[int, int]  # validator -> PostgreSQL port
    apis: dict[int, int]  # validator -> relayer HTTP API port

    @classmethod
    def free(cls) -> Ports:
        ports = free_ports(1 + 2 * len(VALIDATORS))
        n = len(VALIDATORS)
        return cls(
            broker=ports[0],
            databases=dict(zip(VALIDATORS, ports[1 : 1 + n], strict=True)),
            apis=dict(zip(VALIDATORS, ports[1 + n :], strict=True)),
        )


def export_tracked_tree(dest: Path) -> Path:
    """The repository's git-tracked files (working-tree content) copied to ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout.split(b"\0")
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / ".tracked.tar"
    with tarfile.open(archive, "w") as tar:
        for raw in listed:
            name = raw.decode()
            if name and (REPO / name).exists():
                tar.add(REPO / name, arcname=name, recursive=False)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="tar")
    archive.unlink()
    return dest


def host_network_variant(
    compose: dict[str, Any], ports: Ports, stack: Stack, broker_conf: str
) -> dict[str, Any]:
    """ops/docker-compose.yml (as loaded) changed as the module docstring says."""
    assert stack.conflux and stack.anvil
    compose = json.loads(json.dumps(compose))  # a deep copy, anchors resolved
    compose.pop("networks", None)
    services: dict[str, Any] = compose["services"]
    for name in PLACEHOLDER_CHAINS:
        services.pop(name)
    for name, service in services.items():
        for key in ("networks", "ports", "expose", "build"):
            service.pop(key, None)
        service["network_mode"] = "host"
        depends = service.get("depends_on")
        if isinstance(depends, dict):
            for chain in PLACEHOLDER_CHAINS:
                depends.pop(chain, None)
        if name == "mosquitto":
            service["image"] = MOSQUITTO_IMAGE
            service["volumes"] = [
                f"{broker_conf}:/mosquitto/config/mosquitto.conf:ro",
                *(v for v in service["volumes"] if "mosquitto.conf" not in v),
            ]
            test = service["healthcheck"]["test"]
            service["healthcheck"]["test"] = [
                part.replace("-p 8883", f"-p {ports.broker}") for part in test
            ]
        match = re.fullmatch(r"(db|migrate|relayer)-(\d)", name)
        if match is None:
            continue
        kind, index = match.group(1), int(match.group(2))
        env = service.setdefault("environment", {})
        if kind == "db":
            service["image"] = POSTGRES_IMAGE
            env["PGPORT"] = str(ports.databases[index])
            continue
        env["RELAYER_DATABASE__URL"] = (
            f"postgresql+asyncpg://relayer@127.0.0.1:{ports.databases[index]}/relayer"
        )
        env["RELAYER_CONFLUX__RPC_URL"] = stack.conflux.rpc_url
        env["RELAYER_ETHEREUM__RPC_URL"] = stack.anvil.rpc_url
        env["RELAYER_BROKER__URL"] = f"mqtts://127.0.0.1:{ports.broker}"
        env["RELAYER_API__PORT"] = str(ports.apis[index])
        env["RELAYER_SUBMITTER__GRACE_PERIOD_S"] = "3"
    return compose


def container(project: str, service: str) -> str:
    return f"{project}_{service}_1"  # docker-compose 1.29's container names


@dataclass(frozen=True)
class ComposeNetwork:
    ops: Path  # the exported tree's ops/ (compose file, secrets, .env)
    compose_file: Path
    ports: Ports
    secret_strings: tuple[str, ...]  # keys, keystore ciphertexts, passwords (must not leak)
    secret_files: tuple[str, ...]  # names of the files in ops/secrets/ (keystores, keys, ...)

    def api(self, validator: int) -> str:
        return f"http://127.0.0.1:{self.ports.apis[validator]}"


def prepare(tree: Path, stack: Stack, ports: Ports) -> ComposeNetwork:
    """Secrets (make-compose-secrets.sh, with the devnet's keys), .env and the compose file."""
    assert stack.vault and stack.gateway
    ops = tree / "ops"
    out = ops / "secrets"
    out.mkdir(exist_ok=True)
    os.chmod(out, 0o700)
    leaks: list[str] = []
    for i in VALIDATORS:
        validator = stack.validators[i - 1]
        password = secrets.token_urlsafe(24)
        (out / f"validator-{i}.password").write_text(password + "\n")
        keystore = Account.encrypt(
            bytes.fromhex(validator.private_key.removeprefix("0x")), password
        )
        (out / f"validator-{i}.keystore.json").write_text(json.dumps(keystore))
        leaks += [validator.private_key.removeprefix("0x"), str(keystore["crypto"]["ciphertext"])]
        leaks.append(password)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALIDATOR_", "BRIDGE_"))}
    env["RELAYER"] = str(Path(sys.executable).parent / "relayer")
    subprocess.run(
        [str(ops / "scripts" / "make-compose-secrets.sh")],
        cwd=ops,
        env=env,
        capture_output=True,
        timeout=300,
        check=True,
    )
    for i in VALIDATORS:  # the databases are on the host network: 127.0.0.1:PORT
        pgpass = out / f"db-{i}.pgpass"
        password = (out / f"db-{i}.password").read_text().strip()
        pgpass.write_text(f"127.0.0.1:{ports.databases[i]}:relayer:relayer:{password}\n")
        leaks.append(password)
        leaks.append((out / f"broker-validator-{i}.password").read_text().strip())
    with (ops / ".env").open("a") as dotenv:
        dotenv.write(
            f"BRIDGE_VAULT={stack.vault.address}\nBRIDGE_GATEWAY={stack.gateway.address}\n"
        )
    conf = (ops / "mosquitto" / "mosquitto.conf").read_text()
    assert "\nlistener 8883\n" in conf
    broker_conf = ops / "mosquitto" / "mosquitto.test.conf"
    broker_conf.write_text(conf.replace("\nlistener 8883\n", f"\nlistener {ports.broker}\n"))
    loaded = yaml.safe_load((ops / "docker-compose.yml").read_text())
    variant = host_network_variant(loaded, ports, stack, "./mosquitto/mosquitto.test.conf")
    compose_file = ops / "docker-compose.test.yml"
    compose_file.write_text(yaml.safe_dump(variant, sort_keys=False))
    names = tuple(sorted(p.name for p in out.rglob("*") if p.is_file() and p.name != "README.md"))
    return ComposeNetwork(ops, compose_file, ports, tuple(s for s in leaks if s), names)
