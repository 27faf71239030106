"""The OpenAPI document (relayer/portal/openapi.py) matches the routes the portal serves
and the answers it gives."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from portal_views import view

from relayer.portal.aggregate import Found, Listed, Source, aggregate_list, aggregate_transfer
from relayer.portal.app import build_portal_app, config_json
from relayer.portal.openapi import openapi_document
from relayer.portal.settings import load_portal_settings

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "portal.example.toml"


def _routes() -> set[tuple[str, str]]:
    app = build_portal_app(load_portal_settings(EXAMPLE))
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/v1/")
        and route.method != "HEAD"
    }


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


def test_every_route_is_documented_and_every_documented_path_is_routed() -> None:
    document = openapi_document(200)
    assert document["openapi"] == "3.1.0"
    assert _routes() == _documented(document)


def test_path_parameters_match_the_templates() -> None:
    for path, item in openapi_document(200)["paths"].items():
        for operation in item.values():
            in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert in_path == set(re.findall(r"{(\w+)}", path)), path


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves() -> None:
    document = openapi_document(200)
    for ref in set(_refs(document)):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_the_limit_maximum_is_the_settings_one() -> None:
    operation = openapi_document(50)["paths"]["/v1/transfers"]["get"]
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["maximum"], limit["schema"]["default"]) == (50, 20)


def test_the_schemas_name_every_field_the_answers_carry() -> None:
    schemas = openapi_document(200)["components"]["schemas"]
    source = Source("v0", "HK", None)
    transfer = aggregate_transfer([(source, Found(view("observed")))], {}, 0.0)
    assert transfer is not None
    assert set(transfer) == set(schemas["Transfer"]["properties"])
    assert set(transfer["validators"][0]) <= set(schemas["Validator"]["properties"])
    listing = {
        "address": "0x",
        "limit": 1,
        **aggregate_list([(source, Listed((view("observed"),)))], {}, 0.0, 1),
    }
    assert set(listing) == set(schemas["TransferList"]["properties"])
    shown = config_json(load_portal_settings(EXAMPLE))
    assert set(shown) <= set(schemas["Config"]["properties"])
    chain_schema = schemas["Config"]["properties"]["chains"]["items"]["properties"]
    assert set(shown["chains"][0]) == set(chain_schema)
