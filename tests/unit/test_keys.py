"""Keystores, dev keys and the secret scrubber."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import structlog
from eth_account import Account

from relayer.errors import ConfigError
from relayer.keys import load_keystore, new_keystore, signer_from_hex
from relayer.log import configure_logging

KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


def test_signature_recovers_to_the_signer() -> None:
    signer = signer_from_hex(KEY)
    digest = bytes(range(32))
    sig = signer.sign_digest(digest)
    assert len(sig) == 65
    assert sig[64] in (27, 28)
    assert Account._recover_hash(digest, signature=sig) == Account.from_key(KEY).address
    assert KEY[2:] not in repr(signer)


def test_keystore_round_trip_and_wrong_password(tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    pw = tmp_path / "pw"
    pw.write_text("correct horse\n")
    os.chmod(pw, 0o600)
    made = new_keystore(out, b"correct horse")
    assert out.stat().st_mode & 0o077 == 0
    assert load_keystore(out, pw).address == made.address
    pw.write_text("wrong horse")
    with pytest.raises(ConfigError, match="wrong password"):
        load_keystore(out, pw)


def test_keystore_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    new_keystore(out, b"password1")
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        new_keystore(out, b"password1")


def test_readable_keystore_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "info")
    out = tmp_path / "k.json"
    pw = tmp_path / "pw"
    pw.write_text("password1")
    new_keystore(out, b"password1")
    os.chmod(out, 0o644)
    os.chmod(pw, 0o600)
    load_keystore(out, pw)
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    assert any("readable by other users" in line["event"] for line in lines)


def test_bad_raw_key_error_does_not_quote_it() -> None:
    bad = "0x" + "zz" * 32
    with pytest.raises(ConfigError) as caught:
        signer_from_hex(bad, dev_only_setting="validator.dev_private_key")
    assert "zz" * 8 not in str(caught.value)
    assert "validator.dev_private_key" in str(caught.value)


def test_log_lines_never_carry_a_registered_key(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "info")
    signer_from_hex(KEY, dev_only_setting="validator.dev_private_key")
    log = structlog.get_logger("t")
    log.info("oops", detail=f"failed with key {KEY}", nested={"k": [KEY[2:].upper()]})
    log.info("field", private_key="abc", password="hunter2")
    err = capsys.readouterr().err
    assert KEY[2:] not in err.lower()
    assert "hunter2" not in err
    assert "[REDACTED]" in err
