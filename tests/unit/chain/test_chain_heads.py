"""Parsing a pushed head (chain/heads.py): what a notification must be."""

from __future__ import annotations

from typing import Any

import pytest

from relayer.chain.heads import parse_head
from relayer.errors import RpcResponseError


def _header(number: int) -> dict[str, Any]:
    return {
        "number": hex(number),
        "hash": "0x" + number.to_bytes(32, "big").hex(),
        "parentHash": "0x" + (number - 1).to_bytes(32, "big").hex(),
        "timestamp": hex(1_700_000_000 + number),
    }


def test_parse_head_names_what_is_wrong() -> None:
    good = {"method": "eth_subscription", "params": {"subscription": "s", "result": _header(5)}}
    assert parse_head(good, "s").number == 5
    with pytest.raises(RpcResponseError, match="another subscription"):
        parse_head(good, "t")
    with pytest.raises(RpcResponseError, match="not a subscription notification"):
        parse_head({"id": 1, "result": "s"}, "s")
    bad = {"method": "eth_subscription", "params": {"subscription": "s", "result": {}}}
    with pytest.raises(RpcResponseError, match="lacks field 'number'"):
        parse_head(bad, "s")
