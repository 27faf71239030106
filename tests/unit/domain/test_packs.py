"""relayer.domain.packs: the pack digest, the strict parser, and whether a validator takes a pack.

The digest is checked against eth_account's EIP-712 encoder; packs are written here by a
small TOML writer and by ``json.dumps`` from the same data, so both readers see one pack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pytest
from coincurve import PublicKey
from domain_strategies import ADDRESSES, KEYS, addresses, hashes, jurisdictions, uint64s
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.errors import DomainError
from relayer.domain.packs import (
    MAX_PACK_BYTES,
    PACK_DOMAIN_NAME,
    PACK_DOMAIN_VERSION,
    PackAccepted,
    PackError,
    PackFault,
    PackRefused,
    PackUnchanged,
    PolicyPack,
    Sanctions,
    TokenRules,
    accept_pack,
    pack_digest,
    pack_hash,
    parse_pack,
)
from relayer.domain.signature import SECP256K1_N, address_of_public_key, sign_digest
from relayer.domain.types import UINT64_MAX, UINT256_MAX, Address, Hash32, checksum

SUPERVISOR_KEY, OTHER_KEY = KEYS[0], KEYS[1]
SUPERVISOR, OTHER = ADDRESSES[0], ADDRESSES[1]
INT64_MAX = 2**63 - 1  # TOML integers are signed 64-bit: larger amounts are strings
USDT = Address(bytes.fromhex("fe97e85d13abd9c1c33384e796f10b73905637ce"))
NATIVE = Address(b"\x00" * 20)
SANCTIONED = Address(bytes.fromhex("8589427373d6d84e98730d7795d8f6f8731fda16"))


# ------------------------------------------------------------------------ writers


def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string for our alphabet
    if isinstance(value, list):
        return "[" + ", ".join(_toml_scalar(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def to_toml(doc: dict[str, Any]) -> bytes:
    """Plain keys first, then ``[table]``s and ``[[array of tables]]`` (what packs use)."""
    lines: list[str] = []
    tables: list[str] = []
    for key, value in doc.items():
        if isinstance(value, dict):
            tables.append(f"\n[{key}]")
            tables.extend(f"{k} = {_toml_scalar(v)}" for k, v in value.items())
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for entry in value:
                tables.append(f"\n[[{key}]]")
                tables.extend(f"{k} = {_toml_scalar(v)}" for k, v in entry.items())
        else:
            lines.append(f"{key} = {_toml_scalar(value)}")
    return ("\n".join(["# a policy pack", *lines, *tables]) + "\n").encode()


def to_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2, ensure_ascii=False).encode()


def base_doc(*, jurisdiction: str = "HK", version: int = 3, issued_at: str = "") -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": 1,
        "jurisdiction": jurisdiction,
        "version": version,
        "issued_at": issued_at or "2026-12-01T00:00:00Z",
        "tokens": [
            {
                "chain_id": 1030,
                "token": checksum(USDT),
                "symbol": "USDT",
                "max_per_transfer": 50_000_000_000,
                "max_per_sender_24h": "100000000000",
                "max_total_24h": 1_000_000_000_000,
                "review_above": 10_000_000_000,
            },
            {
                "chain_id": 1030,
                "token": "0x" + "00" * 20,
                "symbol": "CFX",
                "max_per_transfer": str(10**24),  # beyond TOML's integers
            },
        ],
        "sanctions": {
            "source": "OFAC SDN",
            "list_version": "2026-11-30",
            "addresses": [checksum(SANCTIONED), "0x" + "dd" * 20],
        },
    }
    return doc


EXPECTED_BASE = PolicyPack(
    jurisdiction="HK",
    version=3,
    issued_at="2026-12-01T00:00:00Z",
    tokens={
        (1030, USDT): TokenRules(
            max_per_transfer=50_000_000_000,
            max_per_sender_24h=100_000_000_000,
            max_total_24h=1_000_000_000_000,
            review_above=10_000_000_000,
            symbol="USDT",
        ),
        (1030, NATIVE): TokenRules(max_per_transfer=10**24, symbol="CFX"),
    },
    sanctions=Sanctions(
        source="OFAC SDN",
        list_version="2026-11-30",
        addresses=frozenset({SANCTIONED, Address(b"\xdd" * 20)}),
    ),
    content_hash=Hash32(b"\x00" * 32),
)


def _without_hash(pack: PolicyPack) -> PolicyPack:
    return replace(pack, content_hash=Hash32(b"\x00" * 32))


# ------------------------------------------------------------------------ digest

PACK_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
    ],
    "PolicyPack": [
        {"name": "jurisdiction", "type": "string"},
        {"name": "version", "type": "uint64"},
        {"name": "contentHash", "type": "bytes32"},
    ],
}


def _typed_data(jurisdiction: str, version: int, content_hash: bytes) -> dict[str, Any]:
    return {
        "types": PACK_TYPES,
        "primaryType": "PolicyPack",
        "domain": {"name": "ConfluxBridgePolicy", "version": "1"},
        "message": {"jurisdiction": jurisdiction, "version": version, "contentHash": content_hash},
    }


names = st.one_of(jurisdictions, st.text(max_size=40))


@given(names, uint64s, hashes)
def test_pack_digest_matches_eth_account(jurisdiction: str, version: int, content: bytes) -> None:
    signable = encode_typed_data(full_message=_typed_data(jurisdiction, version, content))
    assert pack_digest(jurisdiction, version, content) == _hash_eip191_message(signable)
    assert pack_digest(jurisdiction, version, content) == keccak(
        b"\x19\x01" + signable.header + signable.body
    )


def test_pack_domain_is_the_documented_one() -> None:
    assert (PACK_DOMAIN_NAME, PACK_DOMAIN_VERSION) == ("ConfluxBridgePolicy", "1")


@given(names, uint64s, hashes, names, uint64s, hashes)
def test_pack_digest_binds_every_field(
    j1: str, v1: int, h1: bytes, j2: str, v2: int, h2: bytes
) -> None:
    assert (pack_digest(j1, v1, h1) == pack_digest(j2, v2, h2)) == ((j1, v1, h1) == (j2, v2, h2))


@pytest.mark.parametrize("version", [-1, UINT64_MAX + 1, 2**256])
def test_pack_digest_refuses_a_version_outside_uint64(version: int) -> None:
    with pytest.raises(PackError) as info:
        pack_digest("HK", version, b"\x00" * 32)
    assert info.value.where == "version"


def test_a_wallet_signature_over_the_typed_data_is_accepted() -> None:
    raw = to_toml(base_doc())
    signed = Account.sign_typed_data(SUPERVISOR_KEY, full_message=_typed_data("HK", 3, keccak(raw)))
    decision = accept_pack(raw, bytes(signed.signature), SUPERVISOR, "HK", None)
    assert decision == PackAccepted(parse_pack(raw))
    # the relayer's own signer produces the same (deterministic, low-s) signature
    assert sign_digest(SUPERVISOR_KEY, pack_digest("HK", 3, keccak(raw))) == signed.signature


# ------------------------------------------------------------------------ parsing


@pytest.mark.parametrize("write", [to_toml, to_json], ids=["toml", "json"])
def test_parse_pack_reads_the_example(write: Any) -> None:
    raw = write(base_doc())
    pack = parse_pack(raw)
    assert _without_hash(pack) == EXPECTED_BASE
    assert pack.content_hash == keccak(raw) == pack_hash(raw)
    assert pack.hash_hex == keccak(raw).hex()


def test_parse_pack_tokens_are_read_only() -> None:
    pack = parse_pack(to_toml(base_doc()))
    with pytest.raises(TypeError):
        pack.tokens[(1, NATIVE)] = TokenRules(1)  # type: ignore[index]


def test_issued_at_and_symbol_are_optional() -> None:
    doc = base_doc()
    del doc["issued_at"]
    del doc["tokens"][0]["symbol"]
    pack = parse_pack(to_toml(doc))
    assert pack.issued_at == ""
    assert pack.tokens[(1030, USDT)].symbol == ""


def test_a_pack_may_list_no_tokens_and_no_sanctions() -> None:
    doc = base_doc()
    doc["tokens"] = []
    doc["sanctions"]["addresses"] = []
    for raw in (to_toml(doc), to_json(doc)):
        pack = parse_pack(raw)
        assert dict(pack.tokens) == {}
        assert pack.sanctions.addresses == frozenset()


@pytest.mark.parametrize(
    "spelling",
    [checksum(USDT), "0x" + USDT.hex(), "0x" + USDT.hex().upper(), "0X" + USDT.hex()],
)
def test_addresses_without_case_or_with_a_good_checksum_are_read(spelling: str) -> None:
    doc = base_doc()
    doc["tokens"][0]["token"] = spelling
    assert (1030, USDT) in parse_pack(to_toml(doc)).tokens


def test_only_the_bytes_decide_the_content_hash() -> None:
    raw = to_toml(base_doc())
    reformatted = raw.replace(b"# a policy pack", b"# the same rules, another comment")
    assert _without_hash(parse_pack(raw)) == _without_hash(parse_pack(reformatted))
    assert parse_pack(raw).content_hash != parse_pack(reformatted).content_hash


symbols = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-€"),
    min_size=1,
    max_size=32,
).filter(str.strip)
amounts = st.one_of(st.integers(0, 10**6), st.integers(0, UINT256_MAX))


@dataclass(frozen=True)
class Written:
    """One pack as data (``expected``) and as a TOML and a JSON document of it."""

    expected: PolicyPack
    toml_doc: dict[str, Any]
    json_doc: dict[str, Any]


@st.composite
def written_packs(draw: Any) -> Written:
    def number(value: int, *, in_toml: bool) -> int | str:
        """An int when the format holds it and the draw says so, else a decimal string."""
        if in_toml and value > INT64_MAX:
            return str(value)
        return value if draw(st.booleans()) else str(value)

    def address(value: Address) -> str:
        return draw(st.sampled_from([checksum(value), "0x" + value.hex()]))

    jurisdiction = draw(jurisdictions)
    version = draw(st.integers(1, UINT64_MAX))
    issued_at = draw(st.one_of(st.just(""), symbols))
    keys = draw(st.lists(st.tuples(st.integers(1, UINT64_MAX), addresses), max_size=4, unique=True))
    optional = st.one_of(st.none(), amounts)
    rules = [
        TokenRules(
            max_per_transfer=draw(amounts),
            max_per_sender_24h=draw(optional),
            max_total_24h=draw(optional),
            review_above=draw(optional),
            symbol=draw(st.one_of(st.just(""), symbols)),
        )
        for _ in keys
    ]
    listed = draw(st.lists(addresses, max_size=6))
    source, list_version = draw(symbols), draw(symbols)
    expected = PolicyPack(
        jurisdiction=jurisdiction,
        version=version,
        issued_at=issued_at,
        tokens=dict(zip(keys, rules, strict=True)),
        sanctions=Sanctions(source, list_version, frozenset(listed)),
        content_hash=Hash32(b"\x00" * 32),
    )

    def doc(*, in_toml: bool) -> dict[str, Any]:
        tokens = []
        for (chain_id, token), rule in zip(keys, rules, strict=True):
            entry: dict[str, Any] = {
                "chain_id": number(chain_id, in_toml=in_toml),
                "token": address(token),
            }
            if rule.symbol:
                entry["symbol"] = rule.symbol
            entry["max_per_transfer"] = number(rule.max_per_transfer, in_toml=in_toml)
            for name in ("max_per_sender_24h", "max_total_24h", "review_above"):
                value = getattr(rule, name)
                if value is not None:
                    entry[name] = number(value, in_toml=in_toml)
            tokens.append(entry)
        out: dict[str, Any] = {
            "schema": 1,
            "jurisdiction": jurisdiction,
            "version": number(version, in_toml=in_toml),
        }
        if issued_at:
            out["issued_at"] = issued_at
        out["tokens"] = tokens
        out["sanctions"] = {
            "source": source,
            "list_version": list_version,
            "addresses": [address(a) for a in listed],
        }
        return out

    return Written(expected, doc(in_toml=True), doc(in_toml=False))


@given(written_packs())
def test_toml_and_json_of_one_pack_parse_equal(written: Written) -> None:
    toml_raw, json_raw = to_toml(written.toml_doc), to_json(written.json_doc)
    from_toml, from_json = parse_pack(toml_raw), parse_pack(json_raw)
    assert from_toml.content_hash == keccak(toml_raw)
    assert from_json.content_hash == keccak(json_raw)
    assert _without_hash(from_toml) == _without_hash(from_json) == written.expected


def _where(raw: bytes) -> str:
    with pytest.raises(PackError) as info:
        parse_pack(raw)
    assert isinstance(info.value, DomainError)
    assert isinstance(info.value, ValueError)
    assert info.value.detail
    assert (info.value.where in str(info.value)) or not info.value.where
    return info.value.where


def _set(path: str, value: Any) -> Any:
    """A change to ``base_doc()``: ``tokens.0.symbol`` = value (``...`` deletes the key)."""

    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is ...:
            del node[last]
        else:
            node[last] = value

    return change


def _bad_checksum(address: Address) -> str:
    """The EIP-55 spelling with the case of its first letter flipped."""
    good = checksum(address)
    first = next(i for i, c in enumerate(good) if i > 1 and c.isalpha())
    return good[:first] + good[first].swapcase() + good[first + 1 :]


BAD_CHECKSUM = _bad_checksum(USDT)
MALFORMED = [
    # (change, where): each change breaks one field of an otherwise good pack
    (_set("owner", "me"), "owner"),
    (_set("tokens.0.max_per_day", 5), "tokens[0].max_per_day"),
    (_set("sanctions.url", "https://example.org"), "sanctions.url"),
    (_set("version", ...), "version"),
    (_set("schema", ...), "schema"),
    (_set("tokens", ...), "tokens"),
    (_set("sanctions", ...), "sanctions"),
    (_set("tokens.0.max_per_transfer", ...), "tokens[0].max_per_transfer"),
    (_set("tokens.1.chain_id", ...), "tokens[1].chain_id"),
    (_set("tokens.1.token", ...), "tokens[1].token"),
    (_set("sanctions.list_version", ...), "sanctions.list_version"),
    (_set("sanctions.addresses", ...), "sanctions.addresses"),
    (_set("tokens.0.max_per_transfer", 1.5), "tokens[0].max_per_transfer"),
    (_set("tokens.0.max_per_transfer", 1.0), "tokens[0].max_per_transfer"),
    (_set("tokens.0.review_above", 1e20), "tokens[0].review_above"),
    (_set("tokens.0.max_per_sender_24h", -1), "tokens[0].max_per_sender_24h"),
    (_set("tokens.0.max_total_24h", True), "tokens[0].max_total_24h"),
    (_set("tokens.0.review_above", False), "tokens[0].review_above"),
    (_set("version", True), "version"),
    (_set("tokens.0.max_total_24h", "1e18"), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", "1_000"), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", "-5"), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", "+5"), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", " 5"), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", "0x10"), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", ""), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", "١٢٣"), "tokens[0].max_total_24h"),  # Arabic-Indic
    (_set("tokens.0.max_total_24h", "²"), "tokens[0].max_total_24h"),  # isdigit, not decimal
    (_set("tokens.0.max_total_24h", str(UINT256_MAX + 1)), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", "0" * 79), "tokens[0].max_total_24h"),
    (_set("tokens.0.max_total_24h", [5]), "tokens[0].max_total_24h"),
    (_set("tokens.0.token", BAD_CHECKSUM), "tokens[0].token"),
    (_set("tokens.0.token", "0x1234"), "tokens[0].token"),
    (_set("tokens.0.token", USDT.hex()), "tokens[0].token"),  # no 0x
    (_set("tokens.0.token", 1234), "tokens[0].token"),
    (_set("sanctions.addresses", [checksum(USDT), BAD_CHECKSUM]), "sanctions.addresses[1]"),
    (_set("sanctions.addresses", checksum(USDT)), "sanctions.addresses"),
    (_set("tokens.1.token", checksum(USDT)), "tokens[1]"),  # (1030, USDT) twice
    (_set("tokens.1.token", "0x" + USDT.hex()), "tokens[1]"),  # twice, spelled otherwise
    (_set("tokens.0.chain_id", 0), "tokens[0].chain_id"),
    (_set("tokens.0.chain_id", UINT64_MAX + 1), "tokens[0].chain_id"),
    (_set("tokens.0.symbol", "X" * 33), "tokens[0].symbol"),
    (_set("tokens.0.symbol", "  "), "tokens[0].symbol"),
    (_set("tokens", {"chain_id": 1}), "tokens"),
    (_set("tokens", 7), "tokens"),
    (_set("sanctions", "OFAC"), "sanctions"),
    (_set("sanctions.source", ""), "sanctions.source"),
    (_set("sanctions.list_version", "v" * 65), "sanctions.list_version"),
    (_set("issued_at", ""), "issued_at"),
    (_set("issued_at", 20261201), "issued_at"),
    (_set("schema", 2), "schema"),
    (_set("schema", 0), "schema"),
    (_set("schema", "1"), "schema"),
    (_set("schema", True), "schema"),
    (_set("schema", 1.0), "schema"),
    (_set("jurisdiction", "hk"), "jurisdiction"),
    (_set("jurisdiction", "HKG"), "jurisdiction"),
    (_set("jurisdiction", "H"), "jurisdiction"),
    (_set("jurisdiction", "ÄB"), "jurisdiction"),
    (_set("jurisdiction", 12), "jurisdiction"),
    (_set("version", 0), "version"),
    (_set("version", "0"), "version"),
    (_set("version", -3), "version"),
    (_set("version", UINT64_MAX + 1), "version"),
]


@pytest.mark.parametrize("write", [to_toml, to_json], ids=["toml", "json"])
@pytest.mark.parametrize(("change", "where"), MALFORMED)
def test_parse_pack_names_the_bad_field(write: Any, change: Any, where: str) -> None:
    doc = base_doc()
    change(doc)
    assert _where(write(doc)) == where


def test_a_token_entry_that_is_not_a_table_is_named() -> None:
    doc = base_doc()
    doc["tokens"].append(5)
    assert _where(to_json(doc)) == "tokens[2]"


def test_json_with_a_duplicate_key_names_the_key() -> None:
    raw = to_json(base_doc()).replace(b'"version": 3,', b'"version": 3, "version": 4,', 1)
    assert raw.count(b'"version"') == 2
    assert _where(raw) == "version"


def test_json_with_a_duplicate_key_inside_a_token_names_the_key() -> None:
    raw = to_json(base_doc()).replace(b'"symbol": "USDT",', b'"symbol": "USDT", "symbol": "X",')
    assert _where(raw) == "symbol"  # the key, not its path: the hook cannot see where it is


def test_toml_with_a_duplicate_key_is_malformed() -> None:
    raw = to_toml(base_doc()).replace(b"version = 3", b"version = 3\nversion = 4")
    assert _where(raw) == ""


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b"\xff\xfe" + to_toml(base_doc()), ""),  # not UTF-8
        (to_toml(base_doc()).replace(b"OFAC SDN", b"OFAC \xc3\x28"), ""),  # broken sequence
        (b"\xef\xbb\xbf" + to_json(base_doc()), ""),  # a byte order mark: read as TOML
        (b"{", ""),
        (b'{"schema": 1,}', ""),
        (b"[1, 2]", ""),  # not an object, so read as TOML
        (b"schema = ", ""),
        (b"", "jurisdiction"),  # an empty TOML document: the first required key is missing
        (b'{"schema": NaN}', "jurisdiction"),
    ],
)
def test_unreadable_input_is_malformed(raw: bytes, where: str) -> None:
    assert _where(raw) == where


def test_input_above_the_size_limit_is_refused_before_it_is_read() -> None:
    raw = to_toml(base_doc())
    padded = raw + b"#" * (MAX_PACK_BYTES - len(raw))
    assert len(padded) == MAX_PACK_BYTES
    assert _without_hash(parse_pack(padded)) == EXPECTED_BASE
    with pytest.raises(PackError, match="larger than") as info:
        parse_pack(padded + b"#")
    assert info.value.where == ""


@pytest.mark.parametrize(
    "raw",
    [
        b'{"tokens": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"tokens = " + b"[" * 100_000 + b"]" * 100_000,
        b"a = " + b"{b = " * 20_000 + b"1" + b"}" * 20_000,
    ],
    ids=["json-arrays", "toml-arrays", "toml-inline-tables"],
)
def test_deeply_nested_input_is_malformed_not_a_crash(raw: bytes) -> None:
    assert len(raw) < MAX_PACK_BYTES
    assert _where(raw) == ""
    decision = accept_pack(raw, b"\x00" * 65, SUPERVISOR, "HK", None)
    assert isinstance(decision, PackRefused)
    assert decision.fault is PackFault.MALFORMED


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@given(st.binary(max_size=400))
def test_parse_pack_raises_only_pack_error_on_bytes(raw: bytes) -> None:
    try:
        parse_pack(raw)
    except PackError:
        return


@given(
    st.sampled_from(
        [
            ("schema",),
            ("jurisdiction",),
            ("version",),
            ("issued_at",),
            ("tokens",),
            ("tokens", 0),
            ("tokens", 0, "token"),
            ("tokens", 0, "max_per_transfer"),
            ("tokens", 1, "review_above"),
            ("sanctions",),
            ("sanctions", "addresses"),
            ("sanctions", "addresses", 0),
        ]
    ),
    json_values,
)
def test_any_value_anywhere_parses_or_raises_pack_error(path: tuple[Any, ...], value: Any) -> None:
    doc = base_doc()
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    try:
        parse_pack(to_json(doc))
    except PackError as err:
        where = err.where
    else:
        return
    assert where.startswith(str(path[0]))


# ------------------------------------------------------------------------ acceptance


def _pack(**fields: Any) -> bytes:
    return to_toml(base_doc(**fields))


def _sign(raw: bytes, key: bytes = SUPERVISOR_KEY) -> bytes:
    pack = parse_pack(raw)
    return sign_digest(key, pack_digest(pack.jurisdiction, pack.version, pack.content_hash))


def _refused(decision: Any) -> PackFault:
    assert isinstance(decision, PackRefused), decision
    assert decision.detail
    return decision.fault


def test_accept_pack_takes_a_first_pack() -> None:
    raw = _pack()
    assert accept_pack(raw, _sign(raw), SUPERVISOR, "HK", None) == PackAccepted(parse_pack(raw))


def test_accept_pack_takes_a_newer_version() -> None:
    old, new = parse_pack(_pack(version=3)), _pack(version=4)
    assert accept_pack(new, _sign(new), SUPERVISOR, "HK", old) == PackAccepted(parse_pack(new))


def test_accept_pack_is_unchanged_for_the_bytes_in_force_whatever_the_signature() -> None:
    raw = _pack()
    in_force = parse_pack(raw)
    for signature in (_sign(raw), b"", _sign(raw, OTHER_KEY)):
        assert accept_pack(raw, signature, SUPERVISOR, "HK", in_force) == PackUnchanged()


def _high_s_twin(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


@pytest.mark.parametrize(
    ("forge", "fault"),
    [
        (lambda sig: b"", "bad_length"),
        (lambda sig: sig[:64], "bad_length"),
        (lambda sig: sig + b"\x00", "bad_length"),
        (lambda sig: b"\xa5" * 130, "bad_length"),
        (_high_s_twin, "high_s"),
        (lambda sig: sig[:64] + bytes([sig[64] - 27]), "bad_v"),  # raw 0/1 parity
        (lambda sig: b"\x00" * 64 + b"\x1b", "unrecoverable"),
        (lambda sig: SECP256K1_N.to_bytes(32, "big") + sig[32:], "unrecoverable"),  # r = n
    ],
)
def test_accept_pack_refuses_a_bad_signature(forge: Any, fault: str) -> None:
    raw = _pack()
    decision = accept_pack(raw, forge(_sign(raw)), SUPERVISOR, "HK", None)
    assert _refused(decision) is PackFault.BAD_SIGNATURE
    assert isinstance(decision, PackRefused)
    assert decision.detail.startswith(fault)


def test_the_high_s_twin_is_refused_although_it_is_the_supervisors() -> None:
    raw = _pack()
    twin = _high_s_twin(_sign(raw))
    digest = pack_digest("HK", 3, keccak(raw))
    key = PublicKey.from_signature_and_message(twin[:64] + bytes([twin[64] - 27]), digest, None)
    assert address_of_public_key(key) == SUPERVISOR  # the same signer, a malleable form
    assert _refused(accept_pack(raw, twin, SUPERVISOR, "HK", None)) is PackFault.BAD_SIGNATURE


@given(st.binary(min_size=65, max_size=65))
def test_accept_pack_refuses_random_signatures(signature: bytes) -> None:
    raw = _pack()
    fault = _refused(accept_pack(raw, signature, SUPERVISOR, "HK", None))
    assert fault in (PackFault.BAD_SIGNATURE, PackFault.WRONG_SIGNER)


def test_accept_pack_refuses_another_signer() -> None:
    raw = _pack()
    decision = accept_pack(raw, _sign(raw, OTHER_KEY), SUPERVISOR, "HK", None)
    assert _refused(decision) is PackFault.WRONG_SIGNER
    assert isinstance(decision, PackRefused)
    assert checksum(OTHER) in decision.detail
    assert checksum(SUPERVISOR) in decision.detail


def test_a_signature_over_other_bytes_or_fields_recovers_to_someone_else() -> None:
    raw, other = _pack(), _pack(issued_at="2026-12-02T00:00:00Z")
    for signature in (
        _sign(other),  # the supervisor's signature of another pack of the same version
        sign_digest(SUPERVISOR_KEY, pack_digest("HK", 4, keccak(raw))),  # other version
        sign_digest(SUPERVISOR_KEY, pack_digest("SG", 3, keccak(raw))),  # other jurisdiction
        sign_digest(SUPERVISOR_KEY, keccak(raw)),  # the bare content hash
    ):
        assert _refused(accept_pack(raw, signature, SUPERVISOR, "HK", None)) is (
            PackFault.WRONG_SIGNER
        )


def test_accept_pack_refuses_a_pack_for_another_jurisdiction() -> None:
    raw = _pack(jurisdiction="SG")
    decision = accept_pack(raw, _sign(raw), SUPERVISOR, "HK", None)
    assert _refused(decision) is PackFault.WRONG_JURISDICTION


def test_the_signer_is_checked_before_the_jurisdiction() -> None:
    raw = _pack(jurisdiction="SG")
    decision = accept_pack(raw, _sign(raw, OTHER_KEY), SUPERVISOR, "HK", None)
    assert _refused(decision) is PackFault.WRONG_SIGNER


def test_accept_pack_refuses_a_rollback() -> None:
    in_force, old = parse_pack(_pack(version=5)), _pack(version=4)
    assert _refused(accept_pack(old, _sign(old), SUPERVISOR, "HK", in_force)) is (
        PackFault.ROLLBACK
    )


def test_accept_pack_refuses_a_reused_version() -> None:
    in_force = parse_pack(_pack(version=5))
    other = _pack(version=5, issued_at="2026-12-24T00:00:00Z")
    assert _refused(accept_pack(other, _sign(other), SUPERVISOR, "HK", in_force)) is (
        PackFault.VERSION_REUSED
    )


def test_accept_pack_refuses_a_malformed_pack_before_anything_else() -> None:
    doc = base_doc()
    doc["version"] = 0
    raw = to_toml(doc)
    decision = accept_pack(raw, b"", SUPERVISOR, "HK", parse_pack(_pack()))
    assert _refused(decision) is PackFault.MALFORMED
    assert isinstance(decision, PackRefused)
    assert "version" in decision.detail


versions = st.one_of(st.integers(1, 20), st.integers(1, UINT64_MAX))


@given(versions, versions, st.booleans())
def test_accept_pack_takes_exactly_the_higher_versions(
    in_force_version: int, version: int, json_format: bool
) -> None:
    write = to_json if json_format else to_toml
    in_force = parse_pack(to_toml(base_doc(version=in_force_version)))
    raw = write(base_doc(version=version, issued_at="2027-01-01T00:00:00Z"))  # other bytes
    decision = accept_pack(raw, _sign(raw), SUPERVISOR, "HK", in_force)
    if version > in_force_version:
        assert decision == PackAccepted(parse_pack(raw))
    elif version < in_force_version:
        assert _refused(decision) is PackFault.ROLLBACK
    else:
        assert _refused(decision) is PackFault.VERSION_REUSED


@given(versions, jurisdictions, jurisdictions, st.sampled_from([0, 1]), st.integers(0, 30))
def test_accept_pack_decision_table(
    version: int, pack_jurisdiction: str, mine: str, signer: int, in_force_version: int
) -> None:
    """Unchanged bytes first, then signer, jurisdiction and version, in that order."""
    raw = to_toml(base_doc(version=version, jurisdiction=pack_jurisdiction))
    in_force_raw = _pack(version=in_force_version) if in_force_version else None
    in_force = parse_pack(in_force_raw) if in_force_raw else None
    decision = accept_pack(raw, _sign(raw, KEYS[signer]), SUPERVISOR, mine, in_force)
    if in_force is not None and raw == in_force_raw:
        assert decision == PackUnchanged()
    elif signer != 0:
        assert _refused(decision) is PackFault.WRONG_SIGNER
    elif pack_jurisdiction != mine:
        assert _refused(decision) is PackFault.WRONG_JURISDICTION
    elif in_force is None or version > in_force.version:
        assert decision == PackAccepted(parse_pack(raw))
    elif version < in_force.version:
        assert _refused(decision) is PackFault.ROLLBACK
    else:
        assert _refused(decision) is PackFault.VERSION_REUSED
