"""``relayer devnet``: a whole local bridge in one command, and a demo transfer.

Starts a Conflux dev node, anvil, an MQTT broker and N validator relayers (each its own
OS process and database), deploys and registers the contracts and demo tokens, funds
users, writes the manifest once everything is up, bridges a demo transfer while
showing its progress (and exits 1 unless the recipient received exactly the amount),
then stays up until Ctrl-C (or SIGTERM) and stops every process it started.

The chains are new at every start, so the previous run's relayer state in the workdir
(databases, configs, packs) is removed first. One devnet runs per workdir: while one
runs, another start there refuses (exit 2) and names the workdir and the pid.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

# The tooling itself is imported when the command runs, not when its arguments are
# declared: every `relayer` process builds this parser, including `relayer run`, which
# must not load the devnet, the deployment or the client (tests/unit/test_layers.py).
if TYPE_CHECKING:
    from relayer.client.actions import Manifest
    from relayer.devnet.portal import DevnetPortal
    from relayer.devnet.stack import Stack, StackOptions
from relayer.errors import ConfigError

DEMO_AMOUNT = 12_500_000  # 12.5 of the 6-decimals HKD-style stablecoin: executes at once
# 600: at least the devnet's large-transfer threshold (500 AxHKD): delayed, then executed
DEMO_LARGE_AMOUNT = 600_000_000
DEMO_BALANCE_WAIT_S = 10.0  # after "released", for the balance to show the release


def _say(text: str) -> None:
    print(f"[devnet] {text}", flush=True)


def options_from(args: argparse.Namespace) -> StackOptions:
    """Validate the command line into stack options (ConfigError names the flag)."""
    from relayer.devnet.stack import StackOptions

    jurisdictions = tuple(j.strip() for j in args.jurisdictions.split(",") if j.strip())
    for code in jurisdictions:
        if len(code) != 2 or not code.isascii() or not code.isalpha() or not code.isupper():
            raise ConfigError(f"--jurisdictions: {code!r} is not a two-letter upper-case code")
    n = args.validators
    if not 1 <= n <= 32:
        raise ConfigError("--validators: must be 1 to 32")
    floor = (2 * n) // 3 + 1
    threshold = args.threshold if args.threshold is not None else floor
    if not floor <= threshold <= n:
        raise ConfigError(f"--threshold: must be between floor(2n/3)+1 = {floor} and n = {n}")
    distinct = len(set(jurisdictions[i % len(jurisdictions)] for i in range(n)))
    if not 1 <= args.min_jurisdictions <= distinct:
        raise ConfigError(
            f"--min-jurisdictions: must be 1 to {distinct} (distinct jurisdictions in the set)"
        )
    if not 50 <= args.block_time_ms <= 10_000:
        raise ConfigError("--block-time-ms: must be 50 to 10000")
    if not 1 <= args.delay_s <= 7 * 86_400:
        raise ConfigError("--delay-s: must be 1 to 604800 (7 days, the contracts' maximum)")
    hsm: list[int] = []
    for part in (p.strip() for p in (args.hsm_validators or "").split(",")):
        if part and (not part.isdigit() or not 0 <= int(part) < n):
            raise ConfigError(f"--hsm-validators: {part!r} is not a validator index 0..{n - 1}")
        if part:
            hsm.append(int(part))
    urls = None
    if args.database_url_template:
        if "{index}" not in args.database_url_template:
            raise ConfigError("--database-url-template: must contain {index}")
        urls = [args.database_url_template.format(index=i) for i in range(n)]
    return StackOptions(
        validators=n,
        threshold=threshold,
        min_jurisdictions=args.min_jurisdictions,
        jurisdictions=jurisdictions,
        block_time_ms=args.block_time_ms,
        delay_s=args.delay_s,
        database_urls=urls,
        log_format="json",
        hsm_validators=tuple(sorted(set(hsm))),
    )


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class DemoError(RuntimeError):
    """The demo transfer did not deliver exactly its amount (the devnet exits 1)."""


def check_delivered(before: int, after: int, amount: int, what: str) -> None:
    """Raise :class:`DemoError` unless ``after`` is exactly ``before + amount``."""
    if after - before != amount:
        raise DemoError(
            f"{what}: the recipient's balance rose by {after - before} smallest units, "
            f"expected exactly {amount}"
        )


def wait_delivered(
    read: Callable[[], int],
    before: int,
    amount: int,
    what: str,
    timeout: float = DEMO_BALANCE_WAIT_S,
    poll: float = 0.25,
) -> int:
    """Poll ``read`` until it is ``before + amount`` (a node may answer from an older block
    for a moment after the release); then, or after ``timeout``, check it exactly."""
    deadline = time.monotonic() + timeout
    after = read()
    while after - before < amount and time.monotonic() < deadline:
        time.sleep(poll)
        after = read()
    check_delivered(before, after, amount, what)
    return after


def _demo(stack: Stack, manifest: Manifest) -> None:
    """One transfer that executes at once, one that the governor delays (then executes).

    Each must raise the recipient's balance on Ethereum by exactly its amount: anything
    else (not released in time, nothing or something else arrived) raises DemoError.
    """
    from relayer.client.actions import balances, lock
    from relayer.client.follow import follow

    user = stack.users[0]
    recipient = stack.users[1].address
    token = manifest.token("AxHKD")
    scale = 10 ** token["decimals"]
    for amount, kind in ((DEMO_AMOUNT, "immediate"), (DEMO_LARGE_AMOUNT, "delayed")):
        before = balances(manifest, token, recipient)["ethereum"]
        _say(f"demo ({kind}): {user.address} locks {amount / scale} AxHKD for {recipient}")
        sent = lock(manifest, user, token, amount, recipient)
        _say(f"locked: transfer {sent.transfer_id} (tx {sent.tx_hash})")
        progress = follow(manifest.api_urls, sent.transfer_id, timeout=180, emit=print)
        what = f"demo ({kind}) transfer {sent.transfer_id}"
        if progress.stage != "released":
            raise DemoError(f"{what} not released within 180 s: {progress.line()}")
        after = wait_delivered(
            lambda: balances(manifest, token, recipient)["ethereum"], before, amount, what
        )
        _say(
            f"released: {recipient} holds {(after - before) / scale} more bAxHKD on Ethereum, "
            f"exactly the amount (tx {progress.release_tx})"
        )


def run(args: argparse.Namespace) -> int:
    from relayer.client.actions import Manifest
    from relayer.devnet import workdir as workdir_lock
    from relayer.devnet.databases import reset_database
    from relayer.devnet.portal import start_portal
    from relayer.devnet.processes import DevnetError
    from relayer.devnet.stack import Stack

    options = options_from(args)
    workdir = Path(args.workdir).resolve()
    manifest_path = Path(args.manifest)
    # Refuses (WorkdirBusyError: exit 2) while another devnet runs here; nothing of that
    # devnet (its state, its manifest) is touched before this succeeds.
    held = workdir_lock.acquire(workdir)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    stack: Stack | None = None
    portal: DevnetPortal | None = None
    started = time.monotonic()
    try:
        # New chains every start: the previous run's relayer state describes chains that
        # are gone, so it goes (databases, per-validator folders, packs, broker files).
        cleared = workdir_lock.clear_previous_run(workdir)
        for url in options.database_urls or ():
            reset_database(url)
        if cleared or options.database_urls:
            _say(f"cleared the previous run's relayer state in {workdir}")
        stack = Stack.up(options, workdir, say=_say)
        stack.write_manifest(manifest_path)
        _say(f"bridge up in {time.monotonic() - started:.0f}s; manifest: {manifest_path}")
        for v in stack.validators:
            _say(f"  validator {v.index} {v.address} ({v.jurisdiction}) api {v.http_url}")
        _say(
            f"  threshold {stack.vset.threshold} of {len(stack.validators)}, "
            f"at least {stack.vset.min_jurisdictions} jurisdictions"
        )
        for jurisdiction, pack in sorted(stack.packs.items()):
            _say(
                f"  {jurisdiction} policy pack {pack.path.name} ({pack.hash[:18]}…), "
                f"signed by its dev supervisor {pack.supervisor}"
            )
        portal = start_portal(stack)
        _say(f"  portal (page and public status API): {portal.url}/")
        if not args.no_demo:
            _demo(stack, Manifest.load(manifest_path))
        _say("running; press Ctrl-C to stop")
        while True:
            for index, process in list(stack.relayers.items()):
                code = process.exit_code()
                if code is not None:
                    _say(f"validator {index} exited with code {code}; see {process.log_path}")
                    stack.relayers.pop(index)
            time.sleep(1.0)
    except KeyboardInterrupt:
        _say("stopping")
        return 0
    except DemoError as err:
        _say(f"FAILED: {err}; relayer logs: {workdir}/validator-*/relayer.log")
        sys.stderr.write(f"relayer: devnet demo failed: {err}\n")
        return 1
    except DevnetError as err:
        _say(f"failed: {err}")
        return 1
    finally:
        if portal is not None:
            portal.stop()
        if stack is not None:
            stack.stop()
        manifest_path.unlink(missing_ok=True)
        held.release()
        _say("stopped every process it started")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "devnet",
        help="run a whole local bridge (both chains, broker, validators) and a demo transfer",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__,
        epilog="examples:\n"
        "  relayer devnet\n"
        "  relayer devnet --validators 7 --jurisdictions HK,SG,AE,TH --min-jurisdictions 3\n"
        "  relayer devnet --database-url-template "
        "'postgresql+asyncpg://postgres@127.0.0.1/devnet_{index}' --no-demo\n",
    )
    parser.add_argument("--validators", type=int, default=5, help="how many (default 5)")
    parser.add_argument("--threshold", type=int, help="signatures needed (default 2n/3+1)")
    parser.add_argument("--min-jurisdictions", type=int, default=2, help="default 2")
    parser.add_argument("--jurisdictions", default="HK,SG,AE", help="assigned round-robin")
    parser.add_argument("--manifest", default=".devnet/manifest.json", help="where to write it")
    parser.add_argument(
        "--workdir",
        default=".devnet",
        help="logs, configs and databases (one devnet at a time; cleared at each start)",
    )
    parser.add_argument("--no-demo", action="store_true", help="skip the demo transfer")
    parser.add_argument("--block-time-ms", type=int, default=250, help="Conflux dev block time")
    parser.add_argument(
        "--delay-s",
        type=int,
        default=10,
        help="delay of large or over-limit transfers (default 10; 24 h in production)",
    )
    parser.add_argument(
        "--database-url-template",
        help="per-validator database URL with {index}, e.g. postgresql+asyncpg://…/devnet_{index}",
    )
    parser.add_argument(
        "--hsm-validators",
        default="",
        help="comma-separated validator indexes whose attesting key lives in a SoftHSM2 token "
        "(e.g. 2), as an operator's key would in an HSM",
    )
    parser.set_defaults(func=run)
