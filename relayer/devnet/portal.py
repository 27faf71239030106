"""The portal of a running devnet: its settings written from the :class:`Stack`, and
``python -m relayer portal`` started as a managed process (docs/portal.md).

The devnet's chains, contracts, tokens and every validator's status API go into
``WORKDIR/portal/portal.toml``; the page is served on its own free port.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from relayer.devnet.packs import UNLIMITED
from relayer.devnet.processes import DevnetError, ManagedProcess, free_ports
from relayer.devnet.stack import Stack

READY_TIMEOUT_S = 60.0
# the devnet's block times, for the ETA the portal shows (seconds per block)
CONFLUX_BLOCK_S = 0.5  # eSpace blocks land on every fifth 250 ms epoch, give or take
RELEASE_S = 10.0  # signing, gossip, quorum and a mined release on a devnet


@dataclass
class DevnetPortal:
    """A portal process serving a devnet; :meth:`stop` it (the devnet's exit does too)."""

    process: ManagedProcess
    url: str
    config_path: Path

    def stop(self) -> int | None:
        return self.process.stop(grace=5.0)


def _q(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string for these values


def _depth_s(rule: str, block_s: float) -> float:
    depth = int(rule.removeprefix("depth:")) if rule.startswith("depth:") else 100
    return round(depth * block_s + 2.0, 1)


def portal_toml(stack: Stack, port: int) -> str:
    """The portal's settings for ``stack`` (listening on 127.0.0.1:``port``)."""
    assert stack.conflux and stack.anvil and stack.vault and stack.gateway
    o = stack.options
    cfx, eth = stack.conflux.chain_id, stack.anvil.chain_id
    eth_block_s = o.eth_block_time_s or max(0.1, 2 * o.block_time_ms / 1000)
    origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    lines = [
        "# The devnet's portal (written by relayer/devnet/portal.py). DEV SETTINGS.",
        'log_format = "json"',
        "",
        "[server]",
        'host = "127.0.0.1"',
        f"port = {port}",
        f"cors_origins = [{', '.join(_q(o) for o in origins)}]",
        "",
        "[rate_limit]  # the devnet's page and tests poll often",
        "requests_per_s = 50.0",
        "burst = 200",
        "",
        "[upstream]",
        "timeout_s = 3.0",
        "",
    ]
    for v in stack.validators:
        lines += [
            "[[validators]]",
            f"name = {_q(f'devnet-{v.index}')}",
            f"url = {_q(v.http_url)}",
            f"address = {_q(v.address)}",
            f"jurisdiction = {_q(v.jurisdiction)}",
            "",
        ]
    chains = [
        (cfx, "Conflux eSpace (devnet)", "conflux-espace", stack.conflux.rpc_url,
         stack.vault.address, ("Conflux", "CFX"), o.conflux_confirmation, CONFLUX_BLOCK_S),
        (eth, "Ethereum (devnet)", "ethereum", stack.anvil.rpc_url,
         stack.gateway.address, ("Ether", "ETH"), o.ethereum_confirmation, eth_block_s),
    ]  # fmt: skip
    for chain_id, name, kind, rpc, bridge, (cur, sym), rule, block_s in chains:
        lines += [
            "[[chains]]",
            f"chain_id = {chain_id}",
            f"name = {_q(name)}",
            f"kind = {_q(kind)}",
            f"rpc_url = {_q(rpc)}",
            f"bridge = {_q(bridge)}",
            f"native_currency = {{ name = {_q(cur)}, symbol = {_q(sym)}, decimals = 18 }}",
            f"confirmation = {_q(rule)}",
            f"confirmation_s = {_depth_s(rule, block_s)}",
            f"release_s = {RELEASE_S}",
            "",
        ]
    for t in stack.tokens:
        lines += [
            "[[tokens]]",
            f"symbol = {_q(t.symbol)}",
            f"decimals = {t.decimals}",
            f'addresses = {{ "{cfx}" = {_q(t.conflux)}, "{eth}" = {_q(t.ethereum)} }}',
            f'max_per_transfer = "{UNLIMITED}"  # what the devnet packs allow',
            "",
        ]
    return "\n".join(lines)


def start_portal(
    stack: Stack, port: int | None = None, env: Mapping[str, str] | None = None
) -> DevnetPortal:
    """Write the portal's settings for ``stack`` and start it; wait until ``/v1/config``
    answers. ``env`` adds settings (``PORTAL_…`` variables)."""
    home = stack.workdir / "portal"
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_ports(1)[0]
    config = home / "portal.toml"
    config.write_text(portal_toml(stack, port))
    argv = [sys.executable, "-m", "relayer", "portal", "--config", str(config)]
    process = ManagedProcess(argv, home / "portal.log", cwd=home, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        code = process.exit_code()
        if code is not None:
            raise DevnetError(f"the portal exited with {code}:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(f"{url}/v1/config", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return DevnetPortal(process, url, config)
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            process.stop(grace=2.0)
            raise DevnetError(f"the portal did not answer in {READY_TIMEOUT_S}s")
        time.sleep(0.2)
