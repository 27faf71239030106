"""``relayer transfer bundle|retry``: the operator's tools for a stuck transfer.

``bundle TRANSFER_ID`` prints the release this relayer signed (the ``Release`` struct, the
destination contract and chain), its signature bundle (the stored quorum: what the
submitter sends; else one made from the stored attestations by the quorum rule, against
the destination's sets read from its node) and ready ways to send it from any account: the
raw calldata and a ``cast send`` line (Foundry). With no quorum stored or makeable it names
the members whose signatures are missing and exits 1. Only reads.

``retry TRANSFER_ID`` queues the transfer's pending effects again (``RetryRequested``
through ``domain.step``, in one store transaction): our attestation published anew, the
release or ``executeDelayed`` queued again (a done one re-armed). The running relayer's
stages pick them up on their next round. A transfer with nothing of ours to retry
(released, refused, vetoed, cancelled, not signed yet) is named with why, exit 1.

A malformed id, or one this relayer does not know: one line, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relayer.errors import ConfigError

if TYPE_CHECKING:
    from relayer.domain.quorum import QuorumMet
    from relayer.domain.types import Address, Hash32, Release, ValidatorSet
    from relayer.settings import Settings
    from relayer.store import Transaction

EXIT_OK = 0
EXIT_FAILURE = 1
RELEASE_TUPLE = "(bytes32,uint64,uint64,address,address,uint256)"

Formatter = Callable[[str], argparse.HelpFormatter]


@dataclass(frozen=True, slots=True)
class DestinationOf:
    """Where a transfer's release goes: chain, contract, function and the node to read."""

    chain: str  # "ethereum" or "conflux"
    chain_id: int
    contract: Address
    function: str  # "release" (gateway) or "unlock" (vault)
    rpc_url: str
    rpc_timeout_s: float


def destination_of(settings: Settings, dst_chain_id: int) -> DestinationOf | None:
    """The bridge contract this relayer knows on ``dst_chain_id`` (None: none)."""
    from relayer.domain.types import parse_address

    if dst_chain_id == settings.ethereum.chain_id:
        eth = settings.ethereum
        gateway = parse_address(eth.gateway)
        return DestinationOf(
            "ethereum", eth.chain_id, gateway, "release", eth.rpc_url, eth.rpc_timeout_s
        )
    if dst_chain_id == settings.conflux.chain_id:
        cfx = settings.conflux
        vault = parse_address(cfx.vault)
        return DestinationOf(
            "conflux", cfx.chain_id, vault, "unlock", cfx.rpc_url, cfx.rpc_timeout_s
        )
    return None


def _transfer_id(text: str) -> Hash32:
    from relayer.domain.types import Hash32, parse_hash32

    try:
        return Hash32(parse_hash32(text, "TRANSFER_ID"))
    except ValueError as err:
        raise ConfigError(str(err)) from err


def cast_line(dst: DestinationOf, release: Release, bundle: bytes) -> str:
    """``cast send`` of the release with its ABI signature and arguments (any sender)."""
    from relayer.domain.types import checksum, hex32

    struct = ",".join(
        (
            hex32(release.transfer_id),
            str(release.src_chain_id),
            str(release.nonce),
            checksum(release.token),
            checksum(release.recipient),
            str(release.amount),
        )
    )
    words = [
        "cast",
        "send",
        checksum(dst.contract),
        f"{dst.function}({RELEASE_TUPLE},bytes)",
        f"({struct})",
        "0x" + bundle.hex(),
    ]
    return " ".join(shlex.quote(w) for w in words) + ' --rpc-url "$RPC_URL" --private-key "$KEY"'


async def _sets_of(dst: DestinationOf) -> tuple[ValidatorSet, ...]:
    """The destination's accepted sets now (current first), read from its node."""
    from relayer.chain.bridge import BridgeContract
    from relayer.chain.rpc import RpcClient
    from relayer.service.books import SetBook

    async with RpcClient(dst.rpc_url, timeout=dst.rpc_timeout_s) as rpc:
        book = SetBook(contracts={dst.chain_id: BridgeContract(rpc, dst.contract, dst.chain_id)})
        await book.refresh()
    return book.sets_for(dst.chain_id)


async def _missing(
    tx: Transaction, sets: tuple[ValidatorSet, ...], tid: Hash32, digest: Hash32
) -> dict[str, Any]:
    """Why there is no quorum: per accepted set, who signed, who has not, what is short."""
    from relayer.domain.quorum import QuorumNotMet, evaluate_quorum
    from relayer.domain.types import Attestation, checksum

    stored = await tx.attestations_for(tid, digest)
    attestations = [Attestation(s.transfer_id, s.digest, s.signer, s.signature) for s in stored]
    per_set = []
    for vset in sets:
        outcome = evaluate_quorum(vset, digest, attestations)
        signed = {a.signer for a in attestations}
        per_set.append(
            {
                "set_id": vset.set_id,
                "threshold": vset.threshold,
                "min_jurisdictions": vset.min_jurisdictions,
                "short": None
                if not isinstance(outcome, QuorumNotMet)
                else f"{outcome.reason.value}: {outcome.have} of {outcome.need}",
                "signed": [checksum(m.address) for m in vset.members if m.address in signed],
                "missing": [
                    {"validator": checksum(m.address), "jurisdiction": m.jurisdiction}
                    for m in vset.members
                    if m.address not in signed
                ],
            }
        )
    return {"attestations_stored": len(stored), "sets": per_set}


def _bundle_json(
    tid: Hash32, status: str, dst: DestinationOf, release: Release, quorum: QuorumMet, source: str
) -> dict[str, Any]:
    from relayer.chain.bridge import release_calldata
    from relayer.domain.types import checksum, hex32

    return {
        "transfer_id": hex32(tid),
        "status": status,
        "destination": {
            "chain": dst.chain,
            "chain_id": dst.chain_id,
            "contract": checksum(dst.contract),
            "function": f"{dst.function}({RELEASE_TUPLE},bytes)",
        },
        "release": {
            "transferId": hex32(release.transfer_id),
            "srcChainId": release.src_chain_id,
            "nonce": release.nonce,
            "token": checksum(release.token),
            "recipient": checksum(release.recipient),
            "amount": str(release.amount),
        },
        "bundle": {
            "source": source,
            "digest": hex32(quorum.digest),
            "signers": [checksum(s) for s in quorum.signers],
            "jurisdictions": sorted(quorum.jurisdictions),
            "signatures": "0x" + quorum.bundle.hex(),
        },
        "calldata": "0x" + release_calldata(dst.function, release, quorum.bundle).hex(),
        "cast": cast_line(dst, release, quorum.bundle),
    }


def _print_bundle(out: dict[str, Any]) -> None:
    dst, rel, bundle = out["destination"], out["release"], out["bundle"]
    print(f"transfer {out['transfer_id']} ({out['status']})")
    print(f"destination: {dst['chain']} (chain {dst['chain_id']}) {dst['contract']}")
    print(f"function: {dst['function']}")
    for name, value in rel.items():
        print(f"  {name}: {value}")
    print(f"bundle ({bundle['source']}): {len(bundle['signers'])} signatures over")
    print(f"  digest {bundle['digest']}, jurisdictions {', '.join(bundle['jurisdictions'])}")
    for signer in bundle["signers"]:
        print(f"  {signer}")
    print(f"calldata: {out['calldata']}")
    print("send it from any funded account (set RPC_URL and KEY):")
    print(f"  {out['cast']}")
    print(f'  or: cast send {dst["contract"]} --data {out["calldata"]} --rpc-url "$RPC_URL" ...')


def _cmd_bundle(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.types import hex32
    from relayer.service.processor import load_state, quorum_of
    from relayer.store import Store

    tid = _transfer_id(args.transfer)
    settings = settings_of(args)

    async def go() -> int:
        store = await Store.open(settings.database.url)
        try:
            async with store.reader() as tx:
                state = await load_state(tx, tid, None)
                if state is None:
                    raise ConfigError(f"no transfer {hex32(tid)} in this relayer's database")
                status = state.status.value
                dst = destination_of(settings, state.event.dst_chain_id)
                if dst is None:
                    raise ConfigError(
                        f"transfer {hex32(tid)} goes to chain {state.event.dst_chain_id}, "
                        "where this relayer knows no bridge contract"
                    )
                if state.release is None or state.digest is None:
                    print(f"transfer {hex32(tid)} is {status}: this relayer has not signed it")
                    return EXIT_FAILURE
                quorum, source = state.quorum, "stored quorum (what the submitter sends)"
                missing: dict[str, Any] | None = None
                if quorum is None:
                    sets = await _sets_of(dst)
                    quorum = await quorum_of(tx, sets, tid, state.digest)
                    source = "made now from the stored attestations"
                    if quorum is None:
                        missing = await _missing(tx, sets, tid, state.digest)
        finally:
            await store.close()
        if missing is not None or quorum is None:
            _report_missing(hex32(tid), status, missing or {}, as_json=args.json)
            return EXIT_FAILURE
        out = _bundle_json(tid, status, dst, state.release, quorum, source)
        if args.json:
            print(json.dumps(out, indent=2))
        else:
            _print_bundle(out)
        return EXIT_OK

    return asyncio.run(go())


def _report_missing(tid: str, status: str, missing: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"transfer_id": tid, "status": status, "quorum": None, **missing}))
        return
    print(f"transfer {tid} ({status}): no quorum in this relayer's database")
    print(f"  {missing.get('attestations_stored', 0)} attestations stored")
    for vset in missing.get("sets", []):
        print(
            f"  set {vset['set_id']} (threshold {vset['threshold']}, "
            f"{vset['min_jurisdictions']} jurisdictions): {vset['short']}"
        )
        for who in vset["missing"]:
            print(f"    missing: {who['validator']} ({who['jurisdiction']})")


def _cmd_retry(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.transfer import Rejected
    from relayer.domain.types import hex32
    from relayer.service.processor import requeue
    from relayer.store import Store

    tid = _transfer_id(args.transfer)
    settings = settings_of(args)

    async def go() -> int:
        store = await Store.open(settings.database.url)
        try:
            async with store.transaction() as tx:  # the store's one writing transaction
                if await tx.get_transfer(tid) is None:
                    raise ConfigError(f"no transfer {hex32(tid)} in this relayer's database")
                outcome = await requeue(tx, tid)
        finally:
            await store.close()
        if isinstance(outcome, Rejected):
            print(f"transfer {hex32(tid)}: nothing to retry: {outcome.reason}")
            return EXIT_FAILURE
        line = {
            "transfer_id": hex32(tid),
            "status": outcome.status.value,
            "queued": {name: type(done).__name__ for name, done in outcome.effects},
            "applied": "on the running relayer's next round",
        }
        print(json.dumps(line))
        return EXIT_OK

    return asyncio.run(go())


def add_parsers(commands: Any, formatter: Formatter) -> None:
    """Register ``transfer`` on the ``relayer`` command's sub-parsers."""
    transfer = commands.add_parser(
        "transfer",
        help="a stuck transfer: its release and bundle, or its effects queued again",
        formatter_class=formatter,
    )
    actions = transfer.add_subparsers(dest="transfer_command", metavar="ACTION", required=True)
    bundle = actions.add_parser(
        "bundle",
        help="the release, its signature bundle, the calldata and a cast line to send it",
        formatter_class=formatter,
        epilog="examples:\n"
        "  relayer transfer bundle 0x5c1f…e2a9 --config relayer.toml\n"
        "  relayer transfer bundle 0x5c1f…e2a9 --config relayer.toml --json\n",
    )
    bundle.add_argument("transfer", metavar="TRANSFER_ID", help="0x + 64 hex digits")
    bundle.add_argument("--config", required=True, help="TOML settings file")
    bundle.add_argument("--json", action="store_true", help="machine-readable output")
    bundle.set_defaults(func=_cmd_bundle)
    retry = actions.add_parser(
        "retry",
        help="queue the transfer's pending effects again (publish, release, executeDelayed)",
        formatter_class=formatter,
        epilog="example:\n  relayer transfer retry 0x5c1f…e2a9 --config relayer.toml\n",
    )
    retry.add_argument("transfer", metavar="TRANSFER_ID", help="0x + 64 hex digits")
    retry.add_argument("--config", required=True, help="TOML settings file")
    retry.set_defaults(func=_cmd_retry)
