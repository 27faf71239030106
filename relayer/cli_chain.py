"""``relayer chain rescan --chain NAME --from BLOCK``: read a range of blocks again.

A one-shot run against this relayer's database while the relayer is stopped (it refuses
to run while the relayer's API answers): the watcher's own scan reads the range again
(windows, bisection, the confirmation rule: nothing above the confirmed head, nothing at
or above the stored cursor, which the running watcher covers), and each window is stored
by the store's ordinary ingestion in one transaction. An event already stored is a
duplicate (nothing changes); one that was missed is stored ``observed``, and the relayer,
once started, confirms it, runs its policy and signs it like any other (its startup sweep);
an event that contradicts a stored one is a HALT alert, as in the watcher. The cursor is
never moved, and a rescan signs nothing: the same facts lead to the same signatures.

Bad input (an unknown chain, a negative or inverted range): one line, exit 2. The relayer
still running, or nothing scanned yet on that chain: one line, exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from relayer.errors import ConfigError

if TYPE_CHECKING:
    from relayer.chain.scan import ScanBatch
    from relayer.settings import ChainSettings, Settings

EXIT_OK = 0
EXIT_FAILURE = 1
API_PROBE_TIMEOUT_S = 1.0

Formatter = Callable[[str], argparse.HelpFormatter]


def _relayer_listens(settings: Settings) -> str | None:
    """``host:port`` of the relayer's API if something accepts connections there (the
    relayer runs; anything else on its port is taken for it too: the safe side)."""
    host = settings.api.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - probing, not binding
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, settings.api.port), timeout=API_PROBE_TIMEOUT_S):
            return f"{host}:{settings.api.port}"
    except OSError:
        return None


def _cmd_rescan(args: argparse.Namespace) -> int:
    from relayer.chain.confirmation import ConfirmationRule
    from relayer.chain.events import BridgeEvent
    from relayer.chain.rpc import RpcClient
    from relayer.chain.scan import InMemorySink
    from relayer.chain.watcher import EventWatcher, WatcherConfig
    from relayer.cli import settings_of
    from relayer.domain.types import Direction, hex32, parse_address
    from relayer.node import check_chain
    from relayer.service.sink import store_rescanned
    from relayer.store import Store
    from relayer.store.outcomes import EventConflict, EventInserted, EventRelocated

    if args.from_block < 0:
        raise ConfigError("--from: a block number, 0 or more")
    if args.to_block is not None and args.to_block < args.from_block:
        raise ConfigError(f"--to: {args.to_block} is below --from {args.from_block}")
    settings = settings_of(args)
    chain: ChainSettings
    if args.chain == "conflux":
        chain, contract = settings.conflux, parse_address(settings.conflux.vault)
        event, direction = BridgeEvent.LOCKED, Direction.TO_ETHEREUM
    else:
        chain, contract = settings.ethereum, parse_address(settings.ethereum.gateway)
        event, direction = BridgeEvent.BURNED, Direction.TO_CONFLUX
    running = _relayer_listens(settings)
    if running is not None:
        print(
            f"the relayer's API port {running} is open: stop it first "
            "(a rescan runs while the relayer is down)"
        )
        return EXIT_FAILURE

    async def go() -> int:
        store = await Store.open(settings.database.url)
        try:
            async with store.reader() as tx:
                cursor = await tx.get_cursor(chain.chain_id)
            if cursor is None or cursor.next_block <= args.from_block:
                where = (
                    "nothing scanned yet" if cursor is None else f"cursor at {cursor.next_block}"
                )
                print(
                    f"{args.chain}: {where}: blocks from {args.from_block} are the watcher's "
                    "first scan, not a rescan"
                )
                return EXIT_FAILURE
            below_cursor = cursor.next_block - 1
            high = below_cursor if args.to_block is None else min(args.to_block, below_cursor)
            counts = {"new": 0, "already_stored": 0, "conflicts": 0}
            new: list[str] = []
            conflicts: list[str] = []

            async def stored(batch: ScanBatch) -> None:
                for ev, outcome in zip(
                    batch.events,
                    await store_rescanned(store, chain.chain_id, contract, direction, batch),
                    strict=True,
                ):
                    if isinstance(outcome, EventInserted | EventRelocated):
                        new.append(hex32(ev.transfer_id))
                    elif isinstance(outcome, EventConflict):
                        conflicts.append(hex32(ev.transfer_id))
                    else:
                        counts["already_stored"] += 1

            async with RpcClient(chain.rpc_url, timeout=chain.rpc_timeout_s) as rpc:
                await check_chain(rpc, chain, args.chain, contract)
                config = WatcherConfig(
                    contract=contract,
                    event=event,
                    chain_id=chain.chain_id,
                    rule=ConfirmationRule.parse(chain.confirmation),
                    start_block=chain.start_block,
                    max_window=chain.max_log_window,
                )
                watcher = EventWatcher(rpc, config, InMemorySink())
                last = await watcher.rescan(args.from_block, high, stored)
        finally:
            await store.close()
        counts["new"], counts["conflicts"] = len(new), len(conflicts)
        line: dict[str, Any] = {
            "chain": args.chain,
            "chain_id": chain.chain_id,
            "from": args.from_block,
            "to": last,
            **counts,
            "new_transfers": new,
            "conflicting_transfers": conflicts,
        }
        if new:
            line["next"] = "start the relayer: it confirms, checks and signs them as usual"
        if conflicts:
            line["next"] = "a HALT alert was raised: see `relayer alerts list`"
        print(json.dumps(line))
        return EXIT_FAILURE if conflicts else EXIT_OK

    return asyncio.run(go())


def add_parsers(commands: Any, formatter: Formatter) -> None:
    """Register ``chain`` on the ``relayer`` command's sub-parsers."""
    chain = commands.add_parser(
        "chain", help="the chains as this relayer reads them", formatter_class=formatter
    )
    actions = chain.add_subparsers(dest="chain_command", metavar="ACTION", required=True)
    rescan = actions.add_parser(
        "rescan",
        help="read a range of blocks again (relayer stopped): missed events are stored",
        formatter_class=formatter,
        epilog="examples:\n"
        "  relayer chain rescan --chain conflux --from 1200000 --config relayer.toml\n"
        "  relayer chain rescan --chain ethereum --from 19000000 --to 19000500 "
        "--config relayer.toml\n",
    )
    rescan.add_argument("--chain", required=True, choices=["conflux", "ethereum"])
    rescan.add_argument("--from", dest="from_block", type=int, required=True, help="first block")
    rescan.add_argument(
        "--to", dest="to_block", type=int, help="last block (default: below the stored cursor)"
    )
    rescan.add_argument("--config", required=True, help="TOML settings file")
    rescan.set_defaults(func=_cmd_rescan)
