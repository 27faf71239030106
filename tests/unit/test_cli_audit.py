"""``relayer audit verify|export|verify-export`` against a real SQLite store.

Every refusal is one line on stderr naming what was wrong, exit code 2, nothing written.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from relayer.cli import main
from relayer.domain.types import Hash32, checksum
from relayer.keys import signer_from_hex
from relayer.store import AlertKind, AuditEntry, Store, upgrade
from relayer.store.audit_export import CSV_HEADER
from relayer.store.models import AuditRow

DEV_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
VALIDATOR = checksum(signer_from_hex(DEV_KEY).address)
OTHER = checksum(signer_from_hex("0x" + "22" * 32).address)
T0 = datetime(2026, 12, 1, tzinfo=UTC)
CONFIG = """
[validator]
name = "hk-1"
jurisdiction = "HK"
dev_private_key = "{key}"

[conflux]
rpc_url = "http://127.0.0.1:8545"
chain_id = 2030
vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

[ethereum]
rpc_url = "http://127.0.0.1:8546"
chain_id = 31337
gateway = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"

[database]
url = "{url}"
"""


def _iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


@dataclass(frozen=True)
class Relayer:
    """A migrated SQLite database holding six audit links, one a minute from T0."""

    config: Path
    url: str
    home: Path

    def audit(self, *argv: str) -> int:
        return main(["audit", *argv, "--config", str(self.config)])

    def export(self, fmt: str, start: float, end: float, *extra: str, name: str = "") -> Path:
        out = self.home / (name or f"export-{start}-{end}.{fmt}")
        argv = ["--from", _iso(start), "--to", _iso(end), "--format", fmt, "--out", str(out)]
        assert self.audit("export", *argv, *extra) == 0
        return out

    def entries(self) -> list[AuditEntry]:
        async def go() -> list[AuditEntry]:
            store = await Store.open(self.url)
            try:
                async with store.reader() as tx:
                    return list(await tx.audit_entries())
            finally:
                await store.close()

        return asyncio.run(go())

    def edit_detail(self, seq: int) -> None:
        async def go() -> None:
            store = await Store.open(self.url)
            try:
                async with store.engine.begin() as conn:
                    stmt = update(AuditRow).where(AuditRow.seq == seq).values(detail={"n": 99})
                    await conn.execute(stmt)
            finally:
                await store.close()

        asyncio.run(go())


def _history(url: str) -> None:
    """Six links, one a minute from T0: four appended, an alert's, a note."""
    now = [T0]

    async def go() -> None:
        store = await Store.open(url, clock=lambda: now[0])
        tid = Hash32(bytes.fromhex("5c" * 32))
        details: list[dict[str, Any]] = [{"n": 0}, {"n": 1}, {"why": 'a "quoted", comma'}, {}]
        try:
            for minute, detail in enumerate(details):
                now[0] = T0 + timedelta(minutes=minute)
                async with store.transaction() as tx:
                    await tx.append_audit("published", tid if minute % 2 else None, detail)
            now[0] = T0 + timedelta(minutes=4)
            async with store.transaction() as tx:
                await tx.raise_alert(AlertKind.WARNING, 2030, {"what": "a test"})
            now[0] = T0 + timedelta(minutes=5)
            async with store.transaction() as tx:
                await tx.append_audit("note", None, {"text": "line one\nline two", "é": [1.5]})
        finally:
            await store.close()

    asyncio.run(go())


@pytest.fixture
def relayer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Relayer:
    for name in [n for n in os.environ if n.startswith("RELAYER_")]:
        monkeypatch.delenv(name)
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    asyncio.run(upgrade(url))
    _history(url)
    config = tmp_path / "relayer.toml"
    config.write_text(CONFIG.format(key=DEV_KEY, url=url))
    return Relayer(config, url, tmp_path)


def _out(capsys: pytest.CaptureFixture[str]) -> Any:
    """The single JSON line on stdout (stderr may hold the dev-key warning)."""
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0, out
    return json.loads(out)


def _refusal(capsys: pytest.CaptureFixture[str]) -> str:
    """Nothing on stdout, one line on stderr."""
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.count("\n") == 0 and err.startswith("relayer: error: "), err
    return err.removeprefix("relayer: error: ")


def _verify_export(path: Path, validator: str = VALIDATOR, *extra: str) -> int:
    return main(["audit", "verify-export", str(path), "--validator", validator, *extra])


# -- verify ---------------------------------------------------------------------------


def test_audit_verify_of_an_intact_chain(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert relayer.audit("verify") == 0
    entries = relayer.entries()
    assert len(entries) == 6
    assert _out(capsys) == {"intact": True, "entries": 6, "head": "0x" + entries[-1].hash.hex()}


def test_audit_verify_of_an_edited_chain_names_the_link(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    relayer.edit_detail(3)
    assert relayer.audit("verify") == 1
    assert _out(capsys) == {
        "intact": False,
        "seq": 3,
        "reason": "hash does not match the row's content",
    }


# -- export and verify-export ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_verify_export(
    relayer: Relayer, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export(fmt, 1, 4.5)
    written = _out(capsys)
    entries = relayer.entries()[1:5]
    assert written == {
        "out": str(out),
        "signature": f"{out}.sig",
        "validator": VALIDATOR,
        "format": fmt,
        "first_seq": 2,
        "last_seq": 5,
        "count": 4,
        "content_hash": written["content_hash"],
    }
    signature = json.loads(Path(f"{out}.sig").read_text())
    assert signature["content_hash"] == written["content_hash"]
    assert (signature["validator"], signature["format"], signature["count"]) == (VALIDATOR, fmt, 4)

    assert _verify_export(out) == 0
    summary = _out(capsys)
    assert summary["verified"] is True
    assert (summary["first_seq"], summary["last_seq"], summary["count"]) == (2, 5, 4)
    assert summary["head"] == "0x" + entries[-1].hash.hex()
    assert summary["first_prev_hash"] == "0x" + entries[0].prev_hash.hex()
    assert (summary["from"], summary["to"]) == (
        "2026-12-01T00:01:00.000000+00:00",
        "2026-12-01T00:04:00.000000+00:00",
    )


def test_export_jsonl_holds_the_entries_as_documented(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export("jsonl", 0, 10)
    lines = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[1] == {
        "seq": 2,
        "at": "2026-12-01T00:01:00.000000+00:00",
        "transfer_id": "0x" + "5c" * 32,
        "event": "published",
        "detail": {"n": 1},
        "prev_hash": lines[0]["hash"],
        "hash": "0x" + relayer.entries()[1].hash.hex(),
    }
    assert lines[0]["transfer_id"] is None
    assert lines[2]["detail"] == {"why": 'a "quoted", comma'}
    assert (lines[4]["event"], lines[4]["detail"]["kind"]) == ("alert", "warning")


def test_export_csv_is_read_by_the_standard_csv_module(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export("csv", 0, 10)
    raw = out.read_bytes()
    assert raw.startswith(CSV_HEADER.encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    assert [int(row["seq"]) for row in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["transfer_id"] == "" and rows[1]["transfer_id"] == "0x" + "5c" * 32
    assert json.loads(rows[2]["detail"]) == {"why": 'a "quoted", comma'}
    assert json.loads(rows[5]["detail"]) == {"text": "line one\nline two", "é": [1.5]}
    assert _verify_export(out) == 0


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_empty_range_is_an_empty_signed_export(
    relayer: Relayer, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export(fmt, 60, 120)
    assert _out(capsys)["count"] == 0
    assert out.read_bytes() == (b"" if fmt == "jsonl" else CSV_HEADER.encode())
    assert _verify_export(out) == 0
    summary = _out(capsys)
    assert (summary["first_seq"], summary["last_seq"], summary["count"]) == (0, 0, 0)


def test_export_refuses_an_existing_out_unless_forced(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export("jsonl", 0, 1)
    capsys.readouterr()
    before = out.read_bytes()
    argv = ["--from", _iso(0), "--to", _iso(10), "--format", "jsonl", "--out", str(out)]
    assert relayer.audit("export", *argv) == 2
    assert _refusal(capsys) == f"--out: {out} exists (pass --force to replace it)"
    assert out.read_bytes() == before
    Path(f"{out}.sig").unlink()
    out.unlink()
    out.write_bytes(b"")  # the signature may be missing: the export alone is refused too
    assert relayer.audit("export", *argv) == 2
    assert "exists" in _refusal(capsys)
    assert relayer.audit("export", *argv, "--force") == 0
    assert _out(capsys)["count"] == 6
    assert _verify_export(out) == 0


def test_export_refuses_an_existing_signature_file(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.home / "a.jsonl"
    Path(f"{out}.sig").write_text("{}")
    argv = ["--from", _iso(0), "--to", _iso(1), "--format", "jsonl", "--out", str(out)]
    assert relayer.audit("export", *argv) == 2
    assert _refusal(capsys) == f"--out: {out}.sig exists (pass --force to replace it)"
    assert not out.exists()


@pytest.mark.parametrize(
    ("start", "end", "says"),
    [
        ("2026-12-01T00:00:00", _iso(5), "--from: '2026-12-01T00:00:00' has no timezone"),
        (_iso(0), "2026-12-02", "--to: '2026-12-02' has no timezone"),
        ("yesterday", _iso(5), "--from: not an ISO 8601 time: 'yesterday'"),
        (_iso(5), _iso(1), f"--from {_iso(5)} is after --to {_iso(1)}"),
        (
            "2026-12-01T08:00:00+08:00",
            "2026-11-30T23:59:59Z",
            "--from 2026-12-01T08:00:00+08:00 is after --to 2026-11-30T23:59:59Z",
        ),
    ],
)
def test_export_bad_times_are_one_line_and_write_nothing(
    relayer: Relayer, start: str, end: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.home / "bad.jsonl"
    argv = ["--from", start, "--to", end, "--format", "jsonl", "--out", str(out)]
    assert relayer.audit("export", *argv) == 2
    assert _refusal(capsys).startswith(says)
    assert sorted(p.name for p in relayer.home.iterdir()) == ["relayer.db", "relayer.toml"]


def test_export_an_unknown_format_is_a_usage_error(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--from", _iso(0), "--to", _iso(1), "--format", "xml", "--out", "x"]
    with pytest.raises(SystemExit) as exited:
        relayer.audit("export", *argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "invalid choice: 'xml'" in err


def test_export_of_a_broken_chain_writes_nothing(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    relayer.edit_detail(2)
    out = relayer.home / "x.jsonl"
    argv = ["--from", _iso(0), "--to", _iso(10), "--format", "jsonl", "--out", str(out)]
    assert relayer.audit("export", *argv) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("relayer: stopped: the audit chain in the database does not verify")
    assert "edited entry at seq 2 (line 2)" in err
    assert not out.exists() and not Path(f"{out}.sig").exists()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_verify_export_names_an_edited_entry(
    relayer: Relayer, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export(fmt, 0, 10)
    capsys.readouterr()
    raw = out.read_bytes()
    assert raw.count(b"1.5") == 1
    out.write_bytes(raw.replace(b"1.5", b"2.5"))
    assert _verify_export(out) == 2
    line = 6 if fmt == "jsonl" else 7
    assert _refusal(capsys) == (
        f"{out}: edited entry at seq 6 (line {line}): its hash does not match its content"
    )


def test_verify_export_names_a_removed_line(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export("jsonl", 0, 10)
    capsys.readouterr()
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:2] + lines[3:]))
    assert _verify_export(out) == 2
    assert _refusal(capsys) == (
        f"{out}: removed entry: the chain breaks between seq 2 and seq 4 (line 3)"
    )


def test_verify_export_against_another_validator_is_wrong_signer(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export("csv", 0, 10)
    capsys.readouterr()
    assert _verify_export(out, OTHER) == 2
    assert _refusal(capsys) == (
        f"{out}: wrong signer: the signature recovers to {VALIDATOR}, not {OTHER} "
        "(another key, or the signature file was edited)"
    )


def test_verify_export_with_an_explicit_signature_file(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export("jsonl", 0, 10)
    moved = relayer.home / "elsewhere.sig"
    Path(f"{out}.sig").rename(moved)
    capsys.readouterr()
    assert _verify_export(out) == 2
    assert _refusal(capsys).startswith(f"--signature: cannot read {out}.sig: ")
    assert _verify_export(out, VALIDATOR, "--signature", str(moved)) == 0
    assert _out(capsys)["count"] == 6


@pytest.mark.parametrize(
    ("validator", "says"),
    [
        ("0x1234", "--validator must be 20 bytes"),
        (VALIDATOR[:2] + VALIDATOR[2:].swapcase(), "--validator has a bad EIP-55 checksum"),
    ],
)
def test_verify_export_bad_validator_is_named(
    relayer: Relayer, validator: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export("jsonl", 0, 10)
    capsys.readouterr()
    assert _verify_export(out, validator) == 2
    assert _refusal(capsys).startswith(says)


def test_verify_export_of_a_malformed_signature_file_names_the_field(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = relayer.export("jsonl", 0, 10)
    sig = Path(f"{out}.sig")
    document = json.loads(sig.read_text())
    document["count"] = "6"
    sig.write_text(json.dumps(document))
    capsys.readouterr()
    assert _verify_export(out) == 2
    assert _refusal(capsys) == (
        f"--signature: {sig}: count must be an integer between 0 and {2**64 - 1}"
    )
