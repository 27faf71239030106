"""ops/docker-compose.yml is valid for a real compose implementation, and the files it
wires together (settings, Dockerfile, secrets) fit each other.

`docker-compose` 1.29 must be installed (Debian: `apt-get install -y --no-install-recommends
docker-compose`; or PyPI in a throwaway venv at .tools/compose-venv, see ops/README.md):
missing, these tests FAIL. No Docker engine is needed: `config` only parses and resolves.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ops_broker import OPS, REPO, require_binary

from relayer.settings import load_settings

COMPOSE_FILE = OPS / "docker-compose.yml"
JURISDICTIONS = ["HK", "SG", "AE", "HK", "SG"]
VALIDATORS = range(1, 6)
TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def compose_binary() -> str:
    return require_binary(
        "docker-compose", str(REPO / ".tools" / "compose-venv" / "bin" / "docker-compose")
    )


def run_compose(
    binary: str, tmp_path: Path, *args: str, addresses: bool = True
) -> subprocess.CompletedProcess[str]:
    """`docker-compose -f ops/docker-compose.yml ARGS`, with a controlled environment
    (never the caller's VALIDATOR_*/BRIDGE_* nor a local ops/.env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VALIDATOR_", "BRIDGE_"))}
    env_file = tmp_path / "compose.env"
    lines = [f"VALIDATOR_{i}_ADDRESS=0x{i:040x}" for i in VALIDATORS] if addresses else []
    env_file.write_text("\n".join(lines) + "\n")
    return subprocess.run(
        [binary, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved(compose_binary: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The file as compose resolves it (`docker-compose config`)."""
    done = run_compose(compose_binary, tmp_path_factory.mktemp("compose"), "config")
    assert done.returncode == 0, f"docker-compose config failed:\n{done.stderr}"
    loaded: dict[str, Any] = yaml.safe_load(done.stdout)
    return loaded


def test_compose_config_accepts_the_file(resolved: dict[str, Any]) -> None:
    services = set(resolved["services"])
    expected = {"conflux", "ethereum", "mosquitto"}
    for i in VALIDATORS:
        expected |= {f"relayer-{i}", f"db-{i}", f"migrate-{i}"}
    assert services == expected


def test_compose_refuses_to_run_without_validator_addresses(
    compose_binary: str, tmp_path: Path
) -> None:
    done = run_compose(compose_binary, tmp_path, "config", "-q", addresses=False)
    assert done.returncode != 0
    assert "make-compose-secrets.sh" in done.stderr


def test_each_relayer_is_wired_to_its_own_config_database_and_secrets(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    for i in VALIDATORS:
        relayer = services[f"relayer-{i}"]
        mounts = {v.split(":")[1]: v.split(":")[0] for v in relayer["volumes"]}  # src:dst:ro
        assert Path(mounts["/etc/relayer/relayer.toml"]) == OPS / "relayer" / f"validator-{i}.toml"
        assert relayer["environment"]["RELAYER_BROKER__USERNAME"] == f"0x{i:040x}"
        assert relayer["environment"]["PGPASSFILE"] == "/run/secrets/db.pgpass"
        secrets = {s["target"]: s["source"] for s in relayer["secrets"]}
        assert secrets["validator.keystore.json"] == f"validator-{i}.keystore.json"
        assert secrets["broker.password"] == f"broker-validator-{i}.password"
        assert secrets["broker-client.key"] == f"broker-client-validator-{i}.key"
        assert secrets["db.pgpass"] == f"db-{i}.pgpass"
        assert set(relayer["networks"]) == {"default", f"v{i}-db"}
        assert services[f"db-{i}"]["networks"] == {f"v{i}-db": None}
        assert resolved["networks"][f"v{i}-db"]["internal"] is True
        conditions = {name: d["condition"] for name, d in relayer["depends_on"].items()}
        assert conditions == {
            f"migrate-{i}": "service_completed_successfully",
            f"db-{i}": "service_healthy",
            "mosquitto": "service_healthy",
            "ethereum": "service_healthy",
            "conflux": "service_started",
        }
        assert services[f"migrate-{i}"]["command"][:2] == ["db", "upgrade"]
        assert services[f"db-{i}"]["image"] == "postgres:16"
        assert "healthcheck" in services[f"db-{i}"]
    assert services["mosquitto"]["image"] == "eclipse-mosquitto:2"
    for name, spec in resolved["secrets"].items():  # all from the uncommitted secrets dir
        assert Path(spec["file"]) == OPS / "secrets" / name


def test_relayer_configs_load_and_match_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("RELAYER_"):
            monkeypatch.delenv(key)
    acl = (OPS / "mosquitto" / "acl").read_text()
    names = set()
    for i, jurisdiction in zip(VALIDATORS, JURISDICTIONS, strict=True):
        s = load_settings(OPS / "relayer" / f"validator-{i}.toml")
        names.add(s.validator.name)
        assert s.validator.jurisdiction == jurisdiction
        assert str(s.validator.keystore).startswith("/run/secrets/")
        assert s.database.url == f"postgresql+asyncpg://relayer@db-{i}:5432/relayer"
        assert s.broker.url == "mqtts://mosquitto:8883"
        assert f"pattern write {s.broker.topic_prefix}/v1/att/+/+/%u" in acl
        assert s.broker.client_cert is not None and s.broker.ca_file is not None
        assert (s.api.host, s.api.port) == ("0.0.0.0", 8080)  # noqa: S104 (the image's healthcheck)
        assert s.log.format == "json"
    assert len(names) == len(VALIDATORS)


def test_dockerfile_runs_the_relayer_as_non_root_with_a_healthcheck() -> None:
    """The shape of ops/Dockerfile; tests/container builds and runs it for real."""
    text = (OPS / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=debian:bookworm-slim$", text, flags=re.MULTILINE)
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, flags=re.MULTILINE)
    assert stages == [("${BASE_IMAGE}", "builder"), ("${BASE_IMAGE}", "runtime")]
    builder, runtime = text.split("AS runtime", 1)
    assert "--require-hashes" in builder and "requirements.lock" in builder
    assert re.search(r"^USER relayer", runtime, flags=re.MULTILINE)
    assert "http://127.0.0.1:%s/healthz" in runtime and "RELAYER_API__PORT" in runtime
    assert 'ENTRYPOINT ["relayer"]' in runtime
    assert 'CMD ["run", "--config", "/etc/relayer/relayer.toml"]' in runtime
    copies = re.findall(r"^COPY (.*)$", runtime, flags=re.MULTILINE)
    assert copies == [  # the dependencies' venv, then the code: nothing else
        "--from=builder /opt/relayer /opt/relayer",
        "--from=builder /src/relayer /opt/relayer/lib/python3.11/site-packages/relayer",
    ]
    installs = re.findall(r"apt-get install[^&]*", runtime)
    assert installs and all("python3-venv" not in i and "gcc" not in i for i in installs)


def test_secrets_are_never_committed() -> None:
    probe = ["ops/secrets/validator-1.keystore.json", "ops/secrets/broker.key", "ops/.env"]
    kept = ["ops/secrets/README.md", "ops/secrets/.gitignore"]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *probe, *kept],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    ).stdout.split()
    assert ignored == probe
