"""The ``relayer`` command.

Every sub-command has ``--help`` with examples. A wrong argument or a bad setting
prints one line naming what was wrong and exits with code 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from relayer.errors import ConfigError, FatalError, RelayerError

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


def _cmd_keys_new(args: argparse.Namespace) -> int:
    from relayer.domain.types import Validator, checksum
    from relayer.keys import new_keystore

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


def _cmd_keys_address(args: argparse.Namespace) -> int:
    from relayer.domain.types import checksum, parse_address

    try:
        keyfile = json.loads(Path(args.keystore).read_text())
        address = parse_address("0x" + str(keyfile["address"]).removeprefix("0x"))
    except (OSError, ValueError, KeyError) as err:
        raise ConfigError(f"{args.keystore}: not a readable keystore file") from err
    print(checksum(address))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="relayer",
        formatter_class=_formatter,
        description="Validator relayer of the Conflux eSpace <-> Ethereum bridge.",
        epilog="examples:\n"
        "  relayer run --config config/devnet.toml\n"
        "  relayer keys new --jurisdiction HK --out validator.json\n"
        "  relayer status 0x5c1f…e2a9\n",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    keys = commands.add_parser(
        "keys", help="make and inspect validator keystores", formatter_class=_formatter
    )
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    new = key_commands.add_parser(
        "new",
        help="create an encrypted keystore",
        formatter_class=_formatter,
        epilog="examples:\n"
        "  relayer keys new --jurisdiction HK --out hk-1.json\n"
        "  relayer keys new --jurisdiction SG --out sg-1.json --password-file pw.txt\n",
    )
    new.add_argument("--jurisdiction", required=True, help="ISO 3166-1 alpha-2 code, e.g. HK")
    new.add_argument("--out", required=True, help="keystore file to create (never overwritten)")
    new.add_argument("--password-file", help="read the password from this file, else prompt")
    new.set_defaults(func=_cmd_keys_new)
    address = key_commands.add_parser(
        "address",
        help="print the address of a keystore",
        formatter_class=_formatter,
        epilog="example:\n  relayer keys address hk-1.json\n",
    )
    address.add_argument("keystore", help="keystore file")
    address.set_defaults(func=_cmd_keys_address)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
