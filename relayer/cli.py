"""The ``relayer`` command.

Every sub-command has ``--help`` with examples. A wrong argument or a bad setting
prints one line naming what was wrong and exits with code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import warnings
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relayer.errors import ConfigError, FatalError, RelayerError
from relayer.hardening import cap_recursion

if TYPE_CHECKING:
    from relayer.settings import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus a pointer to --help), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _read_password(args: argparse.Namespace, *, confirm: bool) -> bytes:
    if args.password_file is not None:
        try:
            return Path(args.password_file).read_bytes().rstrip(b"\r\n")
        except OSError as err:
            raise ConfigError(f"--password-file: cannot read {args.password_file}") from err
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to prompt for a password: pass --password-file")
    first = getpass.getpass("Keystore password: ")
    if confirm and getpass.getpass("Repeat password: ") != first:
        raise ConfigError("the two passwords differ")
    if len(first) < 8:
        raise ConfigError("password must be at least 8 characters")
    return first.encode()


_HSM_FLAGS = ("module", "token_label", "key_label", "pin_file")


def _cmd_keys_new(args: argparse.Namespace) -> int:
    from relayer.domain.types import Validator, checksum
    from relayer.keys import new_keystore

    if args.pkcs11:
        return _keys_new_pkcs11(args)
    given = [f"--{flag.replace('_', '-')}" for flag in _HSM_FLAGS if getattr(args, flag)]
    if given:
        raise ConfigError(f"{', '.join(given)}: only with --pkcs11")
    for flag in ("jurisdiction", "out"):
        if getattr(args, flag) is None:
            raise ConfigError(f"--{flag}: required for a keystore (or pass --pkcs11)")
    try:
        Validator(address=b"\x00" * 20, jurisdiction=args.jurisdiction)  # type: ignore[arg-type]
    except ValueError as err:
        raise ConfigError(f"--jurisdiction: {err}") from err
    out = Path(args.out)
    password = _read_password(args, confirm=True)
    signer = new_keystore(out, password)
    keyfile = json.loads(out.read_text())
    keyfile["jurisdiction"] = args.jurisdiction
    out.write_text(json.dumps(keyfile))
    print(
        json.dumps(
            {
                "address": checksum(signer.address),
                "jurisdiction": args.jurisdiction,
                "keystore": str(out),
            }
        )
    )
    return EXIT_OK


def _keys_new_pkcs11(args: argparse.Namespace) -> int:
    """``keys new --pkcs11``: a secp256k1 key made inside the token; prints its address."""
    from relayer.domain.types import checksum
    from relayer.keys.hsm import Pkcs11Key, create_pkcs11_key

    for flag in ("out", "password_file"):
        if getattr(args, flag) is not None:
            raise ConfigError(
                f"--{flag.replace('_', '-')}: not with --pkcs11 (the key stays in the token)"
            )
    missing = [f"--{flag.replace('_', '-')}" for flag in _HSM_FLAGS if not getattr(args, flag)]
    if missing:
        raise ConfigError(f"--pkcs11 needs {', '.join(missing)}")
    where = Pkcs11Key(
        Path(args.module), args.token_label, args.key_label, Path(args.pin_file), prefix="--"
    )
    address = create_pkcs11_key(where)
    print(
        json.dumps(
            {
                "address": checksum(address),
                "token_label": args.token_label,
                "key_label": args.key_label,
            }
        )
    )
    return EXIT_OK


def _cmd_keys_address(args: argparse.Namespace) -> int:
    from relayer.domain.types import checksum, parse_address

    if args.kms is not None:
        return _keys_address_kms(args)
    given = [flag for flag in ("region", "endpoint_url") if getattr(args, flag) is not None]
    if given:
        raise ConfigError(f"--{given[0].replace('_', '-')}: only with --kms")
    if args.keystore is None:
        raise ConfigError("name a keystore file, or pass --kms KEY_ID --region REGION")
    try:
        keyfile = json.loads(Path(args.keystore).read_text())
        address = parse_address("0x" + str(keyfile["address"]).removeprefix("0x"))
    except (OSError, ValueError, KeyError) as err:
        raise ConfigError(f"{args.keystore}: not a readable keystore file") from err
    print(checksum(address))
    return EXIT_OK


def _keys_address_kms(args: argparse.Namespace) -> int:
    """``keys address --kms``: the address of an AWS KMS key (read with GetPublicKey)."""
    from relayer.domain.types import checksum
    from relayer.keys.kms import KmsKey, KmsLimits, kms_address, kms_client

    if args.keystore is not None:
        raise ConfigError(f"{args.keystore}: a keystore file or --kms, not both")
    if args.region is None:
        raise ConfigError("--kms needs --region")
    where = KmsKey(args.kms, args.region, args.endpoint_url, prefix="--")
    limits = KmsLimits()
    client = kms_client(where, limits)
    try:
        address = kms_address(client, where, limits)
    finally:
        client.close()
    print(checksum(address))
    return EXIT_OK


def settings_of(args: argparse.Namespace) -> Settings:
    from relayer.log import configure_logging
    from relayer.settings import load_settings

    settings = load_settings(Path(args.config) if args.config else None)
    configure_logging(settings.log.format, settings.log.level)
    return settings


def _cmd_run(args: argparse.Namespace) -> int:
    from relayer.node import run_until_signalled

    settings = settings_of(args)
    return _supervise(lambda: run_until_signalled(settings))


def _cmd_bridge(args: argparse.Namespace) -> int:
    from relayer.client import actions
    from relayer.client.follow import follow

    manifest = actions.Manifest.load(Path(args.manifest))
    token = manifest.token(args.token)
    amount = actions.parse_amount(args.amount, int(token["decimals"]))
    recipient = actions.parse_recipient(args.to)
    key = args.from_key or manifest.raw["users"][0]["private_key"]
    account = actions.account_from_key(key)
    move = actions.lock if args.source == "conflux" else actions.burn
    verb = "locking" if args.source == "conflux" else "burning"
    print(f"{verb} {args.amount} {token['symbol']} from {account.address} for {recipient}")
    sent = move(manifest, account, token, amount, recipient)
    print(f"transfer {sent.transfer_id} (source tx {sent.tx_hash}, credited {sent.amount})")
    progress = follow(manifest.api_urls, sent.transfer_id, timeout=args.timeout)
    if progress.stage != "released":
        print(f"not released within {args.timeout:.0f}s: {progress.line()}")
        return EXIT_FAILURE
    held = actions.balances(manifest, token, recipient)
    side = "ethereum" if args.source == "conflux" else "conflux"
    print(f"released; {recipient} holds {held[side]} base units on {side}")
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from relayer.client.actions import Manifest
    from relayer.client.follow import collect

    key = args.key.lower()
    if not (
        key.startswith("0x") and len(key) == 66 and all(c in "0123456789abcdef" for c in key[2:])
    ):
        raise ConfigError("TRANSFER_ID_OR_TX_HASH: expected 0x and 64 hex digits")
    urls = list(args.api or []) or Manifest.load(Path(args.manifest)).api_urls
    progress = collect(urls, key)
    if args.json:
        print(
            json.dumps(
                {
                    "key": key,
                    "found": progress.found,
                    "stage": progress.stage,
                    "statuses": progress.statuses,
                    "signers": progress.signers,
                    "threshold": progress.threshold,
                    "refusals": progress.refusals,
                    "release_tx": progress.release_tx,
                    "executable_at": progress.executable_at,
                    "transfer": progress.transfer,
                },
                indent=2,
            )
        )
    else:
        print(progress.line())
        for url, status in sorted(progress.statuses.items()):
            print(f"  {url}: {status}")
    return EXIT_OK if progress.found else EXIT_FAILURE


def _leaves(err: BaseException) -> list[BaseException]:
    if isinstance(err, BaseExceptionGroup):
        return [leaf for inner in err.exceptions for leaf in _leaves(inner)]
    return [err]


def _supervise(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """The one place that catches broad exceptions: map them to exit codes.

    A bad setting (also one found at start-up, like a chain id the node contradicts) is
    exit code 2 with one line; a fatal error or any crashed task is exit code 1.
    """
    from relayer.log import get_logger

    log = get_logger("supervisor")
    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the supervisor turns any crash into an exit code
        leaves = _leaves(err)
        config = [e for e in leaves if isinstance(e, ConfigError)]
        for bad in config:
            sys.stderr.write(f"relayer: error: {bad}\n")
        if config:
            return EXIT_USAGE
        for leaf in leaves:
            if isinstance(leaf, FatalError):
                log.error("stopped by a fatal error", error=str(leaf))
            else:
                log.error("a task crashed; stopping", error=repr(leaf), exc_info=leaf)
        return EXIT_FAILURE


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from relayer.store import upgrade

    url = args.database_url or settings_of(args).database.url
    status = asyncio.run(upgrade(url))
    print(json.dumps({"database": url.split("://")[0], "revision": status.current}))
    return EXIT_OK


def _cmd_alerts(args: argparse.Namespace) -> int:
    from relayer.service.status import alert_to_json
    from relayer.store import Store
    from relayer.store.outcomes import AlertNotFound

    settings = settings_of(args)

    async def go() -> int:
        store = await Store.open(settings.database.url)
        try:
            async with store.transaction() as tx:
                if args.alerts_command == "ack":
                    outcome = await tx.acknowledge_alert(args.id, args.by)
                    print(type(outcome).__name__)
                    return EXIT_FAILURE if isinstance(outcome, AlertNotFound) else EXIT_OK
                for alert in await tx.open_alerts():
                    print(json.dumps(alert_to_json(alert)))
                return EXIT_OK
        finally:
            await store.close()

    return asyncio.run(go())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="relayer",
        formatter_class=_formatter,
        description="Validator relayer of the Conflux eSpace <-> Ethereum bridge.",
        epilog="examples:\n"
        "  relayer run --config config/devnet.toml\n"
        "  relayer keys new --jurisdiction HK --out validator.json\n"
        "  relayer status 0x5c1f…e2a9\n"
        "  relayer review list --config relayer.toml\n"
        "  relayer portal --config portal.toml\n",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run this validator's relayer until SIGTERM/SIGINT",
        formatter_class=_formatter,
        epilog="examples:\n"
        "  relayer run --config config/testnet.toml\n"
        "  RELAYER_LOG__FORMAT=console relayer run --config relayer.toml\n",
    )
    run.add_argument(
        "--config", required=True, help="TOML settings file (see docs/configuration.md)"
    )
    run.set_defaults(func=_cmd_run)

    bridge = commands.add_parser(
        "bridge",
        help="lock (or burn) tokens and follow the transfer to its release",
        formatter_class=_formatter,
        epilog="examples:\n"
        "  relayer bridge --token AxHKD --amount 12.5 --to 0x70997970C51812dc3A010C7d01b5…\n"
        "  relayer bridge --from ethereum --token bAxHKD --amount 2 --to 0x7099…79C8\n"
        "  relayer bridge --token CFX --amount 0.1 --to 0x… --from-key 0x… --manifest m.json\n",
    )
    bridge.add_argument("--token", required=True, help="symbol or address (either chain)")
    bridge.add_argument("--amount", required=True, help="in whole tokens, e.g. 12.5")
    bridge.add_argument("--to", required=True, help="recipient address on the other chain")
    bridge.add_argument(
        "--from",
        dest="source",
        choices=["conflux", "ethereum"],
        default="conflux",
        help="conflux: lock on the vault (default); ethereum: burn on the gateway",
    )
    bridge.add_argument(
        "--from-key", help="sender's private key (default: the manifest's first user)"
    )
    bridge.add_argument("--manifest", default=".devnet/manifest.json", help="bridge manifest")
    bridge.add_argument("--timeout", type=float, default=300.0, help="seconds to follow")
    bridge.set_defaults(func=_cmd_bridge)

    status = commands.add_parser(
        "status",
        help="where a transfer is and why, from every validator",
        formatter_class=_formatter,
        epilog="examples:\n"
        "  relayer status 0x5c1f…e2a9\n"
        "  relayer status 0x5c1f…e2a9 --api http://10.0.0.5:8080 --json\n",
    )
    status.add_argument("key", metavar="TRANSFER_ID_OR_TX_HASH", help="0x + 64 hex digits")
    status.add_argument("--manifest", default=".devnet/manifest.json", help="bridge manifest")
    status.add_argument("--api", action="append", help="a validator API base URL (repeatable)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=_cmd_status)

    from relayer.cli_audit import add_parsers as add_audit
    from relayer.cli_chain import add_parsers as add_chain
    from relayer.cli_portal import add_parsers as add_portal
    from relayer.cli_set import add_parsers as add_set
    from relayer.cli_supervision import add_parsers as add_supervision
    from relayer.cli_transfer import add_parsers as add_transfer
    from relayer.cli_veto import add_parsers as add_veto
    from relayer.devnet.command import add_parser as add_devnet

    add_supervision(commands, _formatter)
    add_veto(commands, _formatter)
    add_set(commands, _formatter)
    add_transfer(commands, _formatter)
    add_chain(commands, _formatter)
    add_audit(commands, _formatter)
    add_portal(commands, _formatter)
    add_devnet(commands)

    db = commands.add_parser("db", help="database schema", formatter_class=_formatter)
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_commands.add_parser(
        "upgrade",
        help="apply migrations up to the newest schema",
        formatter_class=_formatter,
        epilog="examples:\n"
        "  relayer db upgrade --config relayer.toml\n"
        "  relayer db upgrade --database-url postgresql+asyncpg://relayer@db/relayer\n",
    )
    up.add_argument("--config", help="TOML settings file (its [database] url is used)")
    up.add_argument("--database-url", help="SQLAlchemy URL, instead of --config")
    up.set_defaults(func=_cmd_db_upgrade)

    alerts = commands.add_parser(
        "alerts",
        help="list or acknowledge operator alerts (a halt stops signing until acknowledged)",
        formatter_class=_formatter,
    )
    alert_commands = alerts.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    listing = alert_commands.add_parser(
        "list",
        help="open alerts, one JSON line each",
        formatter_class=_formatter,
        epilog="example:\n  relayer alerts list --config relayer.toml\n",
    )
    listing.add_argument("--config", required=True, help="TOML settings file")
    listing.set_defaults(func=_cmd_alerts)
    ack = alert_commands.add_parser(
        "ack",
        help="acknowledge an alert after investigating it",
        formatter_class=_formatter,
        epilog="example:\n  relayer alerts ack 3 --by alice --config relayer.toml\n",
    )
    ack.add_argument("id", type=int, help="alert id (from `relayer alerts list`)")
    ack.add_argument("--by", required=True, help="who acknowledges (kept in the record)")
    ack.add_argument("--config", required=True, help="TOML settings file")
    ack.set_defaults(func=_cmd_alerts)

    keys = commands.add_parser(
        "keys", help="make and inspect validator keystores", formatter_class=_formatter
    )
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    new = key_commands.add_parser(
        "new",
        help="create an encrypted keystore, or a key inside an HSM (--pkcs11)",
        formatter_class=_formatter,
        epilog="examples:\n"
        "  relayer keys new --jurisdiction HK --out hk-1.json\n"
        "  relayer keys new --jurisdiction SG --out sg-1.json --password-file pw.txt\n"
        "  relayer keys new --pkcs11 --module /usr/lib/softhsm/libsofthsm2.so \\\n"
        "      --token-label relayer --key-label hk-1 --pin-file pin.txt\n",
    )
    new.add_argument("--jurisdiction", help="ISO 3166-1 alpha-2 code, e.g. HK (keystore)")
    new.add_argument("--out", help="keystore file to create (never overwritten)")
    new.add_argument("--password-file", help="read the password from this file, else prompt")
    hsm = new.add_argument_group("HSM (PKCS#11): the key is made in the token and never leaves it")
    hsm.add_argument("--pkcs11", action="store_true", help="make the key in a PKCS#11 token")
    hsm.add_argument("--module", help="the HSM's PKCS#11 library (.so)")
    hsm.add_argument("--token-label", help="label of the token to make the key in")
    hsm.add_argument("--key-label", help="label for the new key (refused if already taken)")
    hsm.add_argument("--pin-file", help="file holding the token's user PIN")
    new.set_defaults(func=_cmd_keys_new)
    address = key_commands.add_parser(
        "address",
        help="print the address of a keystore, or of an AWS KMS key (--kms)",
        formatter_class=_formatter,
        epilog="examples:\n  relayer keys address hk-1.json\n"
        "  relayer keys address --kms alias/relayer-hk-1 --region eu-west-1\n",
    )
    address.add_argument("keystore", nargs="?", help="keystore file")
    kms = address.add_argument_group("AWS KMS: credentials from the standard AWS chain")
    kms.add_argument("--kms", metavar="KEY_ID", help="KMS key id, ARN or alias")
    kms.add_argument("--region", help="the key's AWS region")
    kms.add_argument("--endpoint-url", help="a VPC endpoint (default: the region's)")
    address.set_defaults(func=_cmd_keys_address)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # web3 warns about every foreign log in a receipt it decodes; users don't need that.
    warnings.filterwarnings("ignore", message="The log with transaction hash")
    parser = build_parser()
    cap_recursion()  # after every import: see relayer/hardening.py
    args = parser.parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except ConfigError as err:
        sys.stderr.write(f"relayer: error: {err}\n")
        return EXIT_USAGE
    except FatalError as err:
        sys.stderr.write(f"relayer: stopped: {err}\n")
        return EXIT_FAILURE
    except RelayerError as err:
        sys.stderr.write(f"relayer: failed: {err}\n")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
