"""Audit exports without a database: both formats round trip, every tampering is named."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from relayer.domain.types import Address, Hash32, checksum
from relayer.keys import Signer, signer_from_hex
from relayer.store.audit import GENESIS_HASH, link_hash
from relayer.store.audit_export import (
    CSV_HEADER,
    EXPORT_TYPE,
    ExportFault,
    ExportFormat,
    ExportFormatError,
    ExportRefused,
    ExportSignature,
    ExportVerified,
    SignatureFileError,
    export_digest,
    parse,
    parse_signature_file,
    render,
    sign_export,
    verify_export,
)
from relayer.store.records import AuditEntry

VALIDATOR = signer_from_hex("0x" + "11" * 32)
INTRUDER = signer_from_hex("0x" + "22" * 32)
T0 = datetime(2026, 12, 1, tzinfo=UTC)
FORMATS = st.sampled_from(list(ExportFormat))

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
details = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
transfer_ids = st.none() | st.binary(min_size=32, max_size=32).map(Hash32)
any_events = st.text(max_size=12)
one_line_events = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12)


@st.composite
def chains(
    draw: st.DrawFn, *, min_size: int = 0, events: st.SearchStrategy[str] = any_events
) -> list[AuditEntry]:
    """A slice of a chain: any first ``prev_hash``, seq numbers that may skip."""
    size = draw(st.integers(min_size, 6))
    prev = draw(st.just(GENESIS_HASH) | st.binary(min_size=32, max_size=32))
    seq = draw(st.integers(1, 10**12))
    entries = []
    for _ in range(size):
        at, tid, event, detail = draw(instants), draw(transfer_ids), draw(events), draw(details)
        digest = link_hash(prev, at, tid, event, detail)
        entries.append(AuditEntry(seq, at, tid, event, detail, prev, digest))
        prev = digest
        seq += draw(st.sampled_from([1, 1, 1, 2, 7]))
    return entries


def _signed(
    entries: list[AuditEntry], fmt: ExportFormat, signer: Signer = VALIDATOR
) -> tuple[bytes, ExportSignature]:
    return sign_export(entries, fmt, signer.address, signer.sign_digest)


def _refused(
    raw: bytes, signed: ExportSignature, who: Address = VALIDATOR.address
) -> ExportRefused:
    verdict = verify_export(raw, signed, who)
    assert isinstance(verdict, ExportRefused), verdict
    return verdict


def _records(raw: bytes, fmt: ExportFormat) -> tuple[bytes, list[bytes]]:
    """The header (empty for jsonl) and each entry's bytes with its line end."""
    if fmt is ExportFormat.JSONL:
        return b"", raw.splitlines(keepends=True)
    header, *rest = raw.split(b"\r\n")
    assert rest[-1] == b""
    return header + b"\r\n", [r + b"\r\n" for r in rest[:-1]]


def _join(header: bytes, records: list[bytes]) -> bytes:
    return header + b"".join(records)


# -- rendering and parsing ------------------------------------------------------------


@given(chains(), FORMATS)
def test_parse_of_render_gives_the_entries_back(
    entries: list[AuditEntry], fmt: ExportFormat
) -> None:
    parsed = parse(render(entries, fmt), fmt)
    assert list(parsed.entries) == entries
    assert [e.at.utcoffset() for e in parsed.entries] == [timedelta(0)] * len(entries)
    assert list(parsed.lines) == sorted(set(parsed.lines))
    if entries:
        assert parsed.lines[0] == (1 if fmt is ExportFormat.JSONL else 2)


@given(chains(min_size=1))
def test_jsonl_lines_are_canonical_objects_with_the_seven_columns(
    entries: list[AuditEntry],
) -> None:
    raw = render(entries, ExportFormat.JSONL)
    assert raw.endswith(b"\n") and raw.count(b"\n") == len(entries)
    for line, entry in zip(raw.splitlines(), entries, strict=True):
        obj = json.loads(line)
        assert list(obj) == sorted(obj)
        assert obj["seq"] == entry.seq and obj["event"] == entry.event
        assert obj["detail"] == entry.detail
        assert obj["at"] == entry.at.astimezone(UTC).isoformat(timespec="microseconds")
        assert obj["transfer_id"] == (
            None if entry.transfer_id is None else "0x" + entry.transfer_id.hex()
        )
        assert (obj["prev_hash"], obj["hash"]) == (
            "0x" + entry.prev_hash.hex(),
            "0x" + entry.hash.hex(),
        )


def test_csv_is_standard_csv_with_a_header() -> None:
    detail = {"why": 'a "quoted", comma', "n": 1}
    entry = _entry(1, "reviewed", detail, tid=Hash32(b"\xab" * 32))
    bare = _entry(2, "published", {}, prev=entry.hash)
    raw = render([entry, bare], ExportFormat.CSV)
    rows = list(csv.reader(io.StringIO(raw.decode(), newline="")))
    assert rows[0] == ["seq", "at", "transfer_id", "event", "detail", "prev_hash", "hash"]
    assert rows[1][0] == "1" and rows[1][2] == "0x" + "ab" * 32
    assert (
        json.loads(rows[1][4]) == detail and rows[1][4] == '{"n":1,"why":"a \\"quoted\\", comma"}'
    )
    assert rows[2][2] == "" and rows[2][4] == "{}"
    assert raw.startswith(CSV_HEADER.encode()) and raw.endswith(b"\r\n")


def test_an_entry_in_another_zone_is_written_in_utc() -> None:
    entry = _entry(1, "e", {})
    moved = dataclasses.replace(entry, at=entry.at.astimezone(ZoneInfo("Asia/Hong_Kong")))
    assert render([moved], ExportFormat.JSONL) == render([entry], ExportFormat.JSONL)
    assert b'"at":"2026-12-01T00:00:01.000000+00:00"' in render([moved], ExportFormat.JSONL)


def _entry(
    seq: int,
    event: str,
    detail: dict[str, Any],
    *,
    prev: bytes = GENESIS_HASH,
    tid: Hash32 | None = None,
) -> AuditEntry:
    at = T0 + timedelta(seconds=seq)
    return AuditEntry(seq, at, tid, event, detail, prev, link_hash(prev, at, tid, event, detail))


def _chain(count: int, first_seq: int = 1) -> list[AuditEntry]:
    entries, prev = [], GENESIS_HASH
    for seq in range(first_seq, first_seq + count):
        entries.append(_entry(seq, f"event-{seq}", {"n": seq}, prev=prev))
        prev = entries[-1].hash
    return entries


JSONL_LINE = _chain(1)[0]
GOOD = render([JSONL_LINE], ExportFormat.JSONL).decode().rstrip("\n")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (GOOD, "no newline at the end"),
        (GOOD.replace(",", ", ", 1) + "\n", "not canonical JSON"),
        (GOOD.replace('"seq":1', '"seq":1,"extra":2') + "\n", "key 'extra' unknown"),
        (GOOD.replace(',"seq":1', "") + "\n", "key 'seq' missing"),
        (GOOD.replace('"seq":1', '"seq":1,"seq":1') + "\n", "key 'seq' given twice"),
        (GOOD.replace('"seq":1', '"seq":true') + "\n", "seq must be a positive uint64"),
        (GOOD.replace('"seq":1', '"seq":0') + "\n", "seq must be a positive uint64"),
        (GOOD.replace('"n":1', '"n":NaN') + "\n", "not JSON"),
        (GOOD.replace("+00:00", "") + "\n", "at must be UTC ISO 8601"),
        (GOOD.replace(".000000+00:00", "Z") + "\n", "at must be UTC ISO 8601"),
        (GOOD.replace("0x0000", "0X0000") + "\n", "prev_hash must be 0x and 64 lower-case"),
        (GOOD.replace('"detail":{"n":1}', '"detail":[1]') + "\n", "detail must be a JSON object"),
        ("[]\n", "not a JSON object"),
        (GOOD + "\n\n", "not JSON"),
        (GOOD + "\r\n", "not canonical JSON"),
    ],
)
def test_parse_jsonl_refuses_what_render_does_not_write(text: str, says: str) -> None:
    with pytest.raises(ExportFormatError, match=re.escape(says)) as caught:
        parse(text.encode(), ExportFormat.JSONL)
    assert str(caught.value).startswith(f"malformed line {caught.value.line}: ")
    assert caught.value.line in (1, 2)


CSV_GOOD = render([JSONL_LINE], ExportFormat.CSV).decode()


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (CSV_GOOD.replace("\r\n", "\n"), 1, "the header must be"),
        (CSV_GOOD.replace("seq,", "Seq,"), 1, "the header must be"),
        (CSV_GOOD[:-2] + "\n", 2, "a field must end with a comma or CRLF"),
        (CSV_GOOD[:-2], 2, "a field must end with a comma or CRLF"),
        (CSV_GOOD.replace("event-1", '"event-1"'), 2, "not as written"),
        (CSV_GOOD.replace(",event-1,", ",event-1,x,"), 2, "7 fields expected, got 8"),
        (CSV_GOOD + "\r\n", 3, "7 fields expected, got 1"),
        (CSV_GOOD.replace('"{""n"":1}"', '"{""n"":1}'), 2, "a quoted field is not closed"),
        (CSV_GOOD.replace('"{""n"":1}"', '"{""n"": 1}"'), 2, "not as written"),
        (CSV_GOOD.replace('"{""n"":1}"', "[]"), 2, "detail must be a JSON object"),
        (CSV_GOOD.replace("\r\n1,", "\r\n01,"), 2, "not as written"),
        (CSV_GOOD.replace("\r\n1,", "\r\n-1,"), 2, "seq must be a positive uint64"),
    ],
)
def test_parse_csv_refuses_what_render_does_not_write(text: str, line: int, says: str) -> None:
    with pytest.raises(ExportFormatError, match=re.escape(says)) as caught:
        parse(text.encode(), ExportFormat.CSV)
    assert caught.value.line == line


def test_parse_names_the_line_of_bytes_that_are_not_utf8() -> None:
    raw = render(_chain(3), ExportFormat.JSONL).replace(b"event-2", b"event-\xff")
    with pytest.raises(ExportFormatError, match="malformed line 2: not UTF-8"):
        parse(raw, ExportFormat.JSONL)


# -- the signature --------------------------------------------------------------------


@given(
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
)
def test_export_digest_matches_eth_account(
    content: bytes, first: int, last: int, count: int
) -> None:
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                ],
                "AuditExport": [
                    {"name": "contentHash", "type": "bytes32"},
                    {"name": "firstSeq", "type": "uint64"},
                    {"name": "lastSeq", "type": "uint64"},
                    {"name": "count", "type": "uint64"},
                ],
            },
            "primaryType": "AuditExport",
            "domain": {"name": "ConfluxBridgePolicy", "version": "1"},
            "message": {"contentHash": content, "firstSeq": first, "lastSeq": last, "count": count},
        }
    )
    assert export_digest(content, first, last, count) == keccak(
        b"\x19\x01" + signable.header + signable.body
    )
    assert (
        EXPORT_TYPE
        == "AuditExport(bytes32 contentHash,uint64 firstSeq,uint64 lastSeq,uint64 count)"
    )


def test_export_digest_refuses_numbers_beyond_uint64() -> None:
    with pytest.raises(ValueError, match="count out of uint64 range"):
        export_digest(bytes(32), 1, 1, 2**64)


@given(chains(), FORMATS)
def test_a_signed_export_verifies_and_says_what_it_holds(
    entries: list[AuditEntry], fmt: ExportFormat
) -> None:
    raw, signed = _signed(entries, fmt)
    assert parse_signature_file(signed.to_json()) == signed
    verdict = verify_export(raw, signed, VALIDATOR.address)
    assert isinstance(verdict, ExportVerified)
    summary = verdict.summary()
    assert summary["content_hash"] == "0x" + keccak(raw).hex()
    assert summary["validator"] == checksum(VALIDATOR.address)
    if entries:
        assert (summary["first_seq"], summary["last_seq"]) == (entries[0].seq, entries[-1].seq)
        assert summary["count"] == len(entries)
        assert summary["head"] == "0x" + entries[-1].hash.hex()
        assert summary["first_prev_hash"] == "0x" + entries[0].prev_hash.hex()
    else:
        assert (summary["first_seq"], summary["last_seq"], summary["count"]) == (0, 0, 0)
        assert summary["head"] is None


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_an_empty_export_is_signed_and_verifies(fmt: ExportFormat) -> None:
    raw, signed = _signed([], fmt)
    assert raw == (b"" if fmt is ExportFormat.JSONL else CSV_HEADER.encode())
    assert (signed.first_seq, signed.last_seq, signed.count) == (0, 0, 0)
    assert isinstance(verify_export(raw, signed, VALIDATOR.address), ExportVerified)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_an_export_emptied_after_signing_is_removed_entries(fmt: ExportFormat) -> None:
    _, signed = _signed(_chain(3), fmt)
    refused = _refused(render([], fmt), signed)
    assert refused.fault is ExportFault.REMOVED
    assert refused.detail == (
        "removed entry: the file holds no entries, the signature covers seq 1..3, 3 entries"
    )


# -- tampering ------------------------------------------------------------------------

SEQ_JSONL = re.compile(rb',"seq":(\d+),"transfer_id":(?:null|"0x[0-9a-f]{64}")}\n$')


def _seq_span(record: bytes, fmt: ExportFormat) -> range:
    if fmt is ExportFormat.CSV:
        return range(0, record.index(b","))
    match = SEQ_JSONL.search(record)
    assert match is not None
    return range(match.start(1), match.end(1))


@given(
    chains(min_size=1, events=one_line_events),
    FORMATS,
    st.data(),
)
def test_any_single_byte_edit_is_refused_naming_its_line(
    entries: list[AuditEntry], fmt: ExportFormat, data: st.DataObject
) -> None:
    raw, signed = _signed(entries, fmt)
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]), label="byte")
    edited = raw[:position] + bytes([byte]) + raw[position + 1 :]
    refused = _refused(edited, signed)

    header, records = _records(raw, fmt)
    line = raw[:position].count(b"\n") + 1  # no entry spans lines here
    index = line - (1 if fmt is ExportFormat.JSONL else 2)
    if index < 0:  # the csv header
        assert (refused.fault, refused.line) == (ExportFault.MALFORMED, 1)
        return
    start = len(header) + sum(len(r) for r in records[:index])
    if position - start in _seq_span(records[index], fmt):
        allowed = {
            ExportFault.MALFORMED,
            ExportFault.REORDERED,
            ExportFault.EDITED,
            ExportFault.TAMPERED,
        }
        assert refused.fault in allowed, refused
        if refused.fault is ExportFault.MALFORMED:
            assert refused.line == line
        if refused.fault is ExportFault.REORDERED:
            assert refused.line in (line, line + 1)
        return
    assert (refused.fault, refused.line) in {
        (ExportFault.MALFORMED, line),
        (ExportFault.EDITED, line),
    }, refused
    if refused.fault is ExportFault.EDITED:
        seq = entries[index].seq
        assert refused.seq == seq
        assert refused.detail.startswith(f"edited entry at seq {seq} (line {line}): ")


@given(chains(min_size=3), FORMATS, st.data())
def test_a_removed_line_is_named(
    entries: list[AuditEntry], fmt: ExportFormat, data: st.DataObject
) -> None:
    raw, signed = _signed(entries, fmt)
    header, records = _records(raw, fmt)
    victim = data.draw(st.integers(0, len(records) - 1), label="victim")
    refused = _refused(_join(header, records[:victim] + records[victim + 1 :]), signed)
    assert refused.fault is ExportFault.REMOVED
    if 0 < victim < len(records) - 1:
        after = entries[victim + 1]
        assert refused.seq == after.seq
        assert (
            f"the chain breaks between seq {entries[victim - 1].seq} and seq {after.seq}"
            in refused.detail
        )
    else:
        assert "the signature covers seq" in refused.detail


@given(chains(min_size=2), FORMATS, st.data())
def test_swapped_lines_are_reordered(
    entries: list[AuditEntry], fmt: ExportFormat, data: st.DataObject
) -> None:
    raw, signed = _signed(entries, fmt)
    header, records = _records(raw, fmt)
    i = data.draw(st.integers(0, len(records) - 2), label="i")
    records[i], records[i + 1] = records[i + 1], records[i]
    refused = _refused(_join(header, records), signed)
    assert refused.fault is ExportFault.REORDERED
    assert refused.seq == entries[i].seq
    assert refused.detail.startswith(f"reordered: seq {entries[i].seq} ")
    assert refused.detail.endswith(f"comes after seq {entries[i + 1].seq}")


@given(chains(), FORMATS)
def test_an_export_signed_by_another_key_is_wrong_signer(
    entries: list[AuditEntry], fmt: ExportFormat
) -> None:
    raw, forged = _signed(entries, fmt, INTRUDER)
    refused = _refused(raw, forged)
    assert refused.fault is ExportFault.WRONG_SIGNER
    assert refused.detail.startswith(
        f"wrong signer: the signature recovers to {checksum(INTRUDER.address)}, "
        f"not {checksum(VALIDATOR.address)}"
    )
    # the intruder's file names the validator: the signature still is not the validator's
    named = dataclasses.replace(forged, validator=VALIDATOR.address)
    assert _refused(raw, named).fault is ExportFault.WRONG_SIGNER


def test_a_signature_file_naming_another_validator_is_wrong_signer() -> None:
    raw, signed = _signed(_chain(2), ExportFormat.JSONL)
    refused = _refused(raw, dataclasses.replace(signed, validator=INTRUDER.address))
    assert refused.detail == (
        f"wrong signer: the signature file names {checksum(INTRUDER.address)}, "
        f"not {checksum(VALIDATOR.address)}"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda s: dataclasses.replace(s, content_hash=Hash32(keccak(b"other file"))),
        lambda s: dataclasses.replace(s, count=s.count - 1),
        lambda s: dataclasses.replace(s, signature=s.signature[:64] + bytes([29])),
    ],
)
def test_a_signature_file_edited_after_signing_is_wrong_signer(
    change: Callable[[ExportSignature], ExportSignature],
) -> None:
    raw, signed = _signed(_chain(3), ExportFormat.CSV)
    assert _refused(raw, change(signed)).fault is ExportFault.WRONG_SIGNER


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_an_entry_rewritten_with_a_new_hash_is_named(fmt: ExportFormat) -> None:
    """Whoever edits an entry and recomputes its hash still breaks the next link."""
    entries = _chain(4)
    forged = _entry(2, "event-2", {"n": 1000}, prev=entries[0].hash)
    _, signed = _signed(entries, fmt)
    raw = render([entries[0], forged, *entries[2:]], fmt)
    refused = _refused(raw, signed)
    assert (refused.fault, refused.seq) == (ExportFault.EDITED, 2)
    assert refused.detail.startswith("edited entry at seq 2: seq 3 ")


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_a_slice_rewritten_whole_is_a_tampered_file(fmt: ExportFormat) -> None:
    """Links recomputed from an edit to the end, same seqs: only the signed hash tells."""
    entries = _chain(3)
    forged, prev = [], GENESIS_HASH
    for entry in entries:
        detail = {"n": entry.seq * 10}
        forged.append(_entry(entry.seq, entry.event, detail, prev=prev))
        prev = forged[-1].hash
    _, signed = _signed(entries, fmt)
    refused = _refused(render(forged, fmt), signed)
    assert refused.fault is ExportFault.TAMPERED
    assert refused.detail.startswith("tampered file: its keccak256 is 0x")


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_entries_added_at_the_end_are_named(fmt: ExportFormat) -> None:
    entries = _chain(4)
    _, signed = _signed(entries[:3], fmt)
    refused = _refused(render(entries, fmt), signed)
    assert refused.fault is ExportFault.ADDED
    assert refused.detail == (
        "added entries: the file holds seq 1..4, 4 entries, the signature covers seq 1..3, "
        "3 entries"
    )


def test_seq_numbers_may_skip_where_the_link_holds() -> None:
    """PostgreSQL's sequence skips the seq of a rolled-back transaction; the link shows
    nothing was removed."""
    first = _entry(5, "a", {})
    second = _entry(9, "b", {}, prev=first.hash)
    raw, signed = _signed([first, second], ExportFormat.JSONL)
    assert isinstance(verify_export(raw, signed, VALIDATOR.address), ExportVerified)


def test_a_malformed_export_names_the_line() -> None:
    raw, signed = _signed(_chain(3), ExportFormat.JSONL)
    refused = _refused(raw.replace(b'"event":"event-3"', b'"event": "event-3"'), signed)
    assert (refused.fault, refused.line) == (ExportFault.MALFORMED, 3)
    assert refused.detail == "malformed line 3: not canonical JSON (sorted keys, no spaces)"


def test_an_export_read_in_the_wrong_format_is_malformed() -> None:
    """The format is not signed (the bytes are): read as the other one, line 1 is wrong."""
    for fmt, other in (
        (ExportFormat.JSONL, ExportFormat.CSV),
        (ExportFormat.CSV, ExportFormat.JSONL),
    ):
        raw, signed = _signed(_chain(2), fmt)
        refused = _refused(raw, dataclasses.replace(signed, format=other))
        assert (refused.fault, refused.line) == (ExportFault.MALFORMED, 1)


# -- the .sig file --------------------------------------------------------------------


def _sig_document(**changes: Any) -> bytes:
    _, signed = _signed(_chain(2), ExportFormat.JSONL)
    document = json.loads(signed.to_json())
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not ...}).encode()


def test_the_signature_file_is_one_json_object_with_a_checksummed_validator() -> None:
    _, signed = _signed(_chain(2), ExportFormat.CSV)
    text = signed.to_json().decode()
    assert text.endswith("}\n") and text.count("\n") == 1
    document = json.loads(text)
    assert list(document) == [
        "validator",
        "format",
        "first_seq",
        "last_seq",
        "count",
        "content_hash",
        "signature",
    ]
    assert document["validator"] == checksum(VALIDATOR.address)
    assert (document["format"], document["first_seq"], document["last_seq"], document["count"]) == (
        "csv",
        1,
        2,
        2,
    )
    assert re.fullmatch(r"0x[0-9a-f]{130}", document["signature"])


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"extra": 1}, "extra: unknown key"),
        ({"count": ...}, "count: missing"),
        ({"count": 2.0}, "count must be an integer"),
        ({"count": True}, "count must be an integer"),
        ({"count": 2**64}, "count must be an integer"),
        ({"count": 0}, "disagree"),
        ({"first_seq": 3}, "disagree"),
        ({"count": 3}, "disagree"),
        ({"format": "xml"}, "format must be 'jsonl' or 'csv'"),
        ({"validator": "0x" + "ab" * 19 + "aB"}, "bad EIP-55 checksum"),
        ({"content_hash": "0x12"}, "content_hash must be 0x and 64 hex digits"),
        ({"signature": "0x" + "00" * 64}, "signature must be 0x and 130 hex digits"),
    ],
)
def test_parse_signature_file_names_what_is_wrong(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(SignatureFileError, match=re.escape(says)):
        parse_signature_file(_sig_document(**changes))


@pytest.mark.parametrize(
    "raw", [b"", b"[]", b"{", b"\xff", b'{"a": NaN}', b'{"a": 1, "a": 1}', b" " * 5000]
)
def test_parse_signature_file_refuses_what_is_not_a_json_object(raw: bytes) -> None:
    with pytest.raises(SignatureFileError):
        parse_signature_file(raw)
