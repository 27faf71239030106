"""The whole test session: the relayer's process-wide limits, as ``relayer`` sets them."""

from __future__ import annotations

import pytest

from relayer.hardening import cap_recursion


def pytest_collection_finish(session: pytest.Session) -> None:
    """After every test module (and so web3 and py_ecc) is imported: see hardening.py."""
    cap_recursion()
