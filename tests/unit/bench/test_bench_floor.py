"""``python -m relayer.bench.floor`` with a tiny run: one JSON object, every figure positive."""

from __future__ import annotations

import json
import subprocess
import sys

PIECES = (
    "decode_log",
    "policy_route",
    "digest",
    "sign",
    "recover_4",
    "gossip_wire",
    "lifecycle",
    "quorum_rechecks_today",
    "store_per_input",
    "store_batched",
    "store_raw_sqlite",
)
FIGURES = (
    "sum_us_floor_cpu_pieces",
    "floor_cpu_s_per_transfer_per_relayer",
    "floor_raw_sqlite_cpu_s_per_transfer_per_relayer",
    "pieces_as_called_today_cpu_s_per_transfer_per_relayer",
    "max_transfers_per_second_5_relayers_on_2_cores",
    "max_tps_raw_sqlite_store",
    "max_tps_pieces_as_called_today",
    "max_tps_if_others_scale_with_rate",
    "others_cores_assumed",
)


def test_floor_bench_prints_every_piece_and_the_derived_figures() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "relayer.bench.floor",
            "--n",
            "20",
            "--store-n",
            "8",
            "--batch",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["n"], result["store_n"], result["batch"]) == (20, 8, 4)
    pieces = result["us_per_transfer"]
    assert set(pieces) == set(PIECES)
    assert all(pieces[k] > 0 for k in PIECES), pieces
    for key in ("store_per_input", "store_batched"):
        assert result["store_statements_per_transfer"][key] > 0
        assert result["store_wall_us_per_transfer"][key] > 0
    assert all(result[k] > 0 for k in FIGURES), {k: result.get(k) for k in FIGURES}
    floor_us = sum(pieces[k] for k in PIECES[:7]) + pieces["store_batched"]
    assert abs(result["floor_cpu_s_per_transfer_per_relayer"] * 1e6 - floor_us) < 1
    assert isinstance(result["assumption"], str) and result["assumption"]
