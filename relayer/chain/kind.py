"""Which node software a chain runs, where that changes what the relayer may ask of it.

Pure. The wiring declares a kind from the settings section a chain comes from
(``[conflux]`` or ``[ethereum]``); a chain id known to be Conflux eSpace makes the chain
Conflux whatever was declared, so a chain id typed into the wrong section, or a caller
that declares nothing, still gets the Conflux rules.
"""

from __future__ import annotations

from enum import Enum


class ChainKind(Enum):
    """The node software behind a chain's JSON-RPC endpoint."""

    ETHEREUM = "ethereum"  # geth-compatible nodes and anvil
    CONFLUX = "conflux"  # conflux-rust, eSpace endpoint


CONFLUX_TESTNET_CHAIN_ID = 71
CONFLUX_MAINNET_CHAIN_ID = 1030
CONFLUX_DEVNET_CHAIN_ID = 2030  # eSpace chain id of the dev node (relayer.devnet.conflux)
CONFLUX_CHAIN_IDS = frozenset(
    {CONFLUX_TESTNET_CHAIN_ID, CONFLUX_MAINNET_CHAIN_ID, CONFLUX_DEVNET_CHAIN_ID}
)


def chain_kind(chain_id: int, declared: ChainKind | None = None) -> ChainKind:
    """``CONFLUX`` if declared so or if ``chain_id`` is a known eSpace id, else the
    declared kind (``ETHEREUM`` when nothing was declared)."""
    if declared is ChainKind.CONFLUX or chain_id in CONFLUX_CHAIN_IDS:
        return ChainKind.CONFLUX
    return ChainKind.ETHEREUM
