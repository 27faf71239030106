"""The public API's input rules (relayer/portal/inputs.py): the value, or a message."""

from __future__ import annotations

import pytest

from relayer.portal.inputs import BadInput, parse_address, parse_key, parse_limit

CHECKSUMMED = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_a_key_is_lower_cased() -> None:
    assert parse_key("0x" + "AB" * 32) == "0x" + "ab" * 32


@pytest.mark.parametrize(
    "key", ["", "0x", "ab" * 32, "0x" + "ab" * 31, "0x" + "ab" * 33, "0x" + "zz" * 32, "0x1 "]
)
def test_a_malformed_key_is_refused(key: str) -> None:
    with pytest.raises(BadInput, match="0x and 64 hex digits"):
        parse_key(key)


@pytest.mark.parametrize("text", [CHECKSUMMED, CHECKSUMMED.lower(), "0x" + CHECKSUMMED[2:].upper()])
def test_an_address_in_any_unambiguous_case_is_checksummed(text: str) -> None:
    assert parse_address(text) == CHECKSUMMED


def test_a_bad_checksum_is_refused_with_the_right_spelling() -> None:
    wrong = CHECKSUMMED.replace("C51812dc", "c51812dc")
    with pytest.raises(BadInput, match=f"bad EIP-55 checksum .*{CHECKSUMMED}"):
        parse_address(wrong)


@pytest.mark.parametrize("text", [None, "", "0x1234", "70997970C51812dc3A010C7d01b50e0d17dc79C8"])
def test_a_missing_or_malformed_address_is_refused(text: str | None) -> None:
    with pytest.raises(BadInput, match="address"):
        parse_address(text)


def test_limit_defaults_and_bounds() -> None:
    assert parse_limit(None, default=20, maximum=200) == 20
    assert parse_limit(None, default=20, maximum=5) == 5
    assert parse_limit("1", default=20, maximum=200) == 1
    assert parse_limit("200", default=20, maximum=200) == 200


@pytest.mark.parametrize("text", ["0", "201", "-1", "1.5", "ten", "", "9" * 40])
def test_limit_out_of_range_is_refused(text: str) -> None:
    with pytest.raises(BadInput, match="limit must be an integer from 1 to 200"):
        parse_limit(text, default=20, maximum=200)
