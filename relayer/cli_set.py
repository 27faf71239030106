"""``relayer set …``: rotate the validator set (docs: ops/README.md, "Rotating the validator
set").

* ``propose``: read the current set on both chains (they must agree), build the new set
  (``relayer.domain.rotation``: the contract's rules), store the proposal and print it with
  its PROPOSAL_ID; the running relayer gossips it to the other validators.
* ``approve PROPOSAL_ID``: sign both chains' ``ValidatorSetUpdate`` digests with this
  validator's key and store the signatures; the running relayer gossips them, and once a
  quorum of the current set signed, one relayer sends ``rotateValidatorSet`` on each chain.
* ``status [PROPOSAL_ID]``: where each proposal stands per chain.
* ``expire-previous --chain NAME``: end the rotated-out set's window now (incident
  procedure): sent if this validator's submitter key is admin or pauser there, else the
  exact call the admin must make is printed.

Bad input (an address or jurisdiction that is not one, a set the contract would refuse, a
proposal this relayer does not know, chains that disagree): one line naming it, exit 2,
nothing recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from relayer.errors import ConfigError

if TYPE_CHECKING:
    from relayer.chain.bridge import BridgeContract
    from relayer.domain.rotation import SetProposal
    from relayer.domain.types import Address, Hash32, ValidatorSet
    from relayer.settings import ChainSettings, Settings

EXIT_OK = 0
DEFAULT_DEADLINE_S = 3 * 86400

Formatter = Callable[[str], argparse.HelpFormatter]


@dataclass(frozen=True)
class _Chain:
    name: str  # "conflux" or "ethereum"
    settings: ChainSettings
    contract: BridgeContract


@dataclass(frozen=True)
class _Reading:
    current: ValidatorSet
    set_hash: Hash32
    now: int  # the latest block's time


@asynccontextmanager
async def _chains(settings: Settings) -> AsyncIterator[list[_Chain]]:
    from relayer.chain.bridge import BridgeContract
    from relayer.chain.rpc import RpcClient
    from relayer.domain.types import parse_address

    cfx, eth = settings.conflux, settings.ethereum
    async with (
        RpcClient(cfx.rpc_url, timeout=cfx.rpc_timeout_s, fallback_urls=cfx.rpc_urls) as c,
        RpcClient(eth.rpc_url, timeout=eth.rpc_timeout_s, fallback_urls=eth.rpc_urls) as e,
    ):
        yield [
            _Chain("conflux", cfx, BridgeContract(c, parse_address(cfx.vault), cfx.chain_id)),
            _Chain("ethereum", eth, BridgeContract(e, parse_address(eth.gateway), eth.chain_id)),
        ]


async def _read(chain: _Chain) -> _Reading:
    from relayer.chain.rotation import validator_set_hash

    current = await chain.contract.validator_set()
    set_hash = await validator_set_hash(chain.contract)
    block = await chain.contract.rpc.get_block("latest")
    return _Reading(current, set_hash, int(time.time()) if block is None else block.timestamp)


def _hash_arg(value: str) -> Hash32:
    from relayer.domain.types import Hash32, parse_hash32

    try:
        return Hash32(parse_hash32(value, "PROPOSAL_ID"))
    except ValueError as err:
        raise ConfigError(str(err)) from err


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------- propose


def _parse_change(args: argparse.Namespace) -> tuple[list[tuple[Address, str]], list[Address]]:
    from relayer.domain.types import parse_address

    add: list[tuple[Address, str]] = []
    for item in args.add or []:
        address, sep, jurisdiction = item.partition(":")
        if not sep:
            raise ConfigError(f"--add {item!r}: expected ADDRESS:JURISDICTION, e.g. 0x…:TH")
        try:
            add.append(
                (parse_address(address, "--add address", strict_checksum=True), jurisdiction)
            )
        except ValueError as err:
            raise ConfigError(str(err)) from err
    remove: list[Address] = []
    for item in args.remove or []:
        try:
            remove.append(parse_address(item, "--remove address", strict_checksum=True))
        except ValueError as err:
            raise ConfigError(str(err)) from err
    return add, remove


def _cmd_propose(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.rotation import ChainTarget, SetRefused, propose, set_difference
    from relayer.store import Store

    add, remove = _parse_change(args)
    if args.deadline_s <= 0:
        raise ConfigError("--deadline-s: must be positive")
    settings = settings_of(args)

    async def go() -> int:
        async with _chains(settings) as chains:
            readings = [await _read(c) for c in chains]
        first = readings[0].current
        for chain, reading in zip(chains[1:], readings[1:], strict=True):
            differs = set_difference(first, reading.current)
            if differs is not None:
                raise ConfigError(
                    f"the validator sets on conflux and {chain.name} differ ({differs}): "
                    "rotate them to the same set first"
                )
        targets = [
            ChainTarget(c.contract.chain_id, c.contract.address, r.set_hash)
            for c, r in zip(chains, readings, strict=True)
        ]
        now = max(r.now for r in readings)
        made = propose(
            first,
            targets,
            add,
            remove,
            args.threshold,
            args.min_jurisdictions,
            now + args.deadline_s,
            now,
        )
        if isinstance(made, SetRefused):
            raise ConfigError(f"{made.rule}: {made.detail}")
        store = await Store.open(settings.database.url)
        try:
            async with store.transaction() as tx:
                await tx.record_set_proposal(made, proposed_here=True)
        finally:
            await store.close()
        _print_proposal(made, first, chains, args.json)
        return EXIT_OK

    return asyncio.run(go())


def _proposal_json(proposal: SetProposal, current: ValidatorSet) -> dict[str, Any]:
    from relayer.domain.rotation import proposal_to_json
    from relayer.domain.types import checksum, hex32

    before = {m.address for m in current.members}
    after = {m.address for m in proposal.members}
    body = proposal_to_json(proposal)
    body["replaces_set_id"] = current.set_id
    body["added"] = [checksum(a) for a in sorted(after - before)]
    body["removed"] = [checksum(a) for a in sorted(before - after)]
    body["digests"] = {str(k): hex32(v) for k, v in proposal.digests().items()}
    return body


def _print_proposal(
    proposal: SetProposal, current: ValidatorSet, chains: list[_Chain], as_json: bool
) -> None:
    from relayer.domain.types import checksum, hex32

    pid = hex32(proposal.proposal_id)
    if as_json:
        print(json.dumps(_proposal_json(proposal, current), indent=2))
        return
    before = {m.address for m in current.members}
    names = {c.contract.chain_id: c.name for c in chains}
    digests = proposal.digests()
    distinct = len({m.jurisdiction for m in proposal.members})
    print(f"PROPOSAL_ID {pid}")
    print(f"  set {proposal.set_id} replaces set {current.set_id} on both chains")
    print(
        f"  threshold {proposal.threshold} of {len(proposal.members)} members "
        f"(was {current.threshold} of {len(current.members)}), at least "
        f"{proposal.min_jurisdictions} of {distinct} jurisdictions "
        f"(was {current.min_jurisdictions})"
    )
    print(f"  deadline {_iso(proposal.deadline)} ({proposal.deadline})")
    print("  members:")
    for m in proposal.members:
        mark = "+" if m.address not in before else " "
        print(f"   {mark} {checksum(m.address)} {m.jurisdiction}")
    for m in current.members:
        if m.address not in {n.address for n in proposal.members}:
            print(f"   - {checksum(m.address)} {m.jurisdiction}")
    for target in proposal.chains:
        print(
            f"  {names.get(target.chain_id, target.chain_id)} (chain {target.chain_id}, "
            f"{checksum(target.contract)}): replaces set hash {hex32(target.replaced_set_hash)}"
            f", digest {hex32(digests[target.chain_id])}"
        )
    print(
        "next: each validator's operator reviews it (relayer set status PROPOSAL_ID) "
        "and runs relayer set approve PROPOSAL_ID"
    )


# ----------------------------------------------------------------------- approve


def _cmd_approve(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.rotation import FINAL, SetSignature, rotation_state
    from relayer.domain.types import checksum, hex32
    from relayer.node import load_keys
    from relayer.store import Store

    pid = _hash_arg(args.proposal)
    settings = settings_of(args)

    async def go() -> int:
        store = await Store.open(settings.database.url)
        try:
            async with store.reader() as tx:
                record = await tx.set_proposal(pid)
            if record is None:
                raise ConfigError(
                    f"no proposal {hex32(pid)} in this relayer's database (it arrives by "
                    "gossip from the proposer's relayer: see relayer set status)"
                )
            proposal = record.proposal
            signer = load_keys(settings).attester
            async with _chains(settings) as chains:
                by_id = {c.contract.chain_id: c for c in chains}
                for target in proposal.chains:
                    chain = by_id.get(target.chain_id)
                    if chain is None or chain.contract.address != target.contract:
                        raise ConfigError(
                            f"proposal names chain {target.chain_id} contract "
                            f"{checksum(target.contract)}, which this relayer does not use"
                        )
                    reading = await _read(chain)
                    state = rotation_state(
                        proposal, target, reading.current, reading.set_hash, reading.now, ()
                    )
                    if isinstance(state, FINAL):
                        raise ConfigError(
                            f"proposal {hex32(pid)} can no longer apply on {chain.name}: "
                            f"{type(state).__name__.lower()}"
                        )
                    if reading.current.jurisdiction_of(signer.address) is None:
                        raise ConfigError(
                            f"{checksum(signer.address)} is not a member of the current set on "
                            f"{chain.name}: only the current set approves a rotation"
                        )
            signatures = [
                SetSignature(pid, chain_id, signer.address, digest, signer.sign_digest(digest))
                for chain_id, digest in proposal.digests().items()
            ]
            async with store.transaction() as tx:
                new = [await tx.record_set_signature(s) for s in signatures]
        finally:
            await store.close()
        line = {
            "proposal_id": hex32(pid),
            "signer": checksum(signer.address),
            "signed": {str(s.chain_id): hex32(s.digest) for s in signatures},
            "already_approved": not any(new),
            "gossiped": "by the running relayer within [pipeline] set_sweep_s",
        }
        print(json.dumps(line))
        return EXIT_OK

    return asyncio.run(go())


# ------------------------------------------------------------------------ status


async def _chain_status(
    proposal: SetProposal, chain: _Chain, signatures: Any, outcome: Any
) -> dict[str, Any]:
    from relayer.domain.quorum import evaluate_quorum
    from relayer.domain.rotation import (
        Applied,
        AwaitingQuorum,
        Expired,
        ReadyToSubmit,
        Superseded,
        rotation_state,
    )
    from relayer.domain.types import Attestation, checksum, hex32
    from relayer.errors import RelayerError

    target = proposal.target(chain.contract.chain_id)
    assert target is not None
    mine = [s for s in signatures if s.chain_id == target.chain_id]
    entry: dict[str, Any] = {
        "chain": chain.name,
        "chain_id": target.chain_id,
        "digest": hex32(proposal.digest(target)),
        "signers": [checksum(s.signer) for s in mine],
        "recorded": None
        if outcome is None
        else {
            "state": outcome.state.value,
            "tx_hash": None if outcome.tx_hash is None else hex32(outcome.tx_hash),
            "detail": outcome.detail,
        },
    }
    try:
        reading = await _read(chain)
    except RelayerError as err:
        entry["state"] = f"unknown (chain not readable: {err})"
        return entry
    state = rotation_state(proposal, target, reading.current, reading.set_hash, reading.now, mine)
    entry["deadline_passed"] = reading.now > proposal.deadline
    entry["chain_set_id"] = reading.current.set_id
    attestations = [Attestation(s.proposal_id, s.digest, s.signer, s.signature) for s in mine]
    quorum = evaluate_quorum(reading.current, proposal.digest(target), attestations)
    entry["jurisdictions"] = sorted(quorum.jurisdictions)
    entry["need"] = {
        "threshold": reading.current.threshold,
        "min_jurisdictions": reading.current.min_jurisdictions,
    }
    match state:
        case Applied():
            entry["state"] = "applied"
        case Superseded(set_id=set_id):
            entry["state"] = f"superseded (the chain is at set {set_id})"
        case Expired():
            entry["state"] = "expired (deadline passed)"
        case ReadyToSubmit():
            entry["state"] = "quorum reached: rotateValidatorSet is being sent"
        case AwaitingQuorum(shortfall=short):
            entry["state"] = f"awaiting quorum ({short.reason.value}: {short.have} of {short.need})"
    entry["quorum_reached"] = isinstance(state, ReadyToSubmit | Applied)
    return entry


def _cmd_status(args: argparse.Namespace) -> int:
    from relayer.cli import settings_of
    from relayer.domain.types import hex32
    from relayer.store import Store

    pid = None if args.proposal is None else _hash_arg(args.proposal)
    settings = settings_of(args)

    async def go() -> int:
        store = await Store.open(settings.database.url)
        try:
            async with store.reader() as tx:
                if pid is None:
                    records = list(await tx.set_proposals())
                else:
                    one = await tx.set_proposal(pid)
                    if one is None:
                        raise ConfigError(f"no proposal {hex32(pid)} in this relayer's database")
                    records = [one]
                found = [
                    (
                        r,
                        await tx.set_signatures(r.proposal.proposal_id),
                        await tx.set_outcomes(r.proposal.proposal_id),
                    )
                    for r in records
                ]
        finally:
            await store.close()
        answers: list[dict[str, Any]] = []
        async with _chains(settings) as chains:
            for record, signatures, outcomes in found:
                p = record.proposal
                per_chain = [
                    await _chain_status(p, c, signatures, outcomes.get(c.contract.chain_id))
                    for c in chains
                    if p.target(c.contract.chain_id) is not None
                ]
                answers.append(
                    {
                        "proposal_id": hex32(p.proposal_id),
                        "set_id": p.set_id,
                        "deadline": p.deadline,
                        "proposed_here": record.proposed_here,
                        "members": [f"{hex32(m.address)}:{m.jurisdiction}" for m in p.members],
                        "threshold": p.threshold,
                        "min_jurisdictions": p.min_jurisdictions,
                        "chains": per_chain,
                    }
                )
        if args.json:
            print(json.dumps(answers if pid is None else answers[0], indent=2))
            return EXIT_OK
        if not answers:
            print("no validator-set proposals")
        for a in answers:
            print(
                f"proposal {a['proposal_id']}: set {a['set_id']}, {len(a['members'])} members, "
                f"threshold {a['threshold']}, min jurisdictions {a['min_jurisdictions']}, "
                f"deadline {_iso(a['deadline'])}"
            )
            for c in a["chains"]:
                print(f"  {c['chain']}: {c['state']}")
                print(f"    signers ({len(c['signers'])}): {', '.join(c['signers']) or '-'}")
                if c["recorded"] is not None and c["recorded"]["tx_hash"]:
                    print(f"    tx {c['recorded']['tx_hash']} ({c['recorded']['state']})")
        return EXIT_OK

    return asyncio.run(go())


# ---------------------------------------------------------------- expire-previous


def _cmd_expire_previous(args: argparse.Namespace) -> int:
    from eth_utils.crypto import keccak

    from relayer.chain.rotation import (
        DEFAULT_ADMIN_ROLE,
        EXPIRE_SIGNATURE,
        PAUSER_ROLE,
        expire_calldata,
        has_role,
    )
    from relayer.chain.submission import Mined, SubmitRequest
    from relayer.chain.submitter import Submitter
    from relayer.cli import settings_of
    from relayer.domain.types import Hash32, checksum, hex32
    from relayer.node import load_keys, submitter_config
    from relayer.service.submit import StoreNonceSource
    from relayer.service.writer import Writer
    from relayer.store import Store

    settings = settings_of(args)

    async def go() -> int:
        async with _chains(settings) as chains:
            chain = next(c for c in chains if c.name == args.chain)
            contract = chain.contract
            previous = await contract.previous_validator_set()
            reading = await _read(chain)
            if previous is None or previous.valid_until < reading.now:
                raise ConfigError(
                    f"{args.chain}: no rotated-out set is valid now: nothing to expire"
                )
            key = load_keys(settings).submitter
            allowed = await has_role(contract, PAUSER_ROLE, key.address) or await has_role(
                contract, DEFAULT_ADMIN_ROLE, key.address
            )
            answer: dict[str, Any] = {
                "chain": args.chain,
                "chain_id": contract.chain_id,
                "contract": checksum(contract.address),
                "previous_set_id": previous.validator_set.set_id,
                "valid_until": previous.valid_until,
            }
            if not allowed:
                answer["sent"] = False
                answer["why"] = (
                    f"{checksum(key.address)} holds neither PAUSER_ROLE nor DEFAULT_ADMIN_ROLE"
                )
                answer["admin_call"] = {
                    "to": checksum(contract.address),
                    "function": EXPIRE_SIGNATURE,
                    "data": "0x" + expire_calldata().hex(),
                    "cast": f"cast send {checksum(contract.address)} '{EXPIRE_SIGNATURE}' "
                    f"--rpc-url {chain.settings.rpc_url} <admin or pauser signer>",
                }
                print(json.dumps(answer, indent=2))
                return EXIT_OK
            store = await Store.open(settings.database.url)
            try:
                submitter = Submitter(
                    contract.rpc,
                    key,
                    StoreNonceSource(Writer(store)),
                    submitter_config(chain.settings),
                )
                key_id = Hash32(keccak(expire_calldata() + contract.address))
                request = SubmitRequest(  # no pre-flight view (batch), nothing to journal
                    key_id, contract.address, expire_calldata(), batch=(key_id,), journaled=False
                )
                outcome = await submitter.submit(request)
            finally:
                await store.close()
            answer["sent"] = isinstance(outcome, Mined)
            answer["outcome"] = repr(outcome)
            if isinstance(outcome, Mined):
                answer["tx_hash"] = hex32(outcome.tx_hash)
            print(json.dumps(answer, indent=2))
            return EXIT_OK if isinstance(outcome, Mined) else 1

    return asyncio.run(go())


# ----------------------------------------------------------------------- parsers


def add_parsers(commands: Any, formatter: Formatter) -> None:
    """Register ``set`` and its actions on the ``relayer`` command's sub-parsers."""
    group = commands.add_parser(
        "set",
        help="rotate the validator set: propose, approve, watch, expire the previous set",
        formatter_class=formatter,
        epilog='runbook: ops/README.md, "Rotating the validator set"',
    )
    actions = group.add_subparsers(dest="set_command", metavar="ACTION", required=True)

    propose = actions.add_parser(
        "propose",
        help="propose a new set (read from both chains, checked like the contract) and store it",
        formatter_class=formatter,
        epilog="example:\n  relayer set propose --add 0x7099…79C8:TH --threshold 5 "
        "--min-jurisdictions 3 --config relayer.toml\n",
    )
    propose.add_argument(
        "--add", action="append", metavar="ADDRESS:JURISDICTION", help="a new member (repeatable)"
    )
    propose.add_argument(
        "--remove", action="append", metavar="ADDRESS", help="a member to drop (repeatable)"
    )
    propose.add_argument("--threshold", type=int, required=True, help="signatures needed")
    propose.add_argument(
        "--min-jurisdictions", type=int, required=True, help="distinct jurisdictions needed"
    )
    propose.add_argument(
        "--deadline-s",
        type=int,
        default=DEFAULT_DEADLINE_S,
        help=f"the approval expires this many seconds from now (default {DEFAULT_DEADLINE_S})",
    )
    propose.add_argument("--json", action="store_true", help="machine-readable output")
    propose.add_argument("--config", required=True, help="TOML settings file")
    propose.set_defaults(func=_cmd_propose)

    approve = actions.add_parser(
        "approve",
        help="sign a proposal for both chains with this validator's key (then gossiped)",
        formatter_class=formatter,
        epilog="example:\n  relayer set approve 0x3f0c…91d2 --config relayer.toml\n",
    )
    approve.add_argument("proposal", metavar="PROPOSAL_ID", help="0x + 64 hex digits")
    approve.add_argument("--config", required=True, help="TOML settings file")
    approve.set_defaults(func=_cmd_approve)

    status = actions.add_parser(
        "status",
        help="where proposals stand per chain: signers, quorum, transaction, applied, expired",
        formatter_class=formatter,
        epilog="examples:\n  relayer set status --config relayer.toml\n"
        "  relayer set status 0x3f0c…91d2 --json --config relayer.toml\n",
    )
    status.add_argument("proposal", metavar="PROPOSAL_ID", nargs="?", help="one proposal")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--config", required=True, help="TOML settings file")
    status.set_defaults(func=_cmd_status)

    expire = actions.add_parser(
        "expire-previous",
        help="end the rotated-out set's window now (sent if this key may, else the admin call)",
        formatter_class=formatter,
        epilog="example:\n  relayer set expire-previous --chain ethereum --config relayer.toml\n",
    )
    expire.add_argument("--chain", required=True, choices=["conflux", "ethereum"])
    expire.add_argument("--config", required=True, help="TOML settings file")
    expire.set_defaults(func=_cmd_expire_previous)
