"""``make bench-pipeline``: a burst of locks through the whole local bridge.

Brings up the end-to-end stack (Conflux dev node, anvil, Mosquitto, five relayer
processes: threshold 4, two jurisdictions at least), sends a burst of lock
transactions from several users at once, waits until every one is released on
Ethereum, and prints ONE JSON object on its last line: transfers, seconds,
transfers_per_second and p50/p95/max of the time from a lock being confirmed (as
validator 0 recorded it) to its release being seen mined (by the same validator), the load
generator's own send rate (``generator_bound`` is true when it was below twice the measured
throughput: then the figure measures the generator), the relayers' CPU (idle over 10 s
before the burst, and per transfer during it, all relayers together), their peak RSS, the
CPU per transfer of the other processes during the burst (the Conflux node, anvil, the
broker, and this process: the load generator and its status polls) and of the first three
idle, the releases per
destination transaction and per destination block (blocks holding at least one release)
and gas per transfer from the gateway's receipts (the gas of every
transaction sent to the gateway, also those that released nothing).

Options: ``--transfers N`` (default 1000), ``--validators N`` (default 5),
``--eth-block-time S`` (anvil's block time; default 2 x the Conflux dev block interval),
``--timeout S`` (default 900), ``--root-wait S`` (``[pipeline] root_wait_s``: committed roots;
default 0, off) and ``--root-window N`` (default 64). The backup submitters' grace period
is two anvil blocks (at least 3 s). The governors are off: the bench measures the
relayers, not the contracts' rate limits (the e2e tests cover those).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from relayer.chain import transactions
from relayer.devnet.stack import Stack, StackOptions


def _send_burst(stack: Stack, count: int) -> list[bytes]:
    """Sign and send ``count`` locks without waiting, spread over the users."""
    assert stack.w3c is not None
    assert stack.vault is not None
    assert stack.anvil is not None
    w3 = stack.w3c
    token = next(t for t in stack.tokens if t.symbol == "AxHKD")
    erc20 = transactions.contract_at(w3, "TestToken", token.conflux)
    for user in stack.users:
        transactions.send(w3, user, erc20.functions.approve(stack.vault.address, 2**255))
    nonces: dict[str, int] = {
        u.address: int(w3.eth.get_transaction_count(u.address, "pending")) for u in stack.users
    }
    gas_price = w3.eth.gas_price
    hashes: list[Any] = []
    for i in range(count):
        sender: LocalAccount = stack.users[i % len(stack.users)]
        call = stack.vault.functions.lock(
            token.conflux, 1_000_000 + i, sender.address, stack.anvil.chain_id
        )
        params: Any = {
            "from": sender.address,
            "nonce": nonces[sender.address],
            "chainId": w3.eth.chain_id,
            "gas": 300_000,
            "maxFeePerGas": 2 * gas_price + 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
        tx: Any = call.build_transaction(params)
        nonces[sender.address] += 1
        signed = sender.sign_transaction(tx)
        hashes.append(w3.eth.send_raw_transaction(signed.raw_transaction))
    transfer_ids = []
    for tx_hash in hashes:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=300, poll_latency=0.2)
        if receipt["status"] != 1:
            raise RuntimeError(f"lock {tx_hash.hex()} reverted")
        (event,) = stack.vault.events.Locked().process_receipt(receipt, errors=DISCARD)
        transfer_ids.append(bytes(event["args"]["transferId"]))
    return transfer_ids


_TICKS = os.sysconf("SC_CLK_TCK")
IDLE_WINDOW_S = 10.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _other_pids(stack: Stack) -> dict[str, int]:
    """The processes beside the relayers whose CPU a burst also costs."""
    assert stack.conflux is not None and stack.anvil is not None and stack.broker is not None
    pids = {"conflux_node": stack.conflux.process.pid, "anvil": stack.anvil.process.pid}
    broker = stack.broker.process.pid
    if broker is not None:
        pids["broker"] = broker
    return pids


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def _gateway_receipts(stack: Stack, from_block: int) -> tuple[int, int, int, Counter[int]]:
    """(transactions that released something, all transactions sent to the gateway, the
    gas of all of them, the releases in each block that held some) since ``from_block``: a
    batch that only skipped what another relayer had released counts in the gas, not in
    the releases."""
    assert stack.gateway is not None and stack.w3e is not None
    w3, gateway = stack.w3e, stack.gateway.address
    logs = stack.gateway.events.Released().get_logs(from_block=from_block)
    releasing = {log["transactionHash"] for log in logs}
    per_block = Counter(int(log["blockNumber"]) for log in logs)
    sent, gas = 0, 0
    for number in range(from_block, int(w3.eth.block_number) + 1):
        block: Any = w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if tx["to"] == gateway:
                sent += 1
                gas += int(w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"])
    return len(releasing), sent, gas, per_block


def _wait_released(stack: Stack, ids: list[bytes], from_block: int, timeout: float) -> None:
    """Until the gateway logged a Released for every id (read from its logs, not per id)."""
    assert stack.gateway is not None and stack.w3e is not None
    pending = set(ids)
    deadline = time.monotonic() + timeout
    scanned = from_block
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} transfers not released in {timeout}s")
        head = int(stack.w3e.eth.block_number)
        if head >= scanned:
            logs = stack.gateway.events.Released().get_logs(from_block=scanned, to_block=head)
            pending -= {bytes(log["args"]["transferId"]) for log in logs}
            scanned = head + 1
        time.sleep(0.5)  # a poll of the chain the bench reads, not a wait standing in for an event


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(
    transfers: int,
    validators: int,
    timeout: float,
    eth_block_time_s: float | None,
    root_wait_s: float = 0.0,
    root_window: int = 64,
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    options = StackOptions(
        validators=validators,
        threshold=None,
        min_jurisdictions=2,
        users=4,
        log_format="json",
        topic_prefix="bench",
        eth_block_time_s=eth_block_time_s,
        governors=False,
        # the backups wait two destination blocks: sooner, they send their own batch while
        # the primary's is still unmined (it then releases nothing and only costs gas)
        grace_period_s=max(3.0, 2 * (eth_block_time_s or 0.0)),
        root_wait_s=root_wait_s,
        root_window=root_window,
    )
    stack = Stack.up(options, workdir)
    try:
        assert stack.gateway is not None and stack.w3e is not None
        pids = [p.pid for p in stack.relayers.values()]
        others = _other_pids(stack)
        idle_start = {pid: _cpu_seconds(pid) for pid in [*pids, *others.values()]}
        time.sleep(IDLE_WINDOW_S)  # the idle window being measured, not a wait for an event
        idle_percent = [100 * (_cpu_seconds(pid) - idle_start[pid]) / IDLE_WINDOW_S for pid in pids]
        others_idle = {
            name: 100 * (_cpu_seconds(pid) - idle_start[pid]) / IDLE_WINDOW_S
            for name, pid in others.items()
        }
        first_eth_block = int(stack.w3e.eth.block_number) + 1
        others_cpu = {name: _cpu_seconds(pid) for name, pid in others.items()}
        bench_cpu = time.process_time()
        burst_cpu = sum(_cpu_seconds(pid) for pid in pids)
        started = time.monotonic()
        ids = _send_burst(stack, transfers)
        sent_s = time.monotonic() - started
        _wait_released(stack, ids, first_eth_block, timeout)
        seconds = time.monotonic() - started
        burst_cpu = sum(_cpu_seconds(pid) for pid in pids) - burst_cpu
        others_cpu = {n: _cpu_seconds(pid) - others_cpu[n] for n, pid in others.items()}
        others_cpu["bench_process"] = time.process_time() - bench_cpu
        release_txs, gateway_txs, release_gas, per_block = _gateway_receipts(stack, first_eth_block)
        latencies = []
        for tid in ids:
            view: Any = None
            while not (isinstance(view, dict) and view.get("released_at")):
                view = stack.http_get(0, "/transfers/0x" + tid.hex())
                time.sleep(0.05 if view else 0.2)
            confirmed = datetime.fromisoformat(view["confirmed_at"])
            released = datetime.fromisoformat(view["released_at"])
            latencies.append((released - confirmed).total_seconds())
        throughput = transfers / seconds
        send_rate = transfers / sent_s
        return {
            "transfers": transfers,
            "validators": validators,
            "seconds": round(seconds, 2),
            "send_seconds": round(sent_s, 2),
            "send_rate": round(send_rate, 2),
            "generator_bound": send_rate < 2 * throughput,
            "transfers_per_second": round(throughput, 3),
            "cpu_seconds_per_transfer": round(burst_cpu / transfers, 4),
            "others_cpu_seconds_per_transfer": round(sum(others_cpu.values()) / transfers, 4),
            "others_cpu_seconds_per_transfer_each": {
                name: round(cpu / transfers, 4) for name, cpu in others_cpu.items()
            },
            "others_idle_cpu_percent_each": {n: round(p, 2) for n, p in others_idle.items()},
            "idle_cpu_percent_per_relayer": round(max(idle_percent), 2),
            "idle_cpu_percent_each": [round(p, 2) for p in idle_percent],
            "rss_mb_max": round(max(_peak_rss_mb(pid) for pid in pids), 1),
            "releases_per_destination_tx": round(transfers / max(1, release_txs), 2),
            "releases_per_destination_block": round(transfers / max(1, len(per_block)), 2),
            "releases_max_in_one_block": max(per_block.values(), default=0),
            "destination_txs": gateway_txs,
            "destination_txs_releasing_nothing": gateway_txs - release_txs,
            "gas_per_transfer": round(release_gas / transfers),
            "latency_p50_s": round(statistics.median(latencies), 3),
            "latency_p95_s": round(_percentile(latencies, 0.95), 3),
            "latency_max_s": round(max(latencies), 3),
            "conflux_block_interval_ms": options.block_time_ms,
            "eth_block_time_s": eth_block_time_s,
            "grace_period_s": options.grace_period_s,
            "root_wait_s": root_wait_s,
            "root_window": root_window,
            "conflux_confirmation": options.conflux_confirmation,
        }
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-pipeline", description=__doc__)
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--validators", type=int, default=5)
    parser.add_argument("--eth-block-time", type=float, default=None)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--root-wait", type=float, default=0.0)
    parser.add_argument("--root-window", type=int, default=64)
    args = parser.parse_args(argv)
    if args.transfers < 1 or args.validators < 1 or args.timeout <= 0:
        parser.error("--transfers and --validators must be positive, --timeout above 0")
    if args.eth_block_time is not None and args.eth_block_time <= 0:
        parser.error("--eth-block-time must be above 0")
    if args.root_wait < 0 or args.root_window < 1:
        parser.error("--root-wait must be 0 or more, --root-window at least 1")
    result = run(
        args.transfers,
        args.validators,
        args.timeout,
        args.eth_block_time,
        args.root_wait,
        args.root_window,
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
