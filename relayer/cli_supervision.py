"""``relayer pack`` (a supervisor's policy packs) and ``relayer review`` (held transfers).

* ``relayer pack hash FILE``: parse a pack and print its hash and the digest to sign.
* ``relayer pack sign FILE --keystore K``: the supervisor signs it (``FILE.sig``).
* ``relayer pack verify FILE --supervisor ADDR --jurisdiction XX``: check a pack as a
  validator of that jurisdiction would (exit 0: it would take it; 2: it would refuse it).
* ``relayer review list|approve ID|reject ID --reason TEXT``: transfers the policy held
  for a human decision; the running relayer applies a decision on its next sweep.

Every bad argument, file or signature is one line naming what was wrong, exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relayer.errors import ConfigError

EXIT_OK = 0
EXIT_USAGE = 2
REVIEWER_MAX_CHARS = 128  # the width of reviews.reviewer

Formatter = Callable[[str], argparse.HelpFormatter]


def _pack_bytes(path: str) -> bytes:
    from relayer.service.policy import PackFileError, read_pack

    try:
        return read_pack(Path(path))
    except PackFileError as err:
        raise ConfigError(str(err)) from err


def _parsed(raw: bytes) -> Any:
    from relayer.domain.packs import PackError, parse_pack

    try:
        return parse_pack(raw)
    except PackError as err:
        raise ConfigError(str(err)) from err


def _summary(pack: Any) -> dict[str, Any]:
    from relayer.domain.packs import pack_digest

    return {
        "jurisdiction": pack.jurisdiction,
        "version": pack.version,
        "hash": "0x" + pack.hash_hex,
        "digest": "0x" + pack_digest(pack.jurisdiction, pack.version, pack.content_hash).hex(),
        "tokens": len(pack.tokens),
        "sanctioned": len(pack.sanctions.addresses),
    }


def _cmd_pack_hash(args: argparse.Namespace) -> int:
    print(json.dumps(_summary(_parsed(_pack_bytes(args.file)))))
    return EXIT_OK


def _cmd_pack_sign(args: argparse.Namespace) -> int:
    from relayer.domain.packs import pack_digest
    from relayer.domain.types import checksum
    from relayer.keys import load_keystore

    pack = _parsed(_pack_bytes(args.file))
    out = Path(args.out or f"{args.file}.sig")
    if out.exists() and not args.force:
        raise ConfigError(f"--out: {out} exists (pass --force to replace it)")
    signer = load_keystore(Path(args.keystore), Path(args.password_file))
    digest = pack_digest(pack.jurisdiction, pack.version, pack.content_hash)
    out.write_text("0x" + signer.sign_digest(digest).hex() + "\n")
    print(json.dumps({**_summary(pack), "signer": checksum(signer.address), "signature": str(out)}))
    return EXIT_OK


def _cmd_pack_verify(args: argparse.Namespace) -> int:
    from relayer.domain.packs import PackAccepted, PackRefused, accept_pack
    from relayer.domain.types import Validator, parse_address
    from relayer.service.policy import PackFileError, read_signature

    try:
        supervisor = parse_address(args.supervisor, "--supervisor", strict_checksum=True)
        Validator(supervisor, args.jurisdiction)
    except ValueError as err:
        raise ConfigError(str(err)) from err
    raw = _pack_bytes(args.file)
    _parsed(raw)  # a malformed pack is named before its signature is read
    try:
        signature = read_signature(Path(args.signature or f"{args.file}.sig"))
    except PackFileError as err:
        raise ConfigError(str(err)) from err
    decision = accept_pack(raw, signature, supervisor, args.jurisdiction, None)
    if isinstance(decision, PackRefused):
        raise ConfigError(f"the pack would be refused: {decision.fault.value}: {decision.detail}")
    assert isinstance(decision, PackAccepted)
    print(json.dumps({**_summary(decision.pack), "verified": True}))
    return EXIT_OK


def _transfer_id(text: str) -> bytes:
    from relayer.domain.types import parse_hash32

    try:
        return parse_hash32(text, "transfer id")
    except ValueError as err:
        raise ConfigError(str(err)) from err


def _cmd_review(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.types import Hash32, checksum, hex32
    from relayer.store import Store, TransferRecord, TransferStatus
    from relayer.store.outcomes import (
        ReviewAlreadyDecided,
        ReviewNotHeld,
        ReviewRecorded,
        TransferNotFound,
    )

    settings = settings_of(args)
    action = args.review_command
    tid = None if action == "list" else Hash32(_transfer_id(args.id))
    reviewer = getattr(args, "by", None) or getpass.getuser()
    if len(reviewer) > REVIEWER_MAX_CHARS:
        raise ConfigError(f"--by: at most {REVIEWER_MAX_CHARS} characters, got {len(reviewer)}")

    async def go() -> int:
        store = await Store.open(settings.database.url)
        try:
            if tid is None:
                async with store.reader() as tx:
                    held: list[TransferRecord] = []
                    for chain in (settings.conflux.chain_id, settings.ethereum.chain_id):
                        held += await tx.transfers_by_status(TransferStatus.REVIEW, 1000, chain)
                for rec in held:
                    line = {
                        "transfer_id": hex32(rec.transfer_id),
                        "src_chain_id": rec.src_chain_id,
                        "token": checksum(rec.src_token),
                        "amount": str(rec.amount),
                        "sender": checksum(rec.sender),
                        "recipient": checksum(rec.recipient),
                        "why": rec.status_reason,
                        "confirmed_at": None
                        if rec.confirmed_at is None
                        else rec.confirmed_at.isoformat(),
                    }
                    print(json.dumps(line))
                return EXIT_OK
            approved = action == "approve"
            reason = (args.reason or "").strip() or ("approved" if approved else "")
            if not reason:
                raise ConfigError("--reason: say why the transfer is rejected")
            async with store.transaction() as tx:
                outcome = await tx.record_review(tid, approved, reviewer, reason)
            match outcome:
                case ReviewRecorded(review=review):
                    print(
                        json.dumps(
                            {
                                "transfer_id": hex32(review.transfer_id),
                                "approved": review.approved,
                                "by": review.reviewer,
                                "reason": review.reason,
                            }
                        )
                    )
                    return EXIT_OK
                case TransferNotFound():
                    raise ConfigError(f"no transfer {hex32(tid)} in this relayer's database")
                case ReviewNotHeld(status=status):
                    raise ConfigError(
                        f"transfer {hex32(tid)} is {status.value}, not held for review"
                    )
                case ReviewAlreadyDecided(review=review):
                    verdict = "approved" if review.approved else "rejected"
                    raise ConfigError(
                        f"transfer {hex32(tid)} was already {verdict} by {review.reviewer}"
                    )
        finally:
            await store.close()

    return asyncio.run(go())


def add_parsers(commands: Any, formatter: Formatter) -> None:
    """Register ``pack`` and ``review`` on the ``relayer`` command's sub-parsers."""
    pack = commands.add_parser(
        "pack", help="a supervisor's jurisdiction policy packs", formatter_class=formatter
    )
    pack_commands = pack.add_subparsers(dest="pack_command", metavar="ACTION", required=True)
    hashing = pack_commands.add_parser(
        "hash",
        help="parse a pack; print its hash and the EIP-712 digest a supervisor signs",
        formatter_class=formatter,
        epilog="example:\n  relayer pack hash hk-policy.toml\n",
    )
    hashing.add_argument("file", help="the pack (TOML or JSON; docs/supervision.md)")
    hashing.set_defaults(func=_cmd_pack_hash)
    sign = pack_commands.add_parser(
        "sign",
        help="sign a pack with the supervisor's keystore (writes FILE.sig)",
        formatter_class=formatter,
        epilog="example:\n"
        "  relayer pack sign hk-policy.toml --keystore hkma.json --password-file pw.txt\n",
    )
    sign.add_argument("file", help="the pack to sign")
    sign.add_argument("--keystore", required=True, help="the supervisor's encrypted keystore")
    sign.add_argument("--password-file", required=True, help="the keystore's password file")
    sign.add_argument("--out", help="signature file (default: FILE.sig)")
    sign.add_argument("--force", action="store_true", help="replace an existing signature file")
    sign.set_defaults(func=_cmd_pack_sign)
    verify = pack_commands.add_parser(
        "verify",
        help="check a pack as a validator of JURISDICTION would (exit 2: it would refuse it)",
        formatter_class=formatter,
        epilog="example:\n"
        "  relayer pack verify hk-policy.toml --supervisor 0xAb…12 --jurisdiction HK\n",
    )
    verify.add_argument("file", help="the pack")
    verify.add_argument("--supervisor", required=True, help="the supervisor's address")
    verify.add_argument("--jurisdiction", required=True, help="ISO 3166-1 alpha-2 code")
    verify.add_argument("--signature", help="signature file (default: FILE.sig)")
    verify.set_defaults(func=_cmd_pack_verify)

    review = commands.add_parser(
        "review",
        help="transfers the policy held for a human decision: list, approve, reject",
        formatter_class=formatter,
    )
    review_commands = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    listing = review_commands.add_parser(
        "list",
        help="transfers held for review, one JSON line each",
        formatter_class=formatter,
        epilog="example:\n  relayer review list --config relayer.toml\n",
    )
    listing.add_argument("--config", required=True, help="TOML settings file")
    listing.set_defaults(func=_cmd_review)
    for name, what in (("approve", "approve (the policy runs again)"), ("reject", "refuse")):
        decide = review_commands.add_parser(
            name,
            help=f"{what} a held transfer; the relayer applies it on its next sweep",
            formatter_class=formatter,
            epilog=f"example:\n  relayer review {name} 0x5c1f…e2a9 --reason 'KYC checked' "
            "--config relayer.toml\n",
        )
        decide.add_argument("id", help="transfer id (0x + 64 hex digits)")
        decide.add_argument(
            "--reason", required=name == "reject", help="why (kept in the audit log)"
        )
        decide.add_argument("--by", help="who decides (default: the login name)")
        decide.add_argument("--config", required=True, help="TOML settings file")
        decide.set_defaults(func=_cmd_review)
