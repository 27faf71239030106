"""The devnet's supervisor API tokens: one DEV token per jurisdiction, deterministic.

Each devnet relayer serves the supervisor API with one supervisor per jurisdiction of the
bridge, each scoped to its own jurisdiction; the manifest lists the tokens (DEV ONLY:
anyone who reads the manifest can read the view). The relayers' settings hold only the
tokens' sha256, as in production.
"""

from __future__ import annotations

import hashlib

from eth_utils.crypto import keccak


def dev_token(jurisdiction: str) -> str:
    """The devnet supervisor's DEV bearer token for ``jurisdiction``."""
    return (
        "dev-"
        + jurisdiction.lower()
        + "-"
        + keccak(text=f"supervisor api {jurisdiction}").hex()[:24]
    )


def supervisors_toml(jurisdictions: list[str]) -> str:
    """``[[supervisor_api.supervisors]]`` entries, one per jurisdiction."""
    return "".join(
        f'[[supervisor_api.supervisors]]\nname = "devnet-{j}"\n'
        f'token_sha256 = "{hashlib.sha256(dev_token(j).encode()).hexdigest()}"\n'
        f'jurisdictions = ["{j}"]\n\n'
        for j in jurisdictions
    )
