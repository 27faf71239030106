"""ops/monitoring/ checked for real: promtool validates the rules and the Prometheus config
and runs the rules' unit tests (ops/monitoring/tests/*.yml); each alert is documented in the
runbook its annotation links to and tested both firing and not firing; Prometheus scrapes
the relayers the compose file runs, where they serve /metrics; the dashboard is well formed.

promtool must be installed (Debian: `apt-get install prometheus`; `make system-tools`):
missing, these tests FAIL, never skip.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from typing import Any

import pytest
import yaml
from ops_broker import OPS, require_binary

MONITORING = OPS / "monitoring"
RULES = MONITORING / "alerts.yml"
RULE_TESTS = sorted((MONITORING / "tests").glob("*.yml"))
TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_binary("promtool", "/usr/bin/promtool")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=TIMEOUT_S, check=False, cwd=MONITORING
    )


def _alerts() -> list[dict[str, Any]]:
    rules = yaml.safe_load(RULES.read_text())
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


def test_promtool_checks_the_rules(promtool: str) -> None:
    done = _run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in done.stdout


def test_promtool_runs_the_rule_unit_tests(promtool: str) -> None:
    assert len(RULE_TESTS) >= 3
    done = _run(promtool, "test", "rules", *map(str, RULE_TESTS))
    assert done.returncode == 0, f"promtool test rules failed:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.count("SUCCESS") == len(RULE_TESTS), done.stdout


def test_promtool_checks_the_prometheus_config(promtool: str) -> None:
    done = _run(promtool, "check", "config", str(MONITORING / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rule files found" in done.stdout


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_alert_has_a_wait_a_severity_and_a_runbook_section() -> None:
    readme = (OPS / "README.md").read_text()
    anchors = {_anchor(m) for m in re.findall(r"^#+ (.+)$", readme, re.M)}
    for alert in _alerts():
        name = alert["alert"]
        assert "for" in alert, f"{name}: no for: duration"
        assert alert["labels"]["severity"] in {"critical", "warning"}, name
        annotations = alert["annotations"]
        assert annotations["summary"] and annotations["description"], name
        page, _, anchor = annotations["runbook_url"].partition("#")
        assert page == "ops/README.md", name
        assert anchor == name.lower() and anchor in anchors, f"{name}: no section {anchor}"


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {alert["alert"] for alert in _alerts()}
    assert names - firing == set(), "never tested firing"
    assert names - quiet == set(), "never tested staying quiet"


def test_prometheus_scrapes_every_relayer_of_the_compose_file_on_its_api_port() -> None:
    compose = yaml.safe_load((OPS / "docker-compose.yml").read_text())
    expected = set()
    for service, spec in compose["services"].items():
        if not re.fullmatch(r"relayer-\d+", service):
            continue
        mount = next(v for v in spec["volumes"] if v.endswith(":/etc/relayer/relayer.toml:ro"))
        settings = tomllib.loads((OPS / mount.split(":")[0]).read_text())
        expected.add(f"{service}:{settings['api']['port']}")
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "relayer"]
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert len(expected) == 5
    assert targets == expected
    assert job.get("metrics_path", "/metrics") == "/metrics"


def test_the_dashboard_is_well_formed() -> None:
    dashboard = json.loads((MONITORING / "grafana" / "relayer.json").read_text())
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in (
        "transfers by status",
        "release latency",
        "head lag",
        "attestations",
        "signatures",
        "submitter balance",
        "gossip drops",
        "rpc errors",
        "alerts",
    ):
        assert topic in titles
