"""The comparison for ``relayer.bench.floor``: the rows ``floor_store.STAGES`` writes for
a transfer (and the same audit chain, ``audit.link_hash``) written into the same migrated
schema with the stdlib ``sqlite3`` module (synchronous, WAL, ``synchronous=FULL`` as the
store), one transaction per ``per_tx`` transfers and no reads: what a single writer that
keeps its state in memory would pay.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from relayer.bench.floor_store import (
    CFX,
    ETH,
    MIRROR,
    OWN,
    PEERS,
    SENDER,
    VAULT,
    Cost,
    Item,
    S,
    make_items,
    signature,
)
from relayer.store import upgrade
from relayer.store.audit import GENESIS_HASH, link_hash

_STATUS = "UPDATE transfers SET status=?, status_reason=NULL WHERE transfer_id=?"
_AUDIT = "INSERT INTO audit_log(at,transfer_id,event,detail,prev_hash,hash) VALUES (?,?,?,?,?,?)"
_OUTBOX = "INSERT INTO outbox(transfer_id,kind,payload,created_at) VALUES (?,?,?,?)"
_ROWS = {
    "transfer": "INSERT INTO transfers(transfer_id,direction,src_chain_id,dst_chain_id,"
    "src_contract,nonce,src_token,sender,recipient,amount,block_number,block_hash,tx_hash,"
    "log_index,status,observed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "own": "INSERT INTO own_signatures(transfer_id,digest,signature,set_id,policy_version,"
    "signed_at) VALUES (?,?,?,?,?,?)",
    "attestation": "INSERT INTO attestations(transfer_id,signer,digest,signature,set_id,"
    "received_at) VALUES (?,?,?,?,?,?)",
    "dst_token": "UPDATE transfers SET dst_token=? WHERE transfer_id=?",
    "quorum": "UPDATE transfers SET quorum_bundle=?, quorum_signers=?, quorum_jurisdictions=? "
    "WHERE transfer_id=?",
    "sent": "INSERT INTO submissions(transfer_id,chain_id,sender,tx_nonce,tx_hash,max_fee_per_gas,"
    "max_priority_fee_per_gas,status,sent_at) VALUES (?,?,?,?,?,?,?,?,?)",
    "mined": "UPDATE submissions SET status=?, mined_block=? WHERE tx_hash=? AND transfer_id=?",
    "tx_hash": "UPDATE transfers SET release_tx_hash=? WHERE transfer_id=?",
    "done": "UPDATE outbox SET done_at=? WHERE transfer_id=? AND kind=?",
}
_AUDITED = (
    "observed",
    "status",
    "signed",
    "status",
    "quorum",
    "status",
    "submitted",
    "submission",
    "status",
    "status",
)


def _raw_chunk(db: sqlite3.Connection, chunk: Sequence[Item], prev: bytes) -> bytes:
    """One transaction: every row ``STAGES`` writes for ``chunk``; returns the audit head."""
    now = datetime.now(UTC)
    at = now.isoformat()
    tx_hash = os.urandom(32)
    db.execute("BEGIN IMMEDIATE")
    last = chunk[-1].event
    db.execute(
        "INSERT OR REPLACE INTO scanned_blocks(chain_id,block_number,block_hash) VALUES (?,?,?)",
        (CFX, last.block_number, last.block_hash),
    )
    db.execute(
        "INSERT OR REPLACE INTO chain_cursors(chain_id,contract,next_block,"
        "last_scanned_block,last_scanned_hash,updated_at) VALUES (?,?,?,?,?,?)",
        (CFX, VAULT, last.block_number + 1, last.block_number, last.block_hash, at),
    )
    rows: dict[str, list[tuple[Any, ...]]] = {key: [] for key in (*_ROWS, "status", "outbox")}
    audit = []
    for i in chunk:
        e, tid, sig = i.event, bytes(i.tid), signature()
        rows["transfer"].append(
            (
                tid,
                "to_ethereum",
                CFX,
                ETH,
                VAULT,
                str(e.nonce),
                e.src_token,
                e.sender,
                e.recipient,
                str(e.amount),
                e.block_number,
                e.block_hash,
                e.tx_hash,
                0,
                "observed",
                at,
            )
        )
        rows["status"] += [(s.value, tid) for s in (S.CONFIRMED, S.ATTESTED, S.QUORUM)]
        rows["dst_token"].append((MIRROR, tid))
        rows["own"].append((tid, i.digest, sig, 1, "v1", at))
        for signer in (OWN, *PEERS):
            rows["attestation"].append((tid, signer, i.digest, sig, 1, at))
        signers = json.dumps(["0x" + s.hex() for s in (OWN, *PEERS[:3])])
        rows["quorum"].append((sig * 4, signers, '["HK","SG"]', tid))
        for kind in ("publish", "submit", "withdraw"):
            rows["outbox"].append((tid, kind, "{}", at))
            rows["done"].append((at, tid, kind))
        rows["sent"].append((tid, ETH, SENDER, 1, tx_hash, "1", "1", "pending", at))
        rows["mined"].append(("mined", 77, tx_hash, tid))
        rows["status"] += [(S.SUBMITTED.value, tid), (S.RELEASED.value, tid)]
        rows["tx_hash"].append((tx_hash, tid))
        for event in _AUDITED:
            detail = {"event": event}
            head = link_hash(prev, now, tid, event, detail)
            audit.append((at, tid, event, json.dumps(detail), prev, head))
            prev = head
    for key in (
        "transfer",
        "own",
        "attestation",
        "dst_token",
        "quorum",
        "sent",
        "mined",
        "tx_hash",
    ):
        db.executemany(_ROWS[key], rows[key])
    db.executemany(_STATUS, rows["status"])
    db.executemany(_OUTBOX, rows["outbox"])
    db.executemany(_ROWS["done"], rows["done"])
    db.executemany(_AUDIT, audit)
    db.execute("COMMIT")
    return prev


def raw_sqlite(n: int, per_tx: int = 64) -> Cost:
    """The same rows with the stdlib ``sqlite3`` (WAL, ``synchronous=FULL`` as the store)."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-raw-") as tmp:
        path = Path(tmp) / "raw.db"
        asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
        db = sqlite3.connect(path, isolation_level=None)
        try:
            for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
                db.execute(f"PRAGMA {pragma}")
            prev = _raw_chunk(db, make_items(1, per_tx), GENESIS_HASH)
            items = make_items(per_tx + 1, n)
            cpu, wall = time.process_time(), time.perf_counter()
            for k in range(0, n, per_tx):
                prev = _raw_chunk(db, items[k : k + per_tx], prev)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            db.close()
    return Cost(cpu / n * 1e6, wall / n * 1e6)
