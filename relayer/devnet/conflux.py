"""A local conflux-rust dev node (npm @xcfx/node-linux-x64-gnu) with funded eSpace accounts.

``async with ConfluxDevNode.start(dev_block_interval_ms=250) as node:`` picks free
ports, writes the node's JSON config into a temporary directory, runs
``contracts/tools/conflux-node.js`` in its own process group, waits until the eSpace
RPC answers, and on exit stops it (SIGTERM, then SIGKILL) and removes the directory.

Facts about this dev node (see docs/chain.md): ~4 blocks/s at 250 ms, eSpace
transactions only land in blocks whose number is a multiple of 5, ``safe`` trails the
head by some dozens of blocks, ``finalized`` stays at 0 (no PoS here).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

from relayer.chain.kind import CONFLUX_DEVNET_CHAIN_ID
from relayer.devnet.processes import (
    REPO_ROOT,
    DevnetError,
    ManagedProcess,
    free_ports,
    require_binary,
    rpc_call_sync,
    run_blocking,
    wait_until_ready,
)

LAUNCHER = REPO_ROOT / "contracts" / "tools" / "conflux-node.js"
NATIVE_MODULE = REPO_ROOT / "contracts" / "node_modules" / "@xcfx" / "node-linux-x64-gnu"
READY_TIMEOUT_SECONDS = 60.0
START_ATTEMPTS = 3


def dev_secret(label: str, index: int) -> str:
    """A deterministic private key (64 hex digits, no 0x) for dev accounts."""
    return keccak(f"relayer-devnet-{label}-{index}".encode()).hex()


def _wait_first_block(node: ConfluxDevNode, timeout: float) -> None:
    """Block production starts a few seconds after the RPC: wait for block 1."""
    deadline = time.monotonic() + timeout
    while int(rpc_call_sync(node.rpc_url, "eth_blockNumber", [], 2.0), 16) < 1:
        if time.monotonic() > deadline:
            raise DevnetError(f"no block within {timeout}s:\n{node.process.log_tail()}")
        time.sleep(0.1)


@dataclass
class ConfluxDevNode:
    """A running conflux-rust dev node and what tests need to talk to it."""

    process: ManagedProcess
    ports: dict[str, int]
    chain_id: int
    core_chain_id: int
    funded_keys: tuple[str, ...]  # eSpace accounts, 0x-hex, 10,000 CFX each
    core_keys: tuple[str, ...]
    dev_block_interval_ms: int
    startup_seconds: float
    workdir: Path

    @property
    def rpc_url(self) -> str:
        """eSpace HTTP JSON-RPC (eth_*)."""
        return f"http://127.0.0.1:{self.ports['jsonrpcHttpEthPort']}"

    @property
    def ws_url(self) -> str:
        """eSpace WebSocket JSON-RPC."""
        return f"ws://127.0.0.1:{self.ports['jsonrpcWsEthPort']}"

    @property
    def core_rpc_url(self) -> str:
        """Core Space HTTP JSON-RPC (cfx_*)."""
        return f"http://127.0.0.1:{self.ports['jsonrpcHttpPort']}"

    @staticmethod
    def _config(
        workdir: Path,
        ports: dict[str, int],
        chain_id: int,
        core_chain_id: int,
        evm_secrets: list[str],
        core_secrets: list[str],
        dev_block_interval_ms: int,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "chainId": core_chain_id,
            "evmChainId": chain_id,
            **ports,
            "devBlockIntervalMs": dev_block_interval_ms,
            "confluxDataDir": str(workdir / "data"),
            "genesisSecrets": core_secrets,
            "genesisEvmSecrets": evm_secrets,
            "publicRpcApis": "all",
            "publicEvmRpcApis": "evm",
            "logLevel": "error",
            **extra,
        }

    @classmethod
    def launch(
        cls,
        *,
        chain_id: int = CONFLUX_DEVNET_CHAIN_ID,
        core_chain_id: int = 2029,
        dev_block_interval_ms: int = 250,
        evm_accounts: int = 10,
        extra_config: dict[str, Any] | None = None,
        ready_timeout: float = READY_TIMEOUT_SECONDS,
    ) -> ConfluxDevNode:
        """Start the node; block until its eSpace RPC answers and block 1 exists.

        Retries with fresh ports if a port was taken in the meantime.
        """
        require_binary(Path(shutil.which("node") or "/nonexistent/node"), "install Node.js")
        if not NATIVE_MODULE.is_dir() or not LAUNCHER.is_file():
            raise DevnetError(f"conflux node missing: {NATIVE_MODULE} (run `make install`)")
        evm_secrets = [dev_secret("espace", i) for i in range(evm_accounts)]
        core_secrets = [dev_secret("core", 0)]
        last: DevnetError | None = None
        for _ in range(START_ATTEMPTS):
            workdir = Path(tempfile.mkdtemp(prefix="conflux-"))
            names = ("jsonrpcHttpPort", "jsonrpcHttpEthPort", "jsonrpcWsEthPort")
            ports = dict(zip(names, free_ports(3), strict=True))
            ports.update(zip(("tcpPort", "udpPort"), free_ports(2, udp=True), strict=True))
            config = cls._config(
                workdir,
                ports,
                chain_id,
                core_chain_id,
                evm_secrets,
                core_secrets,
                dev_block_interval_ms,
                extra_config or {},
            )
            config_path = workdir / "config.json"
            config_path.write_text(json.dumps(config, indent=2))
            began = time.monotonic()
            proc = ManagedProcess(
                ["node", str(LAUNCHER), str(config_path)], workdir / "node.log", cwd=workdir
            )
            node = cls(
                proc,
                ports,
                chain_id,
                core_chain_id,
                tuple("0x" + s for s in evm_secrets),
                tuple("0x" + s for s in core_secrets),
                dev_block_interval_ms,
                0.0,
                workdir,
            )
            try:
                wait_until_ready(proc, node.rpc_url, "eth_blockNumber", ready_timeout)
                _wait_first_block(node, ready_timeout)
            except DevnetError as err:
                last = err
                node.stop()
                continue
            node.startup_seconds = time.monotonic() - began
            return node
        raise DevnetError(f"conflux node failed to start {START_ATTEMPTS} times") from last

    def stop(self) -> None:
        """Stop the process group (the launcher stops the node cleanly on SIGTERM)."""
        self.process.stop(grace=20.0)
        shutil.rmtree(self.workdir, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def start_sync(cls, **kwargs: Any) -> Iterator[ConfluxDevNode]:
        """Blocking context manager: ``with ConfluxDevNode.start_sync(...) as node``."""
        node = cls.launch(**kwargs)
        try:
            yield node
        finally:
            node.stop()

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, **kwargs: Any) -> AsyncIterator[ConfluxDevNode]:
        """``async with ConfluxDevNode.start(...) as node``; takes ``launch``'s arguments."""
        ready_timeout = float(kwargs.get("ready_timeout", READY_TIMEOUT_SECONDS))
        node = await run_blocking(cls.launch, ready_timeout * START_ATTEMPTS + 30, **kwargs)
        try:
            yield node
        finally:
            await run_blocking(node.stop, 90.0)
