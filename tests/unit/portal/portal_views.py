"""Validator answers (``view_to_json`` shapes) for the portal's pure tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TID = "0x" + "ab" * 32
TX = "0x" + "cd" * 32
RELEASE = "0x" + "ee" * 32
HK1, HK2, SG1, AE1 = ("0x" + c * 40 for c in ("1", "2", "3", "4"))


def view(status: str, signers: Sequence[tuple[str, str, str]] = (), **extra: Any) -> dict[str, Any]:
    """One validator's answer: ``signers`` as (address, jurisdiction, received_at)."""
    base: dict[str, Any] = {
        "transfer_id": TID,
        "direction": "to_ethereum",
        "status": status,
        "src_chain_id": 71,
        "dst_chain_id": 11155111,
        "nonce": 7,
        "src_token": "0x" + "0c" * 20,
        "dst_token": None,
        "sender": "0x" + "33" * 20,
        "recipient": "0x" + "44" * 20,
        "amount": "1000000",
        "source_tx": TX,
        "source_block": 900,
        "observed_at": "2026-12-07T10:00:00+00:00",
        "confirmed_at": None,
        "released_at": None,
        "release_tx": None,
        "executable_at": None,
        "attestations": {
            "count": len(signers),
            "threshold": 3,
            "min_jurisdictions": 2,
            "jurisdictions": sorted({j for _, j, _ in signers}),
            "signers": [
                {"address": a, "jurisdiction": j, "received_at": at} for a, j, at in signers
            ],
        },
        "refusals": [],
    }
    base.update(extra)
    return base
