"""``relayer audit``: this validator's tamper-evident audit chain, and exports a supervisor
can verify.

* ``relayer audit verify --config FILE``: recompute this validator's whole chain, then check
  it still contains every head of it another validator witnessed, one line per witness
  (exit 0: intact; 1: broken, naming the first bad link or the witness and the lost head).
* ``relayer audit export --config FILE --from T --to T --format jsonl|csv --out PATH``:
  write the entries dated in [T, T] and ``PATH.sig``, signed by the attesting key.
* ``relayer audit verify-export PATH --validator ADDR [--config FILE]``: check an export with
  nothing but the file, its ``.sig`` and the validator's address; with ``--config``, also
  against the signed heads of that validator held in that relayer's database.

The formats and the signature are in ``relayer.store.audit_export`` and docs/supervision.md.
Every bad argument, file or signature is one line naming what was wrong, exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relayer.errors import ConfigError, FatalError

if TYPE_CHECKING:
    from relayer.domain.types import Address
    from relayer.store.heads import StoredAuditHead
    from relayer.store.records import AuditEntry

EXIT_OK = 0
EXIT_BROKEN = 1
MAX_EXPORT_BYTES = 1 << 30  # verify-export reads the file whole

Formatter = Callable[[str], argparse.HelpFormatter]


def _time(text: str, flag: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"{flag}: not an ISO 8601 time: {text!r}") from err
    if when.tzinfo is None:
        raise ConfigError(f"{flag}: {text!r} has no timezone (add Z or an offset like +08:00)")
    return when


def _cmd_verify(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.types import checksum, hex32
    from relayer.node import load_keys
    from relayer.store import Store
    from relayer.store.audit import verify_links
    from relayer.store.outcomes import AuditChainIntact
    from relayer.store.witnesses import WitnessCheck, check_witnessed

    settings = settings_of(args)
    own = load_keys(settings).attester.address

    async def go() -> int:
        store = await Store.open(settings.database.url)
        witnesses: list[WitnessCheck] = []
        try:
            async with store.reader() as tx:
                entries = await tx.audit_entries()
                verdict = verify_links(entries)
                if isinstance(verdict, AuditChainIntact):
                    witnesses = await check_witnessed(tx, own, entries)
        finally:
            await store.close()
        if not isinstance(verdict, AuditChainIntact):
            print(json.dumps({"intact": False, "seq": verdict.seq, "reason": verdict.reason}))
            return EXIT_BROKEN
        line = {"intact": True, "entries": verdict.entries, "head": hex32(verdict.head)}
        print(json.dumps(line))
        for check in witnesses:
            print(json.dumps(check.line()))
        if not witnesses:
            print(
                f"relayer: note: no head of {checksum(own)} witnessed by another validator "
                "yet: only the chain's own links were checked",
                file=sys.stderr,
            )
        failed = [check for check in witnesses if not check.ok]
        for check in failed:
            print(f"relayer: {check.failure()}", file=sys.stderr)
        return EXIT_BROKEN if failed else EXIT_OK

    return asyncio.run(go())


def _write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file beside it, then a rename)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"--out: cannot write {path}: {err.strerror}") from err


def _cmd_export(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.types import checksum, hex32
    from relayer.node import load_keys
    from relayer.store import Store
    from relayer.store.audit_export import ExportFormat, ExportRefused, sign_export, verify_export

    start, end = _time(args.start, "--from"), _time(args.end, "--to")
    if start > end:
        raise ConfigError(f"--from {args.start} is after --to {args.end}")
    out = Path(args.out)
    signature_path = Path(f"{out}.sig")
    for path in (out, signature_path):
        if path.exists() and not args.force:
            raise ConfigError(f"--out: {path} exists (pass --force to replace it)")
    if not out.parent.is_dir():
        raise ConfigError(f"--out: no directory {out.parent}")
    settings = settings_of(args)
    attester = load_keys(settings).attester

    async def read() -> tuple[AuditEntry, ...]:
        store = await Store.open(settings.database.url)
        try:
            async with store.reader() as tx:
                return await tx.audit_slice(start, end)
        finally:
            await store.close()

    entries = asyncio.run(read())
    fmt = ExportFormat(args.format)
    raw, signed = sign_export(entries, fmt, attester.address, attester.sign_digest)
    check = verify_export(raw, signed, attester.address)  # as a supervisor will
    if isinstance(check, ExportRefused):
        raise FatalError(
            f"the audit chain in the database does not verify ({check.detail}); nothing "
            "written: run `relayer audit verify`"
        )
    _write(out, raw)
    _write(signature_path, signed.to_json())
    summary = {
        "out": str(out),
        "signature": str(signature_path),
        "validator": checksum(signed.validator),
        "format": fmt.value,
        "first_seq": signed.first_seq,
        "last_seq": signed.last_seq,
        "count": signed.count,
        "content_hash": hex32(signed.content_hash),
    }
    print(json.dumps(summary))
    return EXIT_OK


def _read(path: Path, what: str, limit: int) -> bytes:
    from relayer.files import FileReadError, read_capped

    try:
        return read_capped(path, limit, "")
    except FileReadError as err:
        raise ConfigError(f"{what}: {err}") from err


def _cmd_verify_export(args: argparse.Namespace) -> int:
    from relayer.domain.types import parse_address
    from relayer.store.audit_export import (
        MAX_SIGNATURE_FILE_BYTES,
        ExportRefused,
        SignatureFileError,
        parse_signature_file,
        verify_export,
    )

    try:
        validator = parse_address(args.validator, "--validator", strict_checksum=True)
    except ValueError as err:
        raise ConfigError(str(err)) from err
    raw = _read(Path(args.file), "FILE", MAX_EXPORT_BYTES)
    signature_path = Path(args.signature or f"{args.file}.sig")
    try:
        signed = parse_signature_file(
            _read(signature_path, "--signature", MAX_SIGNATURE_FILE_BYTES)
        )
    except SignatureFileError as err:
        raise ConfigError(f"--signature: {signature_path}: {err}") from err
    verdict = verify_export(raw, signed, validator)
    if isinstance(verdict, ExportRefused):
        raise ConfigError(f"{args.file}: {verdict.detail}")
    summary = verdict.summary()
    if args.config is not None:
        summary["heads_checked"] = _export_heads(args, validator, verdict.entries)
    print(json.dumps(summary))
    return EXIT_OK


def _export_heads(
    args: argparse.Namespace, validator: Address, entries: Sequence[AuditEntry]
) -> int:
    """How many heads of ``validator`` held in ``--config``'s database fall within the
    export (all agree with it; else one line naming the first that does not, exit 2)."""
    from relayer.cli import settings_of
    from relayer.store import Store
    from relayer.store.witnesses import check_export

    settings = settings_of(args)

    async def held() -> tuple[StoredAuditHead, ...]:
        store = await Store.open(settings.database.url)
        try:
            async with store.reader() as tx:
                return await tx.audit_heads_of(validator)
        finally:
            await store.close()

    checked = check_export(entries, asyncio.run(held()))
    if checked.fault is not None:
        raise ConfigError(f"{args.file}: {checked.fault}")
    return checked.checked


def add_parsers(commands: Any, formatter: Formatter) -> None:
    """Register ``audit`` on the ``relayer`` command's sub-parsers."""
    audit = commands.add_parser(
        "audit",
        help="this validator's audit chain: verify it, export signed slices, check exports",
        formatter_class=formatter,
    )
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="recompute this validator's audit chain and check it contains every head of it "
        "the other validators witnessed (exit 1 names the first bad link or lost head)",
        formatter_class=formatter,
        epilog="example:\n  relayer audit verify --config relayer.toml\n",
    )
    verify.add_argument("--config", required=True, help="TOML settings file")
    verify.set_defaults(func=_cmd_verify)

    export = audit_commands.add_parser(
        "export",
        help="write the entries dated in [FROM, TO] and PATH.sig, signed by the attesting key",
        formatter_class=formatter,
        epilog="example:\n"
        "  relayer audit export --config relayer.toml --from 2026-12-01T00:00:00Z \\\n"
        "      --to 2026-12-31T23:59:59.999999Z --format jsonl --out hk-1-2026-12.jsonl\n",
    )
    export.add_argument("--config", required=True, help="TOML settings file")
    export.add_argument(
        "--from", dest="start", required=True, metavar="TIME", help="ISO 8601 with a timezone"
    )
    export.add_argument(
        "--to", dest="end", required=True, metavar="TIME", help="ISO 8601 with a timezone"
    )
    export.add_argument("--format", required=True, choices=["jsonl", "csv"], help="file format")
    export.add_argument("--out", required=True, metavar="PATH", help="export file to write")
    export.add_argument(
        "--force", action="store_true", help="replace an existing PATH and PATH.sig"
    )
    export.set_defaults(func=_cmd_export)

    check = audit_commands.add_parser(
        "verify-export",
        help="check an export against the validator's address (exit 2 says what is wrong)",
        formatter_class=formatter,
        epilog="example:\n  relayer audit verify-export hk-1-2026-12.jsonl --validator 0xAb…12\n",
    )
    check.add_argument("file", help="the export (jsonl or csv, as its .sig says)")
    check.add_argument("--validator", required=True, help="the validator's attesting address")
    check.add_argument("--signature", help="signature file (default: FILE.sig)")
    check.add_argument(
        "--config",
        help="also check the export against the heads of the validator held in this "
        "relayer's database (any validator's settings; read only)",
    )
    check.set_defaults(func=_cmd_verify_export)
