"""The supervisor API's pure parts: who is asking, what they may see, what they asked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from relayer.api.supervisor_auth import (
    AuthRefused,
    Credential,
    OutOfScope,
    Supervisor,
    authenticate,
    scope_of,
    token_sha256,
)
from relayer.api.supervisor_query import (
    MAX_LIMIT,
    QueryError,
    parse_days,
    parse_limit,
    parse_list_query,
    parse_no_params,
    parse_transfer_id,
)
from relayer.errors import ConfigError
from relayer.settings import SupervisorApiSettings, SupervisorSettings, load_settings

HK_TOKEN = "hk-secret-token"
CREDENTIALS = [
    Credential("hk-sfc", bytes.fromhex(token_sha256(HK_TOKEN)), frozenset({"HK"})),
    Credential("sg-mas", bytes.fromhex(token_sha256("sg-token")), frozenset({"SG", "AE"})),
]


def test_a_known_token_names_its_supervisor_and_scope() -> None:
    who = authenticate(f"Bearer {HK_TOKEN}", CREDENTIALS)
    assert who == Supervisor("hk-sfc", frozenset({"HK"}))
    assert authenticate("bearer   sg-token ", CREDENTIALS) == Supervisor(
        "sg-mas", frozenset({"SG", "AE"})
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Authorization header"),
        ("", "missing Authorization header"),
        ("Basic aGs6cHc=", "Authorization must be 'Bearer <token>'"),
        ("Bearer", "Authorization must be 'Bearer <token>'"),
        ("Bearer wrong-token", "unknown token"),
        ("Bearer " + "x" * 513, "token longer than 512 characters"),
        # the hash itself is not a token
        (f"Bearer {token_sha256(HK_TOKEN)}", "unknown token"),
    ],
)
def test_a_missing_or_wrong_token_is_refused_with_why(header: str | None, message: str) -> None:
    refused = authenticate(header, CREDENTIALS)
    assert isinstance(refused, AuthRefused)
    assert refused.message.startswith(message)


def test_scope_is_the_supervisors_unless_narrowed_and_never_widened() -> None:
    sg = Supervisor("sg-mas", frozenset({"SG", "AE"}))
    assert scope_of(sg, None) == frozenset({"SG", "AE"})
    assert scope_of(sg, ["AE"]) == frozenset({"AE"})
    refused = scope_of(sg, ["AE", "HK"])
    assert refused == OutOfScope("HK", "sg-mas")
    assert isinstance(refused, OutOfScope)
    assert refused.message == "jurisdiction HK is not in the scope of supervisor sg-mas"


def test_list_query_parses_every_parameter() -> None:
    q = parse_list_query(
        {
            "jurisdiction": "HK,SG",
            "state": "vetoed,refunded,released",
            "from": "2026-12-01",
            "to": "2026-12-07",
            "limit": "25",
        }
    )
    assert q.jurisdictions == ("HK", "SG")
    assert q.states == ("vetoed", "refunded", "released")
    assert q.window.since == datetime(2026, 12, 1, tzinfo=UTC)
    assert q.window.until == datetime(2026, 12, 8, tzinfo=UTC)  # "to" includes the whole day
    assert q.limit == 25
    default = parse_list_query({})
    assert (default.jurisdictions, default.states, default.limit) == (None, None, 100)
    timed = parse_list_query({"from": "2026-12-07T10:00:00+08:00"})
    assert timed.window.since == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"jurisdiction": "hk"}, "jurisdiction: 'hk' is not two upper-case letters"),
        ({"jurisdiction": "HK,"}, "jurisdiction: empty value"),
        ({"state": "lost"}, "state: unknown state 'lost'"),
        ({"from": "2026-13-01"}, "from: '2026-13-01' is not a date"),
        ({"from": "yesterday"}, "from: 'yesterday' is not a date"),
        ({"to": "2026-12-07T10:00:00"}, "to: '2026-12-07T10:00:00' has no UTC offset"),
        ({"from": "2026-12-08", "to": "2026-12-01"}, "from 2026-12-08 is after to 2026-12-01"),
        ({"limit": "0"}, f"limit: 0 is out of range 1..{MAX_LIMIT}"),
        ({"limit": "501"}, f"limit: 501 is out of range 1..{MAX_LIMIT}"),
        ({"limit": "-3"}, "limit: '-3' is not a whole number"),
        ({"limit": "ten"}, "limit: 'ten' is not a whole number"),
        ({"sort": "amount"}, "unknown parameter 'sort'"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(query: dict[str, str], message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_list_query(query)
    assert str(raised.value).startswith(message)


def test_the_other_endpoints_parameters() -> None:
    assert parse_days({}) == 7
    assert parse_days({"days": "31"}) == 31
    with pytest.raises(QueryError, match=r"days: 32 is out of range 1\.\.31"):
        parse_days({"days": "32"})
    assert parse_limit({"limit": "5"}) == 5
    with pytest.raises(QueryError, match="unknown parameter 'state'"):
        parse_limit({"state": "review"})
    with pytest.raises(QueryError, match="unknown parameter 'x' \\(this endpoint takes none\\)"):
        parse_no_params({"x": "1"})
    with pytest.raises(QueryError, match="unknown parameter 'state'"):
        parse_list_query({"state": "refused"}, states=False)  # refusals take no state
    assert parse_transfer_id("0x" + "Ab" * 32) == bytes.fromhex("ab" * 32)
    with pytest.raises(QueryError, match="is not 0x and 64 hex digits"):
        parse_transfer_id("0x1234")


def _supervisor(**overrides: object) -> dict[str, object]:
    return {"name": "hk-sfc", "token_sha256": token_sha256("t"), "jurisdictions": ["HK"]} | (
        overrides
    )


def test_supervisor_settings_keep_only_a_hash_and_valid_codes() -> None:
    assert SupervisorSettings(**_supervisor()).jurisdictions == ["HK"]  # type: ignore[arg-type]
    for overrides, message in [
        ({"token_sha256": "t"}, "must be 64 lower-case hex digits"),
        ({"token_sha256": token_sha256("t").upper()}, "must be 64 lower-case hex digits"),
        ({"jurisdictions": ["hk"]}, "'hk' is not two upper-case letters"),
        ({"jurisdictions": ["HK", "HK"]}, "lists a code twice"),
        ({"jurisdictions": []}, "at least 1 item"),
    ]:
        with pytest.raises(ValueError, match=message):
            SupervisorSettings(**_supervisor(**overrides))  # type: ignore[arg-type]


BASE = """
[validator]
jurisdiction = "HK"
dev_private_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
[conflux]
rpc_url = "http://127.0.0.1:8545"
chain_id = 2030
vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
[ethereum]
rpc_url = "http://127.0.0.1:8546"
chain_id = 31337
gateway = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"
"""


def _load(tmp_path: Path, section: str) -> SupervisorApiSettings:
    path = tmp_path / "relayer.toml"
    path.write_text(BASE + section)
    return load_settings(path).supervisor_api


def test_supervisor_api_section_is_validated_with_a_one_line_error(tmp_path: Path) -> None:
    h = token_sha256("t")
    good = _load(
        tmp_path,
        f'[supervisor_api]\nenabled = true\n[[supervisor_api.supervisors]]\nname = "a"\n'
        f'token_sha256 = "{h}"\njurisdictions = ["HK", "SG"]\n',
    )
    assert good.enabled is True
    with pytest.raises(ConfigError, match="enabled needs at least one"):
        _load(tmp_path, "[supervisor_api]\nenabled = true\n")
    two = (
        f'[[supervisor_api.supervisors]]\nname = "a"\ntoken_sha256 = "{h}"\n'
        'jurisdictions = ["HK"]\n'
    )
    with pytest.raises(ConfigError, match="two supervisors share a name"):
        _load(tmp_path, "[supervisor_api]\n" + two + two)
    with pytest.raises(ConfigError, match=r"supervisor_api.supervisors.0.token_sha256"):
        _load(tmp_path, "[supervisor_api]\n" + two.replace(f'"{h}"', "1"))
