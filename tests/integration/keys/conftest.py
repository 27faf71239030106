"""A real PKCS#11 token per test (``softhsm.py``); SoftHSM2 missing FAILS the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from softhsm import Token, softhsm_token_in


@pytest.fixture
def softhsm_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Token]:
    with softhsm_token_in(tmp_path, monkeypatch) as token:
        yield token
