"""The metric names the monitoring files in ops/monitoring/ read, and the names a ``/metrics``
page exports, so tests can check that every alert and dashboard panel reads a real series.

Pure functions over text and parsed JSON/YAML; no PromQL library: a small scanner that
knows which words of PromQL are not metric names (functions, aggregations, keywords, label
lists, matchers, ranges, numbers, durations, Grafana ``$variables``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values"}
    | {"bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)
# words that are never metric names where they appear (PromQL is case-insensitive on these);
# an aggregation may be followed by `by (...)` before its parenthesis
KEYWORDS = AGGREGATIONS | {
    *("and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"),
    *("by", "without", "on", "ignoring", "group_left", "group_right"),
}
LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
# series Prometheus itself writes: not the relayer's to export
PROMETHEUS_SERIES = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds"})

_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?)[A-Za-z0-9]*")
_VARIABLE = re.compile(r"\$(\{[^}]*\}|[A-Za-z0-9_]+)")
_NEVER = re.compile(r"(?!)")
_SKIPPED = {"$": _VARIABLE, ".": _NUMBER} | dict.fromkeys("0123456789", _NUMBER)
_NAME_MATCHER = re.compile(r"""__name__\s*=\s*(?:"([^"\\]*)"|'([^'\\]*)')""")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$", re.S)


def _skip_string(expr: str, pos: int) -> int:
    """The index after the string literal that starts at ``pos``."""
    quote = expr[pos]
    pos += 1
    while pos < len(expr) and expr[pos] != quote:
        pos += 2 if expr[pos] == "\\" and quote != "`" else 1
    return pos + 1


def _skip_until(expr: str, pos: int, closing: str) -> int:
    """The index after ``closing``, skipping string literals on the way."""
    while pos < len(expr) and expr[pos] != closing:
        pos = _skip_string(expr, pos) if expr[pos] in "\"'`" else pos + 1
    return pos + 1


def _next_char(expr: str, pos: int) -> str:
    while pos < len(expr) and expr[pos].isspace():
        pos += 1
    return expr[pos] if pos < len(expr) else ""


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (``rate(x_total[5m]) > 1`` -> x_total)."""
    names: set[str] = set()
    pos = 0
    while pos < len(expr):
        char = expr[pos]
        if char in "\"'`":
            pos = _skip_string(expr, pos)
        elif char == "#":  # a comment, to the end of the line
            end = expr.find("\n", pos)
            pos = len(expr) if end < 0 else end
        elif char == "{":  # label matchers; {__name__="x"} names a metric
            end = _skip_until(expr, pos + 1, "}")
            for match in _NAME_MATCHER.finditer(expr, pos, end):
                names.add(match.group(1) or match.group(2))
            pos = end
        elif char == "[":  # a range or subquery: durations, Grafana's $__rate_interval
            pos = _skip_until(expr, pos + 1, "]")
        elif found := _SKIPPED.get(char, _NEVER).match(expr, pos):  # a $variable, a number
            pos = found.end()
        elif found := _IDENT.match(expr, pos):
            word, pos = found.group(), found.end()
            follows = _next_char(expr, pos)
            if word.lower() in LABEL_LISTS and follows == "(":
                pos = _skip_until(expr, expr.index("(", pos) + 1, ")")
            elif word.lower() not in KEYWORDS and follows != "(":
                names.add(word)  # not a keyword, not a function or aggregation call
        else:
            pos += 1
    return names


def exported_names(exposition: str) -> set[str]:
    """Every sample name a ``/metrics`` page (text format 0.0.4) can carry, from its
    ``# TYPE`` lines (a labelled metric without samples yet still counts) and its samples.

    Suffixes follow the type, never the spelling: a histogram ``h`` exports ``h_bucket``,
    ``h_sum`` and ``h_count``, a counter ``c_total`` exports ``c_total``, but a gauge named
    ``x_count`` is only ``x_count``.
    """
    names: set[str] = set()
    for line in exposition.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[:2] == ["#", "TYPE"]:
            name, kind = parts[2], parts[3]
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            elif kind == "summary":
                names |= {name, f"{name}_sum", f"{name}_count"}
            elif kind == "counter" and not name.endswith("_total"):
                names |= {name, f"{name}_total"}  # OpenMetrics names the family without it
            else:
                names.add(name)
        elif parts and not line.startswith("#"):
            found = _IDENT.match(line)
            if found:
                names.add(found.group())
    return names


def rule_expressions(rules: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(alert or record name, expr)`` of every rule of a Prometheus rules file."""
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            yield str(rule.get("alert") or rule.get("record")), str(rule["expr"])


def dashboard_expressions(dashboard: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, PromQL)`` of every panel target and query variable of a Grafana dashboard
    (``label_values(expr, label)`` yields ``expr``; ``label_values(label)`` nothing)."""

    def panels(items: list[Any]) -> Iterator[Mapping[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))  # rows hold their panels

    for panel in panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield f"panel {panel.get('title')!r}", str(target["expr"])
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, Mapping):
            query = query.get("query")
        inner = _LABEL_VALUES.match(str(query or ""))
        if inner:
            yield f"variable {variable.get('name')!r}", inner.group(1)
