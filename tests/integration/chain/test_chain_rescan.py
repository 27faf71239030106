"""``relayer chain rescan`` against a real anvil and a real (SQLite) store: the watcher's
scan reads the range again and the store's ingestion takes it; events already stored are
duplicates (nothing doubled), an event the store missed is picked up ``observed``, the
cursor never moves, and a conflicting event is a halt."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from chain_helpers import emit_locked, scan_until, wait_receipt_block

from relayer.chain.confirmation import ConfirmationRule
from relayer.chain.events import BridgeEvent
from relayer.chain.rpc import RpcClient
from relayer.chain.scan import InMemorySink
from relayer.chain.watcher import EventWatcher, WatcherConfig
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.emitter import DevSender, deploy_emitter
from relayer.domain.types import Direction, hex32
from relayer.store import AlertKind, Store, TransferStatus

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONFIG = """
[validator]
name = "hk-1"
jurisdiction = "HK"
dev_private_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

[conflux]
rpc_url = "{rpc}"
chain_id = {chain_id}
vault = "0x{emitter}"
confirmation = "depth:3"
max_log_window = 4

[ethereum]
rpc_url = "http://127.0.0.1:9"
chain_id = 11155111
gateway = "0x{emitter}"

[database]
url = "{url}"

[api]
port = {port}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rescan(config: Path, *argv: str) -> tuple[int, Any, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYER_")}
    cmd = [sys.executable, "-m", "relayer", "chain", "rescan", "--config", str(config), *argv]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    out = done.stdout.strip()
    return done.returncode, (json.loads(out) if out.startswith("{") else out), done.stderr


async def test_a_rescan_picks_up_a_missed_event_and_doubles_none(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, tmp_path: Path
) -> None:
    sender = DevSender(anvil_rpc, anvil_node.funded_keys[3], anvil_node.chain_id)
    start = await anvil_rpc.block_number() + 1
    emitter = await deploy_emitter(sender)
    sent = [await emit_locked(sender, emitter, nonce) for nonce in range(5)]
    last = max([await wait_receipt_block(anvil_rpc, tx) for tx in sent])
    await anvil_node.mine(5)  # confirmed under depth:3
    chain_id = anvil_node.chain_id
    rule = ConfirmationRule.parse("depth:3")
    config = WatcherConfig(emitter, BridgeEvent.LOCKED, chain_id, rule, start, max_window=4)
    seen = InMemorySink()
    await scan_until(EventWatcher(anvil_rpc, config, seen), seen, last, limit=30)
    events = sorted(seen.events, key=lambda e: e.nonce)
    assert [e.nonce for e in events] == [0, 1, 2, 3, 4]
    missed = events[2]
    assert seen.cursor is not None
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    store = await Store.open(url, migrate_schema=True)
    try:  # the store as a watcher that lost one event would have left it
        async with store.transaction() as tx:
            kept = [e for e in events if e is not missed]
            await tx.record_scan(
                chain_id, emitter, Direction.TO_ETHEREUM, kept, seen.cursor.next_block
            )
            cursor_before = await tx.get_cursor(chain_id)
    finally:
        await store.close()
    cfg = tmp_path / "relayer.toml"
    text = CONFIG.format(
        rpc=anvil_node.rpc_url,
        chain_id=chain_id,
        emitter=emitter.hex(),
        url=url,
        port=_free_port(),
    )
    cfg.write_text(text)

    code, out, err = await asyncio.to_thread(
        _rescan, cfg, "--chain", "conflux", "--from", str(start)
    )
    assert code == 0, (out, err)
    assert out["new_transfers"] == [hex32(missed.transfer_id)]
    assert (out["new"], out["already_stored"], out["conflicts"]) == (1, 4, 0)
    assert out["to"] == seen.cursor.next_block - 1  # never above the cursor
    # again: everything is stored now, nothing is new
    code, again, err = await asyncio.to_thread(
        _rescan, cfg, "--chain", "conflux", "--from", str(start)
    )
    assert code == 0, (again, err)
    assert (again["new"], again["already_stored"]) == (0, 5)

    store = await Store.open(url)
    try:
        async with store.reader() as tx:
            stored = [await tx.get_transfer(e.transfer_id) for e in events]
            assert await tx.get_cursor(chain_id) == cursor_before  # not moved
            assert await tx.open_alerts() == ()
        assert all(rec is not None for rec in stored)
        picked = stored[2]
        assert picked is not None and picked.status is TransferStatus.OBSERVED
        assert (picked.block_number, picked.log_index) == (missed.block_number, missed.log_index)
    finally:
        await store.close()
    # a store holding an event the chain contradicts: the rescan raises a HALT, as a scan would
    forged_url = f"sqlite+aiosqlite:///{tmp_path / 'forged.db'}"
    store = await Store.open(forged_url, migrate_schema=True)
    try:
        async with store.transaction() as tx:
            forged = replace(events[4], amount=events[4].amount + 1)
            await tx.record_scan(
                chain_id, emitter, Direction.TO_ETHEREUM, [forged], seen.cursor.next_block
            )
    finally:
        await store.close()
    cfg.write_text(text.replace(url, forged_url))
    code, halted, err = await asyncio.to_thread(
        _rescan, cfg, "--chain", "conflux", "--from", str(start)
    )
    assert code == 1, (halted, err)
    assert halted["conflicting_transfers"] == [hex32(events[4].transfer_id)]
    store = await Store.open(forged_url)
    try:
        async with store.reader() as tx:
            alerts = await tx.open_alerts()
            assert await tx.chain_halted(chain_id)
    finally:
        await store.close()
    assert [a.kind for a in alerts] == [AlertKind.HALT]


async def test_a_rescan_refuses_bad_ranges_and_a_running_relayer(
    anvil_node: AnvilNode, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    store = await Store.open(url, migrate_schema=True)
    await store.close()
    with socket.socket() as api:  # something answers on the API port: the relayer runs
        api.bind(("127.0.0.1", 0))
        api.listen()
        port = int(api.getsockname()[1])
        cfg = tmp_path / "relayer.toml"
        text = CONFIG.format(
            rpc=anvil_node.rpc_url,
            chain_id=anvil_node.chain_id,
            emitter="11" * 20,
            url=url,
            port=port,
        )
        cfg.write_text(text)
        code, out, err = await asyncio.to_thread(
            _rescan, cfg, "--chain", "conflux", "--from", "10", "--to", "5"
        )
        assert code == 2 and err.strip().startswith("relayer: error: --to"), err
        code, out, err = await asyncio.to_thread(_rescan, cfg, "--chain", "solana", "--from", "1")
        assert code == 2 and "--chain" in err, err
        code, out, err = await asyncio.to_thread(_rescan, cfg, "--chain", "conflux", "--from", "1")
        assert code == 1 and "stop it first" in out, (out, err)
