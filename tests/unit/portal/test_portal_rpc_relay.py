"""The relay's input rules (relayer/portal/rpc_relay.py ``parse_request``): one JSON-RPC
2.0 request object with a read method is relayed; anything else is refused with a message
saying what was wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayer.portal.inputs import BadInput
from relayer.portal.openapi import openapi_document
from relayer.portal.rpc_relay import READ_METHODS, RelayRequest, parse_request
from relayer.portal.settings import load_portal_settings

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "portal.example.toml"
LIMIT = 16384


def body(**members: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", **members}).encode()


def test_a_read_request_is_relayed_with_its_id_and_params() -> None:
    call = parse_request(
        body(id="a-7", method="eth_call", params=[{"to": "0x00"}, "latest"]), LIMIT
    )
    assert call == RelayRequest("a-7", "eth_call", ({"to": "0x00"}, "latest"))
    assert call.payload() == {
        "jsonrpc": "2.0",
        "id": "a-7",
        "method": "eth_call",
        "params": [{"to": "0x00"}, "latest"],
    }


def test_missing_params_are_an_empty_list_and_other_members_are_not_sent() -> None:
    raw = json.dumps({"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "x": 1}).encode()
    assert parse_request(raw, LIMIT).payload() == {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "eth_blockNumber",
        "params": [],
    }


@pytest.mark.parametrize(
    "method",
    [
        "eth_maxPriorityFeePerGas",  # deadlocks the conflux-rust dev node
        "eth_feeHistory",  # the same
        "eth_sendRawTransaction",
        "eth_sendTransaction",
        "eth_sign",
        "eth_getLogs",
        "eth_newFilter",
        "eth_subscribe",
        "anvil_setBalance",
        "debug_traceCall",
        "ETH_CHAINID",
    ],
)
def test_a_method_not_on_the_list_is_refused_by_name(method: str) -> None:
    with pytest.raises(BadInput, match=f"method {method} is not relayed") as refused:
        parse_request(body(method=method), LIMIT)
    assert "read methods only: eth_blockNumber, eth_call" in str(refused.value)


@given(st.text(max_size=200).filter(lambda m: m not in READ_METHODS))
def test_anything_not_on_the_list_is_refused(method: str) -> None:
    with pytest.raises(BadInput, match="is not relayed") as refused:
        parse_request(body(method=method), LIMIT)
    assert len(str(refused.value)) < 400  # a long name is cut short in the message


@given(
    st.sampled_from(sorted(READ_METHODS)),
    st.one_of(st.integers(), st.text(max_size=40)),
    st.lists(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))),
)
def test_every_read_method_is_relayed(
    method: str, request_id: int | str, params: list[Any]
) -> None:
    call = parse_request(body(method=method, id=request_id, params=params), 1 << 20)
    assert (call.id, call.method, list(call.params)) == (request_id, method, params)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "batches are not relayed"),
        (b'[{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}]', "batches are not relayed"),
        (b'"eth_chainId"', "must be a JSON-RPC 2.0 request object"),
        (b"42", "must be a JSON-RPC 2.0 request object"),
        (b"null", "must be a JSON-RPC 2.0 request object"),
        (b'{"id": 1, "method": "eth_chainId"}', 'jsonrpc must be "2.0"'),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}', 'jsonrpc must be "2.0"'),
        (b'{"jsonrpc": "2.0", "method": "eth_chainId"}', "id is required"),
        (body(id=None), "id must be an integer or a string"),
        (body(id=True), "id must be an integer or a string"),
        (body(id=1.5), "id must be an integer or a string"),
        (body(id=[1]), "id must be an integer or a string"),
        (b'{"jsonrpc": "2.0", "id": 1}', "method must be a string"),
        (body(method=7), "method must be a string"),
        (body(params={"a": 1}), "params must be a list"),
        (body(params="latest"), "params must be a list"),
        (body(params=None), "params must be a list"),
    ],
)
def test_a_malformed_request_is_refused_naming_what_was_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_request(raw, LIMIT)


def test_a_body_over_the_limit_is_refused_before_it_is_parsed() -> None:
    raw = body(params=["0x" + "00" * 100])
    assert parse_request(raw, len(raw)).method == "eth_chainId"
    with pytest.raises(BadInput, match=f"body too large: at most {len(raw) - 1} bytes"):
        parse_request(raw, len(raw) - 1)


def test_the_list_never_holds_a_method_that_writes_or_deadlocks_the_conflux_node() -> None:
    never = {"eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_sendRawTransaction", "eth_getLogs"}
    assert not never & READ_METHODS
    assert openapi_document(200)["components"]["schemas"]["RpcRequest"]["properties"]["method"][
        "enum"
    ] == sorted(READ_METHODS)


def test_reads_go_to_read_rpc_url_else_to_rpc_url() -> None:
    chains = load_portal_settings(EXAMPLE).chains
    assert [c.read_url for c in chains] == [c.rpc_url for c in chains]
    private = chains[0].model_copy(update={"read_rpc_url": "http://10.0.0.9:8545"})
    assert (private.read_url, private.rpc_url) == ("http://10.0.0.9:8545", chains[0].rpc_url)
