"""The devnet's jurisdiction policy packs: one per jurisdiction, signed by a dev supervisor.

Each jurisdiction's supervisor has a deterministic DEV key (never reuse it); its pack
allows every devnet token in both directions with no limit but the ones a test asks for
(sanctioned addresses, a review threshold), and is written beside the validator's config
with its signature, as a supervisor would publish them (docs/supervision.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_utils.crypto import keccak

from relayer.domain.packs import pack_digest, pack_hash
from relayer.domain.signature import address_of_private_key, sign_digest
from relayer.domain.types import checksum

UNLIMITED = 10**30


def supervisor_key(jurisdiction: str) -> bytes:
    """The devnet supervisor's DEV key for ``jurisdiction``."""
    return keccak(text=f"conflux-bridge devnet supervisor {jurisdiction}")


def supervisor_address(jurisdiction: str) -> str:
    return checksum(address_of_private_key(supervisor_key(jurisdiction)))


@dataclass(frozen=True)
class DevnetPack:
    """A pack as written: where, and its hash (0x hex)."""

    path: Path
    hash: str
    supervisor: str


def pack_text(
    jurisdiction: str,
    tokens: Sequence[tuple[int, str, str]],
    sanctioned: Sequence[str] = (),
    review_above: int | None = None,
    version: int = 1,
) -> str:
    """A pack allowing ``tokens`` ((chain id, address, symbol)) without limits."""
    listed = ", ".join(f'"{checksum(bytes.fromhex(a[2:]))}"' for a in sanctioned)
    review = "" if review_above is None else f'review_above = "{review_above}"\n'
    body = "".join(
        f'[[tokens]]\nchain_id = {chain}\ntoken = "{checksum(bytes.fromhex(token[2:]))}"\n'
        f'symbol = "{symbol}"\nmax_per_transfer = "{UNLIMITED}"\n{review}\n'
        for chain, token, symbol in tokens
    )
    return (
        f"# Devnet policy pack of {jurisdiction}, signed by a DEV supervisor key.\n"
        f'schema = 1\njurisdiction = "{jurisdiction}"\nversion = {version}\n\n'
        f'[sanctions]\nsource = "devnet list"\nlist_version = "1"\naddresses = [{listed}]\n\n'
        f"{body}"
    )


def write_pack(folder: Path, jurisdiction: str, text: str) -> DevnetPack:
    """Write ``text`` and its signature by the jurisdiction's dev supervisor."""
    raw = text.encode()
    version = int(text.split("\nversion = ", 1)[1].split("\n", 1)[0])
    digest = pack_digest(jurisdiction, version, pack_hash(raw))
    path = folder / f"{jurisdiction.lower()}-policy.toml"
    path.write_bytes(raw)
    signature = sign_digest(supervisor_key(jurisdiction), digest)
    path.with_name(path.name + ".sig").write_text("0x" + signature.hex() + "\n")
    return DevnetPack(path, "0x" + pack_hash(raw).hex(), supervisor_address(jurisdiction))
