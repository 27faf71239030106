"""Every metric the alert rules (ops/monitoring/alerts.yml) and the dashboard
(ops/monitoring/grafana/relayer.json) read is exported by a real relayer of the stack:
its /metrics page, scraped over HTTP, names it (a labelled metric without samples yet
still has its TYPE line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from bridge_client import metric_lines, wait_until

from relayer.devnet.monitoring import (
    PROMETHEUS_SERIES,
    dashboard_expressions,
    exported_names,
    metric_names,
    rule_expressions,
)
from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

MONITORING = Path(__file__).resolve().parents[2] / "ops" / "monitoring"


def test_every_metric_the_alerts_and_dashboard_read_is_exported(bridge: Stack) -> None:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    dashboard = json.loads((MONITORING / "grafana" / "relayer.json").read_text())
    referenced: dict[str, set[str]] = {}
    for place, expr in [*rule_expressions(rules), *dashboard_expressions(dashboard)]:
        for name in metric_names(expr):
            referenced.setdefault(name, set()).add(place)
    assert len(referenced) >= 15

    # ready first: the confirmed-head gauges appear once the watchers have read a head
    wait_until(lambda: bridge.http_get(0, "/readyz"), timeout=120)  # None while 503
    page = "\n".join(metric_lines(bridge, 0))
    exported = exported_names(page)
    missing = {n: sorted(w) for n, w in referenced.items() if n not in exported | PROMETHEUS_SERIES}
    assert not missing, f"read by ops/monitoring, not on a relayer's /metrics: {missing}"
    # the new gauges carry samples, not only their TYPE lines
    assert 'relayer_chain_confirmed_head_block{chain="conflux"}' in page
    assert 'relayer_transfers_waiting_seconds{state="attested"}' in page
    assert 'relayer_gossip_dropped_messages{reason="queue_full"}' in page
