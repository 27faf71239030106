"""A local anvil (Foundry) node: start, stop, and the test-only RPCs (mine, reorg, snapshot).

``async with AnvilNode.start(chain_id=31337, block_time=0.25) as node:`` picks a free
port, spawns anvil in its own process group, waits until ``eth_chainId`` answers, and
on exit stops it (SIGTERM, then SIGKILL) and removes its temporary directory.
``block_time=None`` mines one block per transaction (automine); ``no_mining=True``
mines only on ``mine()``. Sub-second block times work (anvil takes fractional seconds).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account

from relayer.devnet.processes import (
    NODE_BIN_DIR,
    DevnetError,
    ManagedProcess,
    free_ports,
    require_binary,
    rpc_call,
    run_blocking,
    wait_until_ready,
)

# The npm package's native binary; ``.bin/anvil`` is a Node wrapper that spawns it.
ANVIL_NATIVE = NODE_BIN_DIR.parent / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
ANVIL_BIN = ANVIL_NATIVE if ANVIL_NATIVE.is_file() else NODE_BIN_DIR / "anvil"
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
READY_TIMEOUT_SECONDS = 30.0
START_ATTEMPTS = 3


def derive_keys(mnemonic: str, count: int) -> tuple[str, ...]:
    """The private keys anvil funds for ``mnemonic`` (BIP44 m/44'/60'/0'/0/i), 0x-hex."""
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        "0x" + bytes(Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}").key).hex()
        for i in range(count)
    )


@dataclass
class AnvilNode:
    """A running anvil process and what tests need to talk to it."""

    process: ManagedProcess
    port: int
    chain_id: int
    funded_keys: tuple[str, ...]
    startup_seconds: float
    workdir: Path
    rpc_timeout: float = field(default=10.0)

    @property
    def rpc_url(self) -> str:
        """HTTP JSON-RPC endpoint."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """WebSocket JSON-RPC (anvil serves it on the HTTP port)."""
        return f"ws://127.0.0.1:{self.port}"

    @classmethod
    def _argv(
        cls,
        port: int,
        chain_id: int,
        block_time: float | None,
        no_mining: bool,
        accounts: int,
        balance_ether: int,
        extra_args: Sequence[str],
    ) -> list[str]:
        argv = [str(require_binary(ANVIL_BIN, "run `make install`"))]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id)]
        argv += ["--mnemonic", DEFAULT_MNEMONIC, "--accounts", str(accounts)]
        argv += ["--balance", str(balance_ether), "--silent"]
        if no_mining:
            argv.append("--no-mining")
        elif block_time is not None:
            argv += ["--block-time", repr(float(block_time))]
        return argv + list(extra_args)

    @classmethod
    def launch(
        cls,
        *,
        chain_id: int = 31337,
        block_time: float | None = None,
        no_mining: bool = False,
        accounts: int = 10,
        balance_ether: int = 10_000,
        extra_args: Sequence[str] = (),
        ready_timeout: float = READY_TIMEOUT_SECONDS,
    ) -> AnvilNode:
        """Start anvil and block until its RPC answers (retries with fresh ports)."""
        keys = derive_keys(DEFAULT_MNEMONIC, accounts)
        last: DevnetError | None = None
        for _ in range(START_ATTEMPTS):
            workdir = Path(tempfile.mkdtemp(prefix="anvil-"))
            (port,) = free_ports(1)
            argv = cls._argv(
                port, chain_id, block_time, no_mining, accounts, balance_ether, extra_args
            )
            began = time.monotonic()
            proc = ManagedProcess(argv, workdir / "anvil.log")
            node = cls(proc, port, chain_id, keys, 0.0, workdir)
            try:
                wait_until_ready(proc, node.rpc_url, "eth_chainId", ready_timeout)
            except DevnetError as err:
                last = err
                node.stop()
                continue
            node.startup_seconds = time.monotonic() - began
            return node
        raise DevnetError(f"anvil failed to start {START_ATTEMPTS} times") from last

    def stop(self) -> None:
        """Stop the process group and delete the working directory."""
        self.process.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def start_sync(cls, **kwargs: Any) -> Iterator[AnvilNode]:
        """Blocking context manager: ``with AnvilNode.start_sync(...) as node``."""
        node = cls.launch(**kwargs)
        try:
            yield node
        finally:
            node.stop()

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, **kwargs: Any) -> AsyncIterator[AnvilNode]:
        """``async with AnvilNode.start(...) as node``; takes ``launch``'s arguments."""
        ready_timeout = float(kwargs.get("ready_timeout", READY_TIMEOUT_SECONDS))
        node = await run_blocking(cls.launch, ready_timeout * START_ATTEMPTS + 10, **kwargs)
        try:
            yield node
        finally:
            await run_blocking(node.stop, 60.0)

    # --- test-only RPCs -------------------------------------------------------------

    async def request(self, method: str, params: list[Any] | None = None) -> Any:
        """A raw JSON-RPC call under a timeout."""
        return await rpc_call(self.rpc_url, method, params or [], self.rpc_timeout)

    async def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks now."""
        await self.request("anvil_mine", [hex(blocks)])

    async def reorg(self, depth: int, txs: Sequence[tuple[str, int]] = ()) -> None:
        """Replace the last ``depth`` blocks; ``txs`` are (raw signed tx, block offset)."""
        await self.request("anvil_reorg", [depth, [[raw, offset] for raw, offset in txs]])

    async def rollback(self, depth: int) -> None:
        """Drop the last ``depth`` blocks without replacing them."""
        await self.request("anvil_rollback", [depth])

    async def snapshot(self) -> str:
        """Take an ``evm_snapshot``; returns its id."""
        return str(await self.request("evm_snapshot"))

    async def revert(self, snapshot_id: str) -> bool:
        """``evm_revert`` to a snapshot id."""
        return bool(await self.request("evm_revert", [snapshot_id]))

    async def set_automine(self, enabled: bool) -> None:
        """Turn mining of one block per transaction on or off."""
        await self.request("evm_setAutomine", [enabled])

    async def set_balance(self, address: str, wei: int) -> None:
        """Set an account's balance."""
        await self.request("anvil_setBalance", [address, hex(wei)])

    async def set_next_base_fee(self, wei: int) -> None:
        """Set the base fee of the next block."""
        await self.request("anvil_setNextBlockBaseFeePerGas", [hex(wei)])

    async def drop_all_transactions(self) -> None:
        """Empty the mempool."""
        await self.request("anvil_dropAllTransactions")
