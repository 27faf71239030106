"""The helper that reads metric names out of PromQL and out of a /metrics page
(relayer/devnet/monitoring.py), and the monitoring files read against this relayer's own
registry (no network: the e2e test scrapes a running relayer for the same check)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from relayer.api.metrics import Metrics
from relayer.devnet.monitoring import (
    PROMETHEUS_SERIES,
    dashboard_expressions,
    exported_names,
    metric_names,
    rule_expressions,
)

MONITORING = Path(__file__).resolve().parents[2] / "ops" / "monitoring"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up == 0", {"up"}),
        ('up{job="relayer"} == 0', {"up"}),
        ("rate(relayer_rpc_errors_total[5m]) > 0.2", {"relayer_rpc_errors_total"}),
        (
            "sum by (job, instance, reason) (increase(relayer_gossip_dropped_messages[10m])) > 20",
            {"relayer_gossip_dropped_messages"},
        ),
        (
            "histogram_quantile(0.95, sum by (le, direction) "
            "(rate(relayer_release_latency_seconds_bucket[$__rate_interval])))",
            {"relayer_release_latency_seconds_bucket"},
        ),
        ("sum(rate(x_total[5m])) by (instance) / on (instance) group_left y", {"x_total", "y"}),
        (
            "changes(h[15m]) == 0 and h offset 15m unless on(chain) g @ start()",
            {"h", "g"},
        ),
        ("time() - t > 900 and t > 0", {"t"}),
        ("balance / 1e18 < 0.1 or vector(0x1f) > bool 2.5e-3", {"balance"}),
        ('{__name__="by_name", job="relayer"}', {"by_name"}),
        ('a{msg="sum(b) by (c) {d}", e=~"f|g"} + ignoring(h) i', {"a", "i"}),
        ('x{instance=~"$instance"} * on (instance) ALERTS{alertstate="firing"}', {"x", "ALERTS"}),
        (
            "topk(5, sum without (kind) (errs_total)) # a comment naming nothing_real",
            {"errs_total"},
        ),
        ("-rate(a:recorded:sum[1h:5m]) + Inf - NaN", {"a:recorded:sum"}),
    ],
)
def test_metric_names_of_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


EXPOSITION = """\
# HELP g A gauge.
# TYPE g gauge
g{chain="conflux"} 1.0
# HELP c_total A counter.
# TYPE c_total counter
# HELP om A counter as OpenMetrics names it.
# TYPE om counter
# HELP h A histogram.
# TYPE h histogram
h_bucket{le="1.0"} 0.0
h_count 0.0
h_sum 0.0
# HELP x_count A gauge that only looks like a histogram part.
# TYPE x_count gauge
x_count 3.0
"""


def test_exported_names_follow_the_type_not_the_spelling() -> None:
    names = exported_names(EXPOSITION)
    assert {"g", "c_total", "om", "om_total", "h_bucket", "h_sum", "h_count", "x_count"} <= names
    assert "c_total" in names  # labelled, no sample yet: the TYPE line is enough
    assert "h" not in names  # a histogram is read through its parts
    assert "x" not in names and "x_bucket" not in names
    assert "c" not in names


def test_dashboard_expressions_walk_rows_and_variables() -> None:
    dashboard = {
        "panels": [
            {"title": "a", "targets": [{"expr": "a_total"}, {"refId": "B"}]},
            {"title": "row", "type": "row", "panels": [{"title": "b", "targets": [{"expr": "b"}]}]},
        ],
        "templating": {
            "list": [
                {"type": "datasource", "name": "datasource", "query": "prometheus"},
                {"type": "query", "name": "instance", "query": 'label_values(c{x="1"}, instance)'},
                {"type": "query", "name": "job", "query": {"query": "label_values(job)"}},
                {"type": "query", "name": "chain", "query": {"query": "label_values(d, chain)"}},
            ]
        },
    }
    found = dict(dashboard_expressions(dashboard))
    assert found == {
        "panel 'a'": "a_total",
        "panel 'b'": "b",
        "variable 'instance'": 'c{x="1"}',
        "variable 'chain'": "d",
    }


def _referenced() -> dict[str, set[str]]:
    """Every metric name the alert rules and the dashboard read, with where."""
    where: dict[str, set[str]] = {}
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    dashboard = json.loads((MONITORING / "grafana" / "relayer.json").read_text())
    pairs = [*rule_expressions(rules), *dashboard_expressions(dashboard)]
    for place, expr in pairs:
        for name in metric_names(expr):
            where.setdefault(name, set()).add(place)
    return where


def test_every_name_the_monitoring_files_read_is_in_the_relayer_registry() -> None:
    """The same check as tests/e2e/test_monitoring_metrics.py, against Metrics() itself."""
    referenced = _referenced()
    exported = exported_names(Metrics().render().decode())
    missing = {n: sorted(w) for n, w in referenced.items() if n not in exported | PROMETHEUS_SERIES}
    assert not missing, f"read by the monitoring files, exported by no relayer: {missing}"
    assert len(referenced) >= 15  # the scanner found the expressions at all
