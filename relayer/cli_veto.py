"""``relayer veto TRANSFER --reason TEXT``: this validator vetoes a transfer.

The veto is stored (with who and why, in the audit chain); the running relayer applies it
on its next sweep: it signs ``Cancel(transferId)`` for the destination and gossips it, never
submits the transfer's release again, and once a blocking minority of the set has signed,
sends ``cancel`` on the destination; the transfer is then refunded to its sender on the
source (docs/supervision.md). Bad input (an id that is not one, a transfer this relayer does
not know or that cannot be vetoed any more, an empty reason): one line naming it, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from collections.abc import Callable
from typing import Any

from relayer.errors import ConfigError

EXIT_OK = 0
BY_MAX_CHARS = 128  # the width of vetoes.vetoed_by

Formatter = Callable[[str], argparse.HelpFormatter]


def _cmd_veto(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.types import Hash32, hex32, parse_hash32
    from relayer.domain.vetoes import check_veto_reason
    from relayer.service.vetoes import AUTO
    from relayer.store import Store
    from relayer.store.outcomes import (
        TransferNotFound,
        VetoAlreadyRecorded,
        VetoNotAllowed,
        VetoRecorded,
    )

    try:
        tid = Hash32(parse_hash32(args.transfer, "transfer id"))
    except ValueError as err:
        raise ConfigError(str(err)) from err
    reason = args.reason.strip()
    fault = check_veto_reason(reason)
    if fault is not None:
        raise ConfigError(f"--reason: {fault}")
    by = (args.by or getpass.getuser()).strip()
    if not by or len(by) > BY_MAX_CHARS or by == AUTO:
        raise ConfigError(f"--by: 1 to {BY_MAX_CHARS} characters, not {AUTO!r}")
    settings = settings_of(args)

    async def go() -> int:
        store = await Store.open(settings.database.url)
        try:
            chains = {settings.conflux.chain_id, settings.ethereum.chain_id}
            async with store.transaction() as tx:
                rec = await tx.get_transfer(tid)
                if rec is not None and rec.dst_chain_id not in chains:
                    raise ConfigError(
                        f"transfer {hex32(tid)} goes to chain {rec.dst_chain_id}, where this "
                        "relayer knows no bridge contract: no Cancel can be signed for it"
                    )
                outcome = await tx.record_veto(tid, by, reason, automatic=False)
        finally:
            await store.close()
        match outcome:
            case VetoRecorded(veto=veto):
                line = {
                    "transfer_id": hex32(veto.transfer_id),
                    "vetoed_by": veto.vetoed_by,
                    "reason": veto.reason,
                    "applied": "on the relayer's next sweep",
                }
                print(json.dumps(line))
                return EXIT_OK
            case TransferNotFound():
                raise ConfigError(f"no transfer {hex32(tid)} in this relayer's database")
            case VetoNotAllowed(status=status):
                raise ConfigError(f"transfer {hex32(tid)} is {status.value}: it cannot be vetoed")
            case VetoAlreadyRecorded(veto=veto):
                raise ConfigError(
                    f"transfer {hex32(tid)} was already vetoed by {veto.vetoed_by}: {veto.reason}"
                )

    return asyncio.run(go())


def add_parsers(commands: Any, formatter: Formatter) -> None:
    """Register ``veto`` on the ``relayer`` command's sub-parsers."""
    veto = commands.add_parser(
        "veto",
        help="veto a transfer: sign Cancel; a blocking minority cancels it, then it is refunded",
        formatter_class=formatter,
        epilog="example:\n  relayer veto 0x5c1f…e2a9 --reason 'court order 2026/117' "
        "--config relayer.toml\n",
    )
    veto.add_argument("transfer", help="transfer id (0x + 64 hex digits)")
    veto.add_argument(
        "--reason", required=True, help="why (kept in the audit log and the transfer's status)"
    )
    veto.add_argument("--by", help="who vetoes (default: the login name)")
    veto.add_argument("--config", required=True, help="TOML settings file")
    veto.set_defaults(func=_cmd_veto)
