"""JSON forms of domain values for outbox payloads (plain JSON, never secrets)."""

from __future__ import annotations

from typing import Any

from relayer.domain.types import Release, parse_address, parse_hash32


def release_to_json(release: Release) -> dict[str, Any]:
    return {
        "transfer_id": "0x" + release.transfer_id.hex(),
        "src_chain_id": release.src_chain_id,
        "nonce": release.nonce,
        "token": "0x" + release.token.hex(),
        "recipient": "0x" + release.recipient.hex(),
        "amount": str(release.amount),
    }


def release_from_json(data: dict[str, Any]) -> Release:
    """Inverse of :func:`release_to_json`; raises ValueError on a malformed payload."""
    try:
        return Release(
            transfer_id=parse_hash32(data["transfer_id"], "transfer_id"),
            src_chain_id=int(data["src_chain_id"]),
            nonce=int(data["nonce"]),
            token=parse_address(data["token"], "token"),
            recipient=parse_address(data["recipient"], "recipient"),
            amount=int(data["amount"]),
        )
    except (KeyError, TypeError) as err:
        raise ValueError(f"malformed release payload: {err}") from err
