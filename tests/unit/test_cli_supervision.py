"""``relayer pack hash|sign|verify`` and ``relayer review list|approve|reject``.

Every refusal is one line on stderr naming what was wrong, exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from Crypto.Hash import keccak

from relayer.cli import main
from relayer.domain.packs import pack_digest
from relayer.domain.types import Address, Direction, Hash32, SourceEvent, checksum
from relayer.keys import Signer, new_keystore
from relayer.store import Store, TransferStatus, upgrade
from relayer.store.records import AuditEntry, Review, Veto

CONFLUX, ETHEREUM = 2030, 31337
VAULT = Address(bytes.fromhex("11" * 20))
TOKEN = Address(bytes.fromhex("77" * 20))
SANCTIONED = Address(bytes.fromhex("5a" * 20))
PASSWORD = b"correct horse battery"
PACK = f"""schema = 1
jurisdiction = "HK"
version = 3
issued_at = "2026-12-01T00:00:00Z"

[[tokens]]
chain_id = {CONFLUX}
token = "{checksum(TOKEN)}"
symbol = "HKD"
max_per_transfer = "1000000000000000000000"
review_above = "100000000000000000000"

[sanctions]
source = "HKMA"
list_version = "2026-12-01"
addresses = ["{checksum(SANCTIONED)}"]
"""
HELD = "amount 500000000000000000000 above the review threshold 100000000000000000000"


# -- helpers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Supervisor:
    signer: Signer
    keystore: Path
    password_file: Path

    @property
    def address(self) -> Address:
        return self.signer.address


@pytest.fixture(scope="module")
def supervisor(tmp_path_factory: pytest.TempPathFactory) -> Supervisor:
    """One keystore for the module (scrypt makes each one take about a second)."""
    home = tmp_path_factory.mktemp("supervisor")
    password_file = home / "password"
    password_file.write_bytes(PASSWORD + b"\n")
    password_file.chmod(0o600)
    signer = new_keystore(home / "keystore.json", PASSWORD)
    return Supervisor(signer, home / "keystore.json", password_file)


def _one_line(capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    """The single JSON line on stdout (or None) and the single line on stderr (or "")."""
    captured = capsys.readouterr()
    out, err = captured.out.strip(), captured.err.strip()
    assert out.count("\n") == 0, out
    assert err.count("\n") == 0, err
    return (json.loads(out) if out else None), err


def _keccak(data: bytes) -> bytes:
    """keccak256 from another library than the relayer's."""
    return keccak.new(digest_bits=256, data=data).digest()


def _pack(tmp_path: Path, text: str = PACK, name: str = "hk-policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _signed(tmp_path: Path, who: Supervisor, text: str = PACK) -> Path:
    """A pack and its FILE.sig as ``pack sign`` writes them (without decrypting again)."""
    pack = _pack(tmp_path, text)
    digest = pack_digest("HK", 3, _keccak(pack.read_bytes()))
    Path(f"{pack}.sig").write_text("0x" + who.signer.sign_digest(digest).hex() + "\n")
    return pack


def _sign(pack: Path, who: Supervisor, *extra: str) -> int:
    keys = ["--keystore", str(who.keystore), "--password-file", str(who.password_file)]
    return main(["pack", "sign", str(pack), *keys, *extra])


def _verify(pack: Path, supervisor: Address, *extra: str, jurisdiction: str = "HK") -> int:
    who = ["--supervisor", checksum(supervisor), "--jurisdiction", jurisdiction]
    return main(["pack", "verify", str(pack), *who, *extra])


def _bad_checksum(address: Address) -> str:
    text = checksum(address)
    i = next(i for i, c in enumerate(text) if c.isalpha() and i > 1)
    return text[:i] + text[i].swapcase() + text[i + 1 :]


# -- pack hash ------------------------------------------------------------------------


def test_pack_hash_prints_the_hash_of_the_bytes_and_the_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = _pack(tmp_path)
    assert main(["pack", "hash", str(pack)]) == 0
    line, err = _one_line(capsys)
    assert err == ""
    raw = pack.read_bytes()
    assert line["hash"] == "0x" + _keccak(raw).hex()
    assert (line["jurisdiction"], line["version"]) == ("HK", 3)
    assert line["digest"] == "0x" + pack_digest("HK", 3, _keccak(raw)).hex()
    assert (line["tokens"], line["sanctioned"]) == (1, 1)


def test_pack_hash_of_the_same_rules_in_other_bytes_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bytes are what is signed: a comment changes the hash (nothing is re-encoded)."""
    assert main(["pack", "hash", str(_pack(tmp_path))]) == 0
    first, _ = _one_line(capsys)
    assert main(["pack", "hash", str(_pack(tmp_path, "# v3\n" + PACK, "commented.toml"))]) == 0
    second, _ = _one_line(capsys)
    assert first["hash"] != second["hash"]
    assert first["digest"] != second["digest"]


def test_pack_hash_reads_a_json_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {
        "schema": 1,
        "jurisdiction": "HK",
        "version": 4,
        "tokens": [{"chain_id": CONFLUX, "token": checksum(TOKEN), "max_per_transfer": "5"}],
        "sanctions": {"source": "HKMA", "list_version": "1", "addresses": []},
    }
    pack = _pack(tmp_path, json.dumps(doc, indent=2), "hk-policy.json")
    assert main(["pack", "hash", str(pack)]) == 0
    line, _ = _one_line(capsys)
    assert (line["jurisdiction"], line["version"], line["sanctioned"]) == ("HK", 4, 0)
    assert line["hash"] == "0x" + _keccak(pack.read_bytes()).hex()


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda t: t.replace("version = 3", "version = 3\ncolour = 'red'"), "colour"),
        (lambda t: t.replace('symbol = "HKD"', 'symbol = "HKD"\nmax_daily = 1'), "max_daily"),
        (lambda t: t.replace("version = 3\n", ""), "version"),
        (lambda t: t.replace('"HK"', '"hk"'), "jurisdiction"),
        (lambda t: t.replace("schema = 1", "schema = 2"), "schema"),
        (
            lambda t: t.replace(checksum(SANCTIONED), _bad_checksum(SANCTIONED)),
            "sanctions.addresses[0]",
        ),
        (lambda t: t.replace('"1000000000000000000000"', "1e21"), "tokens[0].max_per_transfer"),
        (lambda t: t + "[[tokens\n", "TOML"),
    ],
)
def test_pack_hash_of_a_malformed_pack_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, named: str
) -> None:
    pack = _pack(tmp_path, edit(PACK))
    assert main(["pack", "hash", str(pack)]) == 2
    line, err = _one_line(capsys)
    assert line is None
    assert err.startswith("relayer: error: ") and named in err, err


def test_pack_hash_of_a_missing_file_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pack", "hash", str(tmp_path / "nope.toml")]) == 2
    _, err = _one_line(capsys)
    assert "nope.toml" in err, err


# -- pack sign ------------------------------------------------------------------------


def test_pack_sign_writes_file_sig_verified_then_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack = _pack(tmp_path)
    sig = Path(f"{pack}.sig")
    assert _sign(pack, supervisor) == 0
    line, _ = _one_line(capsys)
    assert line["signer"] == checksum(supervisor.address)
    assert line["signature"] == str(sig)
    assert line["hash"] == "0x" + _keccak(pack.read_bytes()).hex()
    written = sig.read_text()
    assert re.fullmatch(r"0x[0-9a-f]{130}\n", written), written
    digest = pack_digest("HK", 3, _keccak(pack.read_bytes()))
    assert written == "0x" + supervisor.signer.sign_digest(digest).hex() + "\n"

    assert _verify(pack, supervisor.address) == 0
    verified, err = _one_line(capsys)
    assert verified["verified"] is True
    assert (verified["hash"], verified["digest"]) == (line["hash"], line["digest"])

    assert _sign(pack, supervisor) == 2
    out, err = _one_line(capsys)
    assert out is None
    assert err.startswith("relayer: error: --out") and str(sig) in err, err
    assert "--force" in err
    assert sig.read_text() == written

    assert _sign(pack, supervisor, "--force") == 0  # RFC 6979: the same signature again
    _one_line(capsys)
    assert sig.read_text() == written


def test_pack_sign_refuses_an_existing_out_before_reading_the_keystore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack, taken = _pack(tmp_path), tmp_path / "taken.sig"
    taken.write_text("keep me")
    wrong_password = tmp_path / "wrong-password"
    wrong_password.write_bytes(b"not the password")
    wrong_password.chmod(0o600)
    elsewhere = Supervisor(supervisor.signer, supervisor.keystore, wrong_password)
    assert _sign(pack, elsewhere, "--out", str(taken)) == 2
    _, err = _one_line(capsys)
    assert "--out" in err and str(taken) in err, err
    assert taken.read_text() == "keep me"


def test_pack_sign_of_a_malformed_pack_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack = _pack(tmp_path, PACK.replace("version = 3", "version = 3\ncolour = 'red'"))
    assert _sign(pack, supervisor) == 2
    _, err = _one_line(capsys)
    assert "colour" in err and "unknown key" in err, err
    assert not Path(f"{pack}.sig").exists()


# -- pack verify ----------------------------------------------------------------------


def test_pack_verify_with_an_explicit_signature_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack = _signed(tmp_path, supervisor)
    moved = Path(f"{pack}.sig").rename(tmp_path / "elsewhere.sig")
    assert _verify(pack, supervisor.address, "--signature", str(moved)) == 0
    line, _ = _one_line(capsys)
    assert line["verified"] is True
    assert (line["jurisdiction"], line["version"]) == ("HK", 3)


def test_pack_verify_another_supervisor_is_wrong_signer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack = _signed(tmp_path, supervisor)
    other = Address(bytes.fromhex("42" * 20))
    assert _verify(pack, other) == 2
    out, err = _one_line(capsys)
    assert out is None
    assert err.startswith("relayer: error: ") and "wrong_signer" in err, err
    assert checksum(supervisor.address) in err and checksum(other) in err


def test_pack_verify_another_jurisdiction_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack = _signed(tmp_path, supervisor)
    assert _verify(pack, supervisor.address, jurisdiction="SG") == 2
    _, err = _one_line(capsys)
    assert "wrong_jurisdiction" in err, err


@pytest.mark.parametrize(
    ("old", "new"),
    [('"HKD"', '"HKE"'), ("version = 3", "version = 4"), ("2026-12-01T", "2026-12-02T")],
)
def test_pack_verify_a_pack_changed_after_signing_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor, old: str, new: str
) -> None:
    pack = _signed(tmp_path, supervisor)
    raw = pack.read_bytes()
    tampered = raw.replace(old.encode(), new.encode(), 1)
    assert sum(a != b for a, b in zip(raw, tampered, strict=True)) == 1  # one byte
    pack.write_bytes(tampered)
    assert _verify(pack, supervisor.address) == 2
    _, err = _one_line(capsys)
    assert "the pack would be refused: wrong_signer" in err, err


@pytest.mark.parametrize(
    "content",
    ["garbage\n", "", "0x" + "zz" * 65, "0x" + "ab" * 64, "0x" + "ab" * 66, "ab" * 66],
)
def test_pack_verify_an_unreadable_signature_file_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor, content: str
) -> None:
    pack = _signed(tmp_path, supervisor)
    sig = Path(f"{pack}.sig")
    sig.write_text(content)
    assert _verify(pack, supervisor.address) == 2
    _, err = _one_line(capsys)
    assert err.startswith("relayer: error: ") and str(sig) in err, err


def test_pack_verify_a_missing_signature_file_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack = _pack(tmp_path)
    assert _verify(pack, supervisor.address) == 2
    _, err = _one_line(capsys)
    assert f"{pack}.sig" in err, err


def test_pack_verify_a_signature_that_recovers_nobody_is_bad_signature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack = _pack(tmp_path)
    Path(f"{pack}.sig").write_text("0x" + "00" * 64 + "1b\n")
    assert _verify(pack, supervisor.address) == 2
    _, err = _one_line(capsys)
    assert "bad_signature" in err, err


def test_pack_verify_a_malformed_pack_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], supervisor: Supervisor
) -> None:
    pack = _signed(tmp_path, supervisor, PACK.replace("[sanctions]", "[sanctions]\nurl = 'x'"))
    assert _verify(pack, supervisor.address) == 2
    _, err = _one_line(capsys)
    assert "sanctions.url" in err and "unknown key" in err, err


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--supervisor", "0x1234", "--jurisdiction", "HK"], "--supervisor"),
        (["--supervisor", _bad_checksum(SANCTIONED), "--jurisdiction", "HK"], "--supervisor"),
        (["--supervisor", checksum(SANCTIONED), "--jurisdiction", "hk"], "jurisdiction"),
    ],
)
def test_pack_verify_bad_flags_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], named: str
) -> None:
    assert main(["pack", "verify", str(_pack(tmp_path)), *flags]) == 2
    _, err = _one_line(capsys)
    assert err.startswith("relayer: error: ") and named in err, err


# -- review ---------------------------------------------------------------------------

CONFIG = """
[validator]
name = "hk-1"
jurisdiction = "HK"
dev_private_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

[conflux]
rpc_url = "http://127.0.0.1:8545"
chain_id = {conflux}
vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

[ethereum]
rpc_url = "http://127.0.0.1:8546"
chain_id = {ethereum}
gateway = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"

[database]
url = "{url}"
"""


@dataclass(frozen=True)
class Relayer:
    """A migrated SQLite database and the settings file naming it."""

    config: Path
    url: str

    def review(self, *argv: str) -> int:
        return main(["review", *argv, "--config", str(self.config)])

    def veto(self, *argv: str) -> int:
        return main(["veto", *argv, "--config", str(self.config)])

    def stored_veto(self, tid: str) -> tuple[Veto | None, list[AuditEntry]]:
        async def go() -> tuple[Veto | None, list[AuditEntry]]:
            store = await Store.open(self.url)
            try:
                async with store.reader() as tx:
                    transfer_id = Hash32(bytes.fromhex(tid[2:]))
                    entries = await tx.audit_entries(transfer_id)
                    vetoed = [e for e in entries if e.event == "vetoed"]
                    return await tx.veto_of(transfer_id), vetoed
            finally:
                await store.close()

        return asyncio.run(go())

    def transfer(
        self, nonce: int, status: TransferStatus | None = None, dst: int = ETHEREUM
    ) -> str:
        """Store an observed transfer (then move it to ``status``); its id as 0x hex."""
        event = SourceEvent(
            transfer_id=Hash32(_keccak(nonce.to_bytes(32, "big"))),
            src_chain_id=CONFLUX,
            src_contract=VAULT,
            nonce=nonce,
            src_token=TOKEN,
            sender=Address(bytes.fromhex("0a" * 20)),
            recipient=Address(bytes.fromhex("0b" * 20)),
            amount=500 * 10**18,
            dst_chain_id=dst,
            block_number=100,
            block_hash=Hash32(bytes(32)),
            tx_hash=Hash32(_keccak(b"tx" + nonce.to_bytes(32, "big"))),
            log_index=0,
        )

        async def go() -> None:
            store = await Store.open(self.url)
            try:
                async with store.transaction() as tx:
                    await tx.record_scan(CONFLUX, VAULT, Direction.TO_ETHEREUM, [event], 101)
                    if status is not None:
                        reason = HELD if status is TransferStatus.REVIEW else None
                        await tx.set_status(event.transfer_id, status, reason)
            finally:
                await store.close()

        asyncio.run(go())
        return "0x" + event.transfer_id.hex()

    def stored_review(self, tid: str) -> tuple[Review | None, list[AuditEntry]]:
        async def go() -> tuple[Review | None, list[AuditEntry]]:
            store = await Store.open(self.url)
            try:
                async with store.reader() as tx:
                    transfer_id = Hash32(bytes.fromhex(tid[2:]))
                    entries = await tx.audit_entries(transfer_id)
                    return await tx.review_of(transfer_id), [
                        e for e in entries if e.event == "reviewed"
                    ]
            finally:
                await store.close()

        return asyncio.run(go())


@pytest.fixture
def relayer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Relayer:
    for name in [n for n in os.environ if n.startswith("RELAYER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr("getpass.getuser", lambda: "carol")
    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    asyncio.run(upgrade(url))
    config = tmp_path / "relayer.toml"
    config.write_text(CONFIG.format(conflux=CONFLUX, ethereum=ETHEREUM, url=url))
    return Relayer(config, url)


def test_review_bad_transfer_id_is_named(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    for action in (["approve", "0x1234"], ["reject", "0x" + "ab" * 33, "--reason", "x"]):
        assert relayer.review(*action) == 2
        out, err = _one_line(capsys)
        assert out is None
        assert err.startswith("relayer: error: transfer id"), err


def test_review_reject_without_reason_is_a_usage_error(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        relayer.review("reject", "0x" + "ab" * 32)
    assert raised.value.code == 2
    _, err = _one_line(capsys)
    assert "--reason" in err, err


def test_review_reject_with_a_blank_reason_is_refused(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = relayer.transfer(1, TransferStatus.REVIEW)
    assert relayer.review("reject", tid, "--reason", "  ") == 2
    _, err = _one_line(capsys)
    assert "--reason" in err, err
    assert relayer.stored_review(tid) == (None, [])


def test_review_list_prints_held_transfers_with_why(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert relayer.review("list") == 0
    assert capsys.readouterr().out == ""
    held = relayer.transfer(7, TransferStatus.REVIEW)
    relayer.transfer(8)  # observed
    relayer.transfer(9, TransferStatus.CONFIRMED)
    assert relayer.review("list") == 0
    line, err = _one_line(capsys)
    assert err == ""
    assert line == {
        "transfer_id": held,
        "src_chain_id": CONFLUX,
        "token": checksum(TOKEN),
        "amount": str(500 * 10**18),
        "sender": checksum(Address(bytes.fromhex("0a" * 20))),
        "recipient": checksum(Address(bytes.fromhex("0b" * 20))),
        "why": HELD,
        "confirmed_at": None,
    }


def test_review_approve_then_a_second_decision_is_refused(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = relayer.transfer(11, TransferStatus.REVIEW)
    assert relayer.review("approve", tid, "--by", "alice", "--reason", "ok") == 0
    line, err = _one_line(capsys)
    assert line == {"transfer_id": tid, "approved": True, "by": "alice", "reason": "ok"}

    assert relayer.review("reject", tid, "--reason", "x") == 2
    out, err = _one_line(capsys)
    assert out is None
    assert err == f"relayer: error: transfer {tid} was already approved by alice"

    review, audited = relayer.stored_review(tid)
    assert review is not None
    assert (review.approved, review.reviewer, review.reason) == (True, "alice", "ok")
    assert [e.detail for e in audited] == [{"approved": True, "reviewer": "alice", "reason": "ok"}]


def test_review_reject_defaults_to_the_login_name(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = relayer.transfer(12, TransferStatus.REVIEW)
    assert relayer.review("reject", tid, "--reason", "sanctions hit") == 0
    line, _ = _one_line(capsys)
    assert line == {"transfer_id": tid, "approved": False, "by": "carol", "reason": "sanctions hit"}
    assert relayer.review("approve", tid, "--by", "alice") == 2
    _, err = _one_line(capsys)
    assert err.endswith("was already rejected by carol"), err


def test_review_approve_without_reason_says_approved(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = relayer.transfer(13, TransferStatus.REVIEW)
    assert relayer.review("approve", tid) == 0
    line, _ = _one_line(capsys)
    assert (line["approved"], line["by"], line["reason"]) == (True, "carol", "approved")


def test_review_approve_of_an_unknown_transfer(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = "0x" + "ab" * 32
    assert relayer.review("approve", tid) == 2
    _, err = _one_line(capsys)
    assert err == f"relayer: error: no transfer {tid} in this relayer's database"


@pytest.mark.parametrize("status", [None, TransferStatus.CONFIRMED, TransferStatus.RELEASED])
def test_review_approve_of_a_transfer_not_held(
    relayer: Relayer, capsys: pytest.CaptureFixture[str], status: TransferStatus | None
) -> None:
    tid = relayer.transfer(14, status)
    assert relayer.review("approve", tid, "--by", "alice") == 2
    _, err = _one_line(capsys)
    where = (status or TransferStatus.OBSERVED).value
    assert err == f"relayer: error: transfer {tid} is {where}, not held for review"
    assert relayer.stored_review(tid) == (None, [])


def test_review_by_longer_than_the_store_keeps_is_refused(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reviewer column holds 128 characters: PostgreSQL refused a longer name with a
    driver error (a traceback), SQLite kept it; now both are one line before the store."""
    tid = relayer.transfer(15, TransferStatus.REVIEW)
    assert relayer.review("approve", tid, "--by", "x" * 129) == 2
    _, err = _one_line(capsys)
    assert err.startswith("relayer: error: --by") and "128" in err, err
    assert relayer.stored_review(tid) == (None, [])
    assert relayer.review("approve", tid, "--by", "x" * 128) == 0
    line, _ = _one_line(capsys)
    assert line["by"] == "x" * 128


# -- veto -----------------------------------------------------------------------------


def test_veto_is_stored_with_who_and_why_and_audited(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = relayer.transfer(21, TransferStatus.ATTESTED)
    assert relayer.veto(tid, "--reason", "court order 2026/117") == 0
    line, err = _one_line(capsys)
    assert err == ""
    assert line["transfer_id"] == tid and line["vetoed_by"] == "carol"
    veto, audited = relayer.stored_veto(tid)
    assert veto is not None and (veto.vetoed_by, veto.reason) == ("carol", "court order 2026/117")
    assert not veto.automatic
    assert [e.detail["by"] for e in audited] == ["carol"]
    # a second veto is refused, naming the first; nothing more is recorded
    assert relayer.veto(tid, "--reason", "again", "--by", "dave") == 2
    _, err = _one_line(capsys)
    assert "already vetoed by carol: court order 2026/117" in err, err
    assert len(relayer.stored_veto(tid)[1]) == 1


@pytest.mark.parametrize(
    ("status", "named"),
    [
        (None, "is observed: it cannot be vetoed"),
        (TransferStatus.RELEASED, "is released: it cannot be vetoed"),
        (TransferStatus.REFUNDED, "is refunded: it cannot be vetoed"),
    ],
)
def test_veto_of_a_transfer_that_cannot_be_vetoed_is_refused(
    relayer: Relayer, capsys: pytest.CaptureFixture[str], status: TransferStatus | None, named: str
) -> None:
    tid = relayer.transfer(22, status)
    assert relayer.veto(tid, "--reason", "too late") == 2
    out, err = _one_line(capsys)
    assert out is None and named in err, err
    assert relayer.stored_veto(tid) == (None, [])


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["0x1234", "--reason", "x"], "transfer id"),
        (["0x" + "ab" * 32, "--reason", "x"], "no transfer 0x" + "ab" * 32),
        (["{tid}", "--reason", "  "], "--reason: a veto needs a reason"),
        (["{tid}", "--reason", "a\tb"], "--reason: the reason must be printable"),
        (["{tid}", "--reason", "x" * 301], "--reason: the reason is 301 characters"),
        (["{tid}", "--reason", "x", "--by", "auto"], "--by: 1 to 128 characters"),
        (["{tid}", "--reason", "x", "--by", "b" * 129], "--by: 1 to 128 characters"),
    ],
)
def test_veto_bad_input_is_named_and_nothing_is_recorded(
    relayer: Relayer, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    tid = relayer.transfer(23, TransferStatus.REFUSED)
    assert relayer.veto(*[a.replace("{tid}", tid) for a in argv]) == 2
    out, err = _one_line(capsys)
    assert out is None
    assert err.startswith("relayer: error: ") and named in err, err
    assert relayer.stored_veto(tid) == (None, [])


def test_veto_of_a_transfer_to_a_chain_without_a_known_contract_is_refused(
    relayer: Relayer, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = relayer.transfer(24, TransferStatus.REFUSED, dst=ETHEREUM + 1)
    assert relayer.veto(tid, "--reason", "x") == 2
    out, err = _one_line(capsys)
    assert out is None and f"goes to chain {ETHEREUM + 1}, where this relayer knows no" in err
    assert relayer.stored_veto(tid) == (None, [])
