"""CIP-37 addresses (relayer/domain/cip37.py) against the official vectors, round trips, and
every way a typed address can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.cip37 import ALPHABET, Cip37Error, decode, encode, user_address

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "vectors" / "cip37.json").read_text())[
    "vectors"
]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["hex"][:8])
def test_official_vectors(vector: dict[str, str]) -> None:
    address = bytes.fromhex(vector["hex"])
    assert encode(address, 1029) == vector["mainnet"]
    assert encode(address, 1) == vector["testnet"]
    assert decode(vector["mainnet"], expected_network=1029).address == address
    assert decode(vector["testnet"].upper()).network_id == 1


def test_the_verbose_form_the_node_answers() -> None:
    user = bytes.fromhex(VECTORS[1]["hex"])
    text = encode(user, 2029, verbose=True)
    assert text.startswith("NET2029:TYPE.USER:")
    assert decode(text) == decode(encode(user, 2029))
    assert decode(encode(bytes.fromhex(VECTORS[0]["hex"]), 1029)).kind == "contract"
    assert decode(encode(bytes.fromhex(VECTORS[2]["hex"]), 1029)).kind == "builtin"


@given(st.binary(min_size=20, max_size=20), st.integers(min_value=1, max_value=2**32 - 1))
def test_round_trip(address: bytes, network_id: int) -> None:
    for verbose in (False, True):
        decoded = decode(encode(address, network_id, verbose=verbose), network_id)
        assert (decoded.address, decoded.network_id) == (address, network_id)


@given(
    st.binary(min_size=20, max_size=20),
    st.integers(min_value=0, max_value=41),
    st.sampled_from(ALPHABET),
)
def test_any_one_mistyped_character_is_caught(address: bytes, at: int, char: str) -> None:
    prefix, body = encode(address, 1029).split(":")
    if body[at] == char:
        return
    typo = f"{prefix}:{body[:at]}{char}{body[at + 1 :]}"
    with pytest.raises(Cip37Error):
        decode(typo)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("cfx:Acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "mixed case"),
        ("eth:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "unknown network prefix 'eth'"),
        ("net1029:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "unknown network prefix"),
        ("net01:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "unknown network prefix"),
        ("cfx:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfj", "41 base32 characters, expected 42"),
        ("cfx:icc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "outside the CIP-37 alphabet: 'i'"),
        ("cfx:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfja", "bad checksum"),
        ("cfxtest:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "bad checksum"),
        ("cfx:type.user:acc7uawf5ubtnmezvhu9dhc6sghea0403y2dgpyfjp", "contradicts the address"),
        ("0x85d80245dc02f5a89589e1f19c5c718e405b56cd", "expected <network>:<base32>"),
        ("", "empty"),
    ],
)
def test_bad_addresses_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(Cip37Error, match=why.replace("(", r"\(")):
        decode(text)


def test_an_address_of_another_network_is_refused() -> None:
    with pytest.raises(Cip37Error, match="network prefix 'cfxtest', expected 'cfx'"):
        decode(VECTORS[0]["testnet"], expected_network=1029)


@given(st.binary(min_size=20, max_size=20))
def test_a_keys_core_account_is_a_user_address(key_address: bytes) -> None:
    core = user_address(key_address)
    assert core[0] >> 4 == 0x1 and core[0] & 0x0F == key_address[0] & 0x0F
    assert core[1:] == key_address[1:]
    assert decode(encode(core, 1029)).kind == "user"
