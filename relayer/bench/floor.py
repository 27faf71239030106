"""The CPU floor of one transfer in one relayer, piece by piece, with the production code.

``python -m relayer.bench.floor`` times (``time.process_time``: this process, every thread)
each piece of work ONE relayer does for ONE transfer (Conflux -> Ethereum, 4 of 5), calling
the project's own functions, and prints one JSON object on its last line:

- ``decode_log``: the node's JSON log -> ``parse_log`` -> ``EventDecoder.decode``;
- ``policy_route``: ``policy.evaluate`` and ``routing.route_release``;
- ``digest``: ``release_digest`` (EIP-712), once;
- ``sign``: ``keys.Signer.sign_digest`` (the relayer's signer), once;
- ``recover_4``: ``recover_signer`` of the four peer signatures;
- ``gossip_wire``: ``encode_attestation`` of ours and ``wire.decode`` of four peers';
- ``lifecycle``: the six ``lifecycle.step`` calls (confirmed ... released);
- ``store_batched``: ``relayer.bench.floor_store``'s production writes, ``--batch`` (64)
  transfers per transaction; ``store_per_input``: the same, one transaction per input as the
  service calls them; ``store_raw_sqlite``: the same rows with stdlib ``sqlite3``.

The service today does more than the floor: it computes the digest 9 times per transfer
(policy, then twice per peer attestation: ``check_alone`` and ``expected_release``) and
``evaluate_quorum`` re-recovers every stored signature on each of the 5 quorum checks
(1 + 2 + 3 + 4 + 5 recoveries): ``quorum_rechecks_today`` measures those checks.

``floor_cpu_s_per_transfer_per_relayer`` sums the pieces once each with the batched store;
``max_transfers_per_second_5_relayers_on_2_cores`` divides the cores the relayers can have by
five times that floor. The rest of the stack (two chains, the broker, the load generator) is
not measured here: its share is taken from pipeline run 25 (docs/performance.md), as the
JSON states. Network I/O, MQTT and asyncio scheduling are not in the floor.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from relayer.bench import floor_raw, floor_store
from relayer.chain.events import BridgeEvent, EventDecoder, encode_event_log
from relayer.chain.rpc_types import parse_log
from relayer.domain import lifecycle
from relayer.domain.digest import release_digest, transfer_id
from relayer.domain.policy import Policy, evaluate
from relayer.domain.quorum import QuorumMet, evaluate_quorum
from relayer.domain.routing import route_release
from relayer.domain.signature import recover_signer
from relayer.domain.transfer import (
    Confirmed,
    OwnSignature,
    PolicyDecided,
    QuorumReached,
    ReleaseConfirmed,
    SubmissionSent,
    TransferState,
    Transition,
)
from relayer.domain.types import (
    Address,
    Attestation,
    EvmDomain,
    Hash32,
    Release,
    SourceEvent,
    Validator,
    ValidatorSet,
)
from relayer.gossip import wire
from relayer.keys import signer_from_hex

CFX, ETH, VAULT, MIRROR = floor_store.CFX, floor_store.ETH, floor_store.VAULT, floor_store.MIRROR
TOKEN, GATEWAY = Address(b"\x0c" * 20), Address(b"\x0b" * 20)
CORES = 2
JURISDICTIONS = ("HK", "SG", "HK", "SG", "CH")  # ours, then the four peers'
# pipeline run 25 (docs/performance.md, this machine): 2.32 transfers/s with the five relayers
# at 0.76 CPU-s per transfer together, the two cores saturated; what is left is the share of
# the chains, the broker and the load generator (an upper bound: the cores were not all busy)
RUN25_TPS, RUN25_RELAYERS_CPU_S = 2.32, 0.76
OTHERS_CORES = CORES - RUN25_TPS * RUN25_RELAYERS_CPU_S
TODAY_MEASURED_CPU_S_PER_RELAYER = (0.76 / 5, 0.91 / 5)  # runs 22-25


def _timed(fn: Callable[[int], object], n: int) -> float:
    """CPU microseconds per call of ``fn(i)``, ``i`` in ``range(n)``."""
    start = time.process_time()
    for i in range(n):
        fn(i)
    return (time.process_time() - start) / n * 1e6


def _release(routes: dict[tuple[int, Address], tuple[int, Address]], event: SourceEvent) -> Release:
    release = route_release(routes, event)
    assert isinstance(release, Release), release
    return release


def cpu_pieces(n: int) -> dict[str, float]:
    """Microseconds of CPU per transfer of each piece that is not the store."""
    signer = signer_from_hex("0x" + "46" * 32)
    peers = [signer_from_hex("0x" + f"{0x51 + k:02x}" * 32) for k in range(4)]
    members = [
        Validator(s.address, j) for s, j in zip([signer, *peers], JURISDICTIONS, strict=True)
    ]
    vset = ValidatorSet(1, tuple(sorted(members, key=lambda v: v.address)), 4, 2)
    domain = EvmDomain(ETH, GATEWAY)
    policy = Policy(allowed_tokens=frozenset({(CFX, TOKEN)}), max_amounts={(CFX, TOKEN): 10**30})
    routes = {(CFX, TOKEN): (ETH, MIRROR)}
    events = [
        replace(i.event, transfer_id=transfer_id(CFX, VAULT, i.event.nonce), src_token=TOKEN)
        for i in floor_store.make_items(1, n)
    ]
    texts = [json.dumps(_rpc_log(e)) for e in events]
    releases = [_release(routes, e) for e in events]
    digests = [release_digest(domain, r) for r in releases]
    own = [
        Attestation(e.transfer_id, d, signer.address, signer.sign_digest(d))
        for e, d in zip(events, digests, strict=True)
    ]
    att = [
        [Attestation(e.transfer_id, d, p.address, p.sign_digest(d)) for p in peers]
        for e, d in zip(events, digests, strict=True)
    ]
    messages = [
        [
            wire.AttestationMessage(
                release=r,
                dst_chain_id=ETH,
                set_id=1,
                digest=a.digest,
                signer=a.signer,
                signature=a.signature,
            )
            for a in [o, *p]
        ]
        for r, o, p in zip(releases, own, att, strict=True)
    ]
    payloads = [[wire.encode_attestation(m) for m in ms[1:]] for ms in messages]
    quorums = [
        evaluate_quorum(vset, d, [o, *a[:3]]) for d, o, a in zip(digests, own, att, strict=True)
    ]
    tx_hash = Hash32(b"\x01" * 32)
    decoder = EventDecoder(BridgeEvent.LOCKED, VAULT, CFX)

    def steps(i: int) -> None:
        e, q = events[i], quorums[i]
        assert isinstance(q, QuorumMet)
        approved = PolicyDecided(e.transfer_id, evaluate(policy, e), releases[i], digests[i])
        inputs = (
            Confirmed(e),
            approved,
            OwnSignature(own[i]),
            QuorumReached(e.transfer_id, q),
            SubmissionSent(e.transfer_id, tx_hash),
            ReleaseConfirmed(e.transfer_id, tx_hash),
        )
        state: TransferState | None = None
        for step_input in inputs:
            outcome = lifecycle.step(state, step_input)
            assert isinstance(outcome, Transition), outcome
            state = outcome.state

    return {
        "decode_log": _timed(lambda i: decoder.decode(parse_log(json.loads(texts[i]))), n),
        "policy_route": _timed(
            lambda i: (evaluate(policy, events[i]), route_release(routes, events[i])), n
        ),
        "digest": _timed(lambda i: release_digest(domain, releases[i]), n),
        "sign": _timed(lambda i: signer.sign_digest(digests[i]), n),
        "recover_4": _timed(lambda i: [recover_signer(a.digest, a.signature) for a in att[i]], n),
        "gossip_wire": _timed(
            lambda i: (
                wire.encode_attestation(messages[i][0]),
                [wire.decode(p) for p in payloads[i]],
            ),
            n,
        ),
        "lifecycle": _timed(steps, n),
        "quorum_rechecks_today": _timed(
            lambda i: [
                evaluate_quorum(vset, digests[i], [own[i], *att[i]][:k]) for k in range(1, 6)
            ],
            n,
        ),
    }


def _rpc_log(event: SourceEvent) -> dict[str, Any]:
    """The log as a node's ``eth_getLogs`` returns it (hex strings)."""
    topics, data = encode_event_log(event)
    return {
        "address": "0x" + VAULT.hex(),
        "topics": ["0x" + t.hex() for t in (BridgeEvent.LOCKED.topic0, *topics)],
        "data": "0x" + data.hex(),
        "blockNumber": hex(event.block_number),
        "blockHash": "0x" + event.block_hash.hex(),
        "transactionHash": "0x" + event.tx_hash.hex(),
        "logIndex": hex(event.log_index),
        "removed": False,
    }


FLOOR = ("decode_log", "policy_route", "digest", "sign", "recover_4", "gossip_wire", "lifecycle")


def run(n: int, store_n: int, batch: int) -> dict[str, Any]:
    us = cpu_pieces(n)
    costs = {
        "store_per_input": floor_store.production(store_n, 1),
        "store_batched": floor_store.production(store_n, batch),
        "store_raw_sqlite": floor_raw.raw_sqlite(store_n, batch),
    }
    us.update({key: cost.cpu_us for key, cost in costs.items()})
    cpu = sum(us[k] for k in FLOOR)
    floor_s = (cpu + us["store_batched"]) / 1e6
    raw_s = (cpu + us["store_raw_sqlite"]) / 1e6
    today_s = (cpu + 8 * us["digest"] + us["quorum_rechecks_today"] + us["store_per_input"]) / 1e6
    relayer_cores = CORES - OTHERS_CORES
    return {
        "n": n,
        "store_n": store_n,
        "batch": batch,
        "us_per_transfer": {k: round(v, 1) for k, v in us.items()},
        "store_wall_us_per_transfer": {k: round(c.wall_us, 1) for k, c in costs.items()},
        "store_statements_per_transfer": {k: round(c.statements, 1) for k, c in costs.items()},
        "sum_us_floor_cpu_pieces": round(cpu, 1),
        "floor_cpu_s_per_transfer_per_relayer": round(floor_s, 6),
        "floor_raw_sqlite_cpu_s_per_transfer_per_relayer": round(raw_s, 6),
        "pieces_as_called_today_cpu_s_per_transfer_per_relayer": round(today_s, 6),
        "measured_today_cpu_s_per_transfer_per_relayer": list(TODAY_MEASURED_CPU_S_PER_RELAYER),
        "others_cores_assumed": round(OTHERS_CORES, 3),
        "max_transfers_per_second_5_relayers_on_2_cores": round(relayer_cores / (5 * floor_s), 2),
        "max_tps_raw_sqlite_store": round(relayer_cores / (5 * raw_s), 2),
        "max_tps_pieces_as_called_today": round(relayer_cores / (5 * today_s), 2),
        "max_tps_if_others_scale_with_rate": round(
            CORES / (5 * floor_s + OTHERS_CORES / RUN25_TPS), 2
        ),
        "assumption": (
            f"chains, broker and load generator take {OTHERS_CORES:.2f} of the {CORES} cores "
            f"(pipeline run 25: {RUN25_TPS} transfers/s, relayers {RUN25_RELAYERS_CPU_S} CPU-s "
            "per transfer, machine saturated); if_others_scale: that share grows with the rate "
            f"({OTHERS_CORES / RUN25_TPS:.3f} CPU-s per transfer). Not measured here."
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m relayer.bench.floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, default=2000, help="iterations of each CPU piece")
    parser.add_argument("--store-n", type=int, default=256, help="transfers through the store")
    parser.add_argument("--batch", type=int, default=64, help="transfers per batched transaction")
    args = parser.parse_args(argv)
    if args.n < 1 or args.store_n < 1 or args.batch < 1:
        parser.error("--n, --store-n and --batch must be at least 1")
    print(json.dumps(run(args.n, args.store_n, args.batch), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
