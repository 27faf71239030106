"""The PKCS#11 backend on a real SoftHSM2 token: a key made by the CLI signs digests that
recover to the address it printed, always with low s; every misconfiguration is a one-line
ConfigError naming the setting; the PIN never shows."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pkcs11
import pytest
import structlog
from eth_utils.address import to_canonical_address
from pkcs11 import KeyType, Mechanism, ObjectClass
from softhsm import Token

from relayer.cli import main
from relayer.domain.signature import SECP256K1_HALF_N, recover_signer
from relayer.domain.types import Address
from relayer.errors import ConfigError
from relayer.keys.hsm import Pkcs11Signer, open_pkcs11_signer
from relayer.log import configure_logging
from relayer.node import load_keys
from relayer.settings import load_settings

DIGESTS = 200


def make_key(token: Token, label: str, capsys: pytest.CaptureFixture[str]) -> Address:
    """``relayer keys new --pkcs11 …``, in this process; the address it printed."""
    assert main(token.cli_args(label)) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["key_label"] == label and printed["token_label"] == token.label
    return Address(to_canonical_address(printed["address"]))


@pytest.fixture
def hsm_key(softhsm_token: Token, capsys: pytest.CaptureFixture[str]) -> Address:
    return make_key(softhsm_token, "hk-1", capsys)


@pytest.fixture
def signer(softhsm_token: Token, hsm_key: Address) -> Iterator[Pkcs11Signer]:
    opened = open_pkcs11_signer(softhsm_token.key("hk-1"))
    yield opened
    opened.close()


def test_signatures_recover_to_the_printed_address_with_low_s(
    signer: Pkcs11Signer, hsm_key: Address
) -> None:
    assert signer.address == hsm_key
    for _ in range(DIGESTS):
        digest = os.urandom(32)
        signature = signer.sign_digest(digest)
        assert len(signature) == 65 and signature[64] in (27, 28)
        assert int.from_bytes(signature[32:64], "big") <= SECP256K1_HALF_N
        assert recover_signer(digest, signature) == hsm_key


def test_the_token_itself_answers_high_s_half_the_time(
    softhsm_token: Token, signer: Pkcs11Signer
) -> None:
    """So the low-s normalisation above was really exercised."""
    library = pkcs11.lib(str(softhsm_token.module))
    with library.get_token(token_label=softhsm_token.label).open() as session:
        # the signer's session is logged in: the login is shared by the process
        key = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC, label="hk-1")
        high = sum(
            int.from_bytes(key.sign(os.urandom(32), mechanism=Mechanism.ECDSA)[32:], "big")
            > SECP256K1_HALF_N
            for _ in range(DIGESTS)
        )
    assert 40 < high < 160


def test_the_key_never_leaves_the_token(softhsm_token: Token, signer: Pkcs11Signer) -> None:
    library = pkcs11.lib(str(softhsm_token.module))
    with library.get_token(token_label=softhsm_token.label).open() as session:
        key = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC, label="hk-1")
        assert key[pkcs11.Attribute.SENSITIVE] is True
        assert key[pkcs11.Attribute.EXTRACTABLE] is False
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[pkcs11.Attribute.VALUE]


def test_a_second_key_with_the_same_label_is_refused(
    softhsm_token: Token, hsm_key: Address, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(softhsm_token.cli_args("hk-1")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "--key-label" in err and "refusing" in err


def _config_error(token: Token, **changes: object) -> str:
    where = replace(token.key("hk-1"), **changes)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as caught:
        open_pkcs11_signer(where)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_wrong_pin_is_named_and_never_shown(
    softhsm_token: Token, hsm_key: Address, tmp_path: Path
) -> None:
    wrong_pin = "wrong-pin-0123456789"
    wrong = tmp_path / "wrong-pin"
    wrong.write_text(wrong_pin)
    wrong.chmod(0o600)
    message = _config_error(softhsm_token, pin_file=wrong)
    assert message.startswith("validator.pkcs11_pin_file: ") and "refused the PIN" in message
    assert wrong_pin not in message and softhsm_token.pin not in message


def test_a_missing_token_is_named(softhsm_token: Token, hsm_key: Address) -> None:
    message = _config_error(softhsm_token, token_label="no-such-token")
    assert message.startswith("validator.pkcs11_token_label: no token labelled 'no-such-token'")


def test_a_missing_key_is_named(softhsm_token: Token, hsm_key: Address) -> None:
    message = _config_error(softhsm_token, key_label="sg-9")
    assert message.startswith("validator.pkcs11_key_label: ")
    assert "no EC private key labelled 'sg-9'" in message


def test_missing_files_are_named(softhsm_token: Token, tmp_path: Path) -> None:
    message = _config_error(softhsm_token, module=tmp_path / "libnothing.so")
    assert message.startswith("validator.pkcs11_module: no such file")
    message = _config_error(softhsm_token, pin_file=tmp_path / "no-pin")
    assert message.startswith("validator.pkcs11_pin_file: no such file")


def test_a_file_that_is_no_pkcs11_module_is_named(softhsm_token: Token, tmp_path: Path) -> None:
    fake = tmp_path / "libfake.so"
    fake.write_bytes(b"not a shared object")
    message = _config_error(softhsm_token, module=fake)
    assert message.startswith("validator.pkcs11_module: cannot load")


def test_the_pin_never_appears_in_logs_or_reprs(
    softhsm_token: Token, signer: Pkcs11Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The key-leak check of tests/unit/test_keys.py, for the HSM backend: there is no key
    to leak, but the PIN unlocks it."""
    saved = structlog.get_config()
    try:
        configure_logging("json", "info")
        pin = softhsm_token.pin
        log = structlog.get_logger("t")
        log.info("oops", detail=f"login with {pin} failed", nested={"k": [pin.upper()]})
        err = capsys.readouterr().err
    finally:
        structlog.configure(**saved)
    assert pin not in err.lower() and "[REDACTED]" in err
    assert pin not in repr(signer) and pin not in repr(softhsm_token.key("hk-1"))


def test_settings_with_an_hsm_key_load_one_signer_for_both_roles(
    softhsm_token: Token, hsm_key: Address, tmp_path: Path
) -> None:
    config = tmp_path / "relayer.toml"
    config.write_text(
        f"""
[validator]
jurisdiction = "HK"
pkcs11_module = "{softhsm_token.module}"
pkcs11_token_label = "{softhsm_token.label}"
pkcs11_key_label = "hk-1"
pkcs11_pin_file = "{softhsm_token.pin_file}"
submitter_pkcs11_module = "{softhsm_token.module}"
submitter_pkcs11_token_label = "{softhsm_token.label}"
submitter_pkcs11_key_label = "hk-1"
submitter_pkcs11_pin_file = "{softhsm_token.pin_file}"

[conflux]
rpc_url = "http://127.0.0.1:8545"
chain_id = 2030
vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

[ethereum]
rpc_url = "http://127.0.0.1:8546"
chain_id = 31337
gateway = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"
"""
    )
    keys = load_keys(load_settings(config))
    assert isinstance(keys.attester, Pkcs11Signer)
    assert keys.attester.address == hsm_key
    assert keys.submitter is keys.attester  # the same key: one session
    keys.attester.close()
