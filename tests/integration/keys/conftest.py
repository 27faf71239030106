"""A real PKCS#11 token per test (``softhsm.py``); SoftHSM2 missing FAILS the test. A fake
AWS KMS on 127.0.0.1 per test (``fake_kms.py``), with fake credentials in the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_kms import FakeKms, fake_kms
from softhsm import Token, softhsm_token_in


@pytest.fixture
def softhsm_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Token]:
    with softhsm_token_in(tmp_path, monkeypatch) as token:
        yield token


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Fake static credentials through the standard chain (environment); no ~/.aws, no
    instance metadata, so nothing leaves 127.0.0.1."""
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
        "AWS_SECRET_ACCESS_KEY": "fakeSecretKeyThatMustNeverShow0123456789",
        "AWS_SESSION_TOKEN": "fakeSessionTokenThatMustNeverShowEither",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def kms(aws_env: dict[str, str]) -> Iterator[FakeKms]:
    with fake_kms() as server:
        yield server
