"""Signed exports of the audit chain: the file a supervisor receives, and how it is checked.

Pure rules (no asyncio, no SQL): ``relayer audit export`` reads a slice of ``audit_log``
and writes it with these functions; ``relayer audit verify-export`` checks a file with
nothing but its bytes and the validator's address.

Formats (``COLUMNS`` in this order; one entry per line, in ``seq`` order):

* ``jsonl``: each entry is ``canonical_json`` of ``{seq, at, transfer_id, event, detail,
  prev_hash, hash}`` and ``\\n``; an empty export is an empty file;
* ``csv``: a header line, then one record per entry, RFC 4180 (``\\r\\n``, fields quoted
  only when they must be); ``transfer_id`` is empty for none and ``detail`` is its
  canonical JSON text.

``at`` is UTC ISO 8601 with microseconds, exactly the text ``link_hash`` hashes; hashes
and ids are ``0x`` and lower-case hex. The parsers are strict: a file that is not exactly
what ``render`` writes for the entries it holds is malformed, naming the line.

The signature is EIP-712 in the supervision domain of packs and decisions
(``relayer.domain.decisions.SUPERVISION_SEPARATOR``)::

    AuditExport(bytes32 contentHash,uint64 firstSeq,uint64 lastSeq,uint64 count)

with ``contentHash`` keccak256 of the file's exact bytes and ``firstSeq``/``lastSeq`` the
first and last entry's ``seq`` (0 and 0 for an empty export). An export is a slice of the
chain: its first ``prev_hash`` is taken as given, every later one must be the hash of the
entry before it. ``seq`` numbers only go up; they may skip (PostgreSQL's sequence skips the
numbers of rolled-back transactions) where the link between the two entries holds, since
the hash links, not the numbers, show that nothing was removed.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.domain.decisions import SUPERVISION_SEPARATOR
from relayer.domain.errors import DomainError, InvalidSignatureError
from relayer.domain.signature import recover_signer
from relayer.domain.types import UINT64_MAX, Address, Hash32, checksum, parse_address
from relayer.store.audit import canonical_json, link_hash
from relayer.store.records import AuditEntry

EXPORT_TYPE: Final = "AuditExport(bytes32 contentHash,uint64 firstSeq,uint64 lastSeq,uint64 count)"
EXPORT_TYPEHASH: Final = Hash32(keccak(text=EXPORT_TYPE))
COLUMNS: Final = ("seq", "at", "transfer_id", "event", "detail", "prev_hash", "hash")
CSV_HEADER: Final = ",".join(COLUMNS) + "\r\n"
MAX_SIGNATURE_FILE_BYTES: Final = 4096
_SIGNATURE_KEYS: Final = (
    "validator",
    "format",
    "first_seq",
    "last_seq",
    "count",
    "content_hash",
    "signature",
)
_HEX = frozenset("0123456789abcdef")


class ExportFormat(enum.StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


class ExportFormatError(DomainError):
    """An export file that is not what ``render`` writes; ``line`` is 1-based."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(f"malformed line {line}: {detail}")
        self.line = line
        self.detail = detail


class SignatureFileError(DomainError):
    """A ``.sig`` file that cannot be read; the message names the field."""


# ------------------------------------------------------------------------ rendering


def at_text(at: datetime) -> str:
    """``at`` as ``link_hash`` hashes it: UTC, ISO 8601, microseconds."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """One entry as the JSON object a ``jsonl`` line holds."""
    return {
        "seq": entry.seq,
        "at": at_text(entry.at),
        "transfer_id": None if entry.transfer_id is None else _hex(entry.transfer_id),
        "event": entry.event,
        "detail": entry.detail,
        "prev_hash": _hex(entry.prev_hash),
        "hash": _hex(entry.hash),
    }


def _jsonl_line(entry: AuditEntry) -> str:
    return canonical_json(entry_fields(entry)).decode("utf-8") + "\n"


def _csv_record(entry: AuditEntry) -> str:
    fields = entry_fields(entry)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [
            str(entry.seq),
            fields["at"],
            fields["transfer_id"] or "",
            entry.event,
            canonical_json(entry.detail).decode("utf-8"),
            fields["prev_hash"],
            fields["hash"],
        ]
    )
    return buffer.getvalue()


def render(entries: Sequence[AuditEntry], fmt: ExportFormat) -> bytes:
    """The export file's bytes for ``entries`` (in the order given)."""
    if fmt is ExportFormat.JSONL:
        return "".join(_jsonl_line(e) for e in entries).encode("utf-8")
    return (CSV_HEADER + "".join(_csv_record(e) for e in entries)).encode("utf-8")


# ------------------------------------------------------------------------ parsing


@dataclass(frozen=True, slots=True)
class ParsedExport:
    """The entries of an export file and the line each starts on."""

    entries: tuple[AuditEntry, ...]
    lines: tuple[int, ...]


def _no_duplicates(line: int) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ExportFormatError(line, f"key {key!r} given twice")
            out[key] = value
        return out

    return hook


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json(text: str, line: int, what: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates(line), parse_constant=_no_constant)
    except ExportFormatError:
        raise
    except (ValueError, RecursionError) as err:  # RecursionError: nested too deep
        raise ExportFormatError(line, f"{what} is not JSON: {err}") from err


def _hash_field(value: Any, line: int, key: str) -> bytes:
    if not (
        isinstance(value, str)
        and len(value) == 66
        and value.startswith("0x")
        and set(value[2:]) <= _HEX
    ):
        raise ExportFormatError(line, f"{key} must be 0x and 64 lower-case hex digits")
    return bytes.fromhex(value[2:])


def _entry(fields: Mapping[str, Any], line: int) -> AuditEntry:
    """An entry from its fields as JSON values, each type checked."""
    seq = fields["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= UINT64_MAX:
        raise ExportFormatError(line, f"seq must be a positive uint64, got {seq!r:.40}")
    at = fields["at"]
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or at_text(when) != at:
        raise ExportFormatError(line, f"at must be UTC ISO 8601 with microseconds, got {at!r:.60}")
    transfer_id = fields["transfer_id"]
    tid = None if transfer_id is None else Hash32(_hash_field(transfer_id, line, "transfer_id"))
    event = fields["event"]
    if not isinstance(event, str):
        raise ExportFormatError(line, "event must be a string")
    detail = fields["detail"]
    if not isinstance(detail, dict):
        raise ExportFormatError(line, "detail must be a JSON object")
    prev_hash = _hash_field(fields["prev_hash"], line, "prev_hash")
    return AuditEntry(
        seq, when, tid, event, detail, prev_hash, _hash_field(fields["hash"], line, "hash")
    )


def _parse_jsonl(text: str) -> ParsedExport:
    if not text:
        return ParsedExport((), ())
    *lines, tail = text.split("\n")
    if tail:
        raise ExportFormatError(len(lines) + 1, "no newline at the end of the file")
    entries: list[AuditEntry] = []
    for number, line_text in enumerate(lines, start=1):
        obj = _json(line_text, number, "the line")
        if not isinstance(obj, dict):
            raise ExportFormatError(number, "not a JSON object")
        if set(obj) != set(COLUMNS):
            odd = sorted(set(obj) ^ set(COLUMNS))[0]
            raise ExportFormatError(
                number, f"key {odd!r} {'missing' if odd in COLUMNS else 'unknown'}"
            )
        entry = _entry(obj, number)
        if _jsonl_line(entry) != line_text + "\n":
            raise ExportFormatError(number, "not canonical JSON (sorted keys, no spaces)")
        entries.append(entry)
    return ParsedExport(tuple(entries), tuple(range(1, len(entries) + 1)))


_UNQUOTED = re.compile(r'[^,"\r\n]*')


def _csv_record_fields(text: str, position: int, line: int) -> tuple[list[str], int]:
    """The fields of the RFC 4180 record at ``position`` and where the next one starts."""
    fields: list[str] = []
    while True:
        if text.startswith('"', position):
            parts: list[str] = []
            position += 1
            while True:
                end = text.find('"', position)
                if end < 0:
                    raise ExportFormatError(line, "a quoted field is not closed")
                parts.append(text[position:end])
                position = end + 1
                if not text.startswith('"', position):
                    break
                parts.append('"')  # "" inside quotes is one quote
                position += 1
            fields.append("".join(parts))
        else:
            match = _UNQUOTED.match(text, position)
            assert match is not None  # the pattern matches the empty string
            fields.append(match.group())
            position = match.end()
        if text.startswith(",", position):
            position += 1
        elif text.startswith("\r\n", position):
            return fields, position + 2
        else:
            raise ExportFormatError(line, "a field must end with a comma or CRLF")


def _parse_csv(text: str) -> ParsedExport:
    if not text.startswith(CSV_HEADER):
        raise ExportFormatError(1, f"the header must be {CSV_HEADER.strip()!r} and CRLF")
    entries: list[AuditEntry] = []
    starts: list[int] = []
    position, line = len(CSV_HEADER), 2
    while position < len(text):
        record, end = _csv_record_fields(text, position, line)
        if len(record) != len(COLUMNS):
            raise ExportFormatError(line, f"{len(COLUMNS)} fields expected, got {len(record)}")
        fields: dict[str, Any] = dict(zip(COLUMNS, record, strict=True))
        seq = fields["seq"]
        if not (seq.isascii() and seq.isdigit() and len(seq) <= 20):
            raise ExportFormatError(line, f"seq must be a positive uint64, got {seq!r:.40}")
        fields["seq"] = int(seq)
        fields["transfer_id"] = fields["transfer_id"] or None
        fields["detail"] = _json(fields["detail"], line, "detail")
        entry = _entry(fields, line)
        if _csv_record(entry) != text[position:end]:
            raise ExportFormatError(line, "not as written (quotes only where needed)")
        entries.append(entry)
        starts.append(line)
        line += text.count("\n", position, end)
        position = end
    return ParsedExport(tuple(entries), tuple(starts))


def parse(raw: bytes, fmt: ExportFormat) -> ParsedExport:
    """Read an export file strictly; raises ``ExportFormatError`` naming the line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ExportFormatError(raw[: err.start].count(b"\n") + 1, "not UTF-8") from err
    if fmt is ExportFormat.JSONL:
        return _parse_jsonl(text)
    return _parse_csv(text)


# ------------------------------------------------------------------------ signing


def export_digest(content_hash: bytes, first_seq: int, last_seq: int, count: int) -> Hash32:
    """The EIP-712 digest a validator signs for an export (see the module docstring)."""
    for name, value in (("firstSeq", first_seq), ("lastSeq", last_seq), ("count", count)):
        if not 0 <= value <= UINT64_MAX:
            raise ValueError(f"{name} out of uint64 range: {value}")
    struct = keccak(
        encode(
            ["bytes32", "bytes32", "uint64", "uint64", "uint64"],
            [EXPORT_TYPEHASH, content_hash, first_seq, last_seq, count],
        )
    )
    return Hash32(keccak(b"\x19\x01" + SUPERVISION_SEPARATOR + struct))


@dataclass(frozen=True, slots=True)
class ExportSignature:
    """What the ``.sig`` file beside an export holds."""

    validator: Address
    format: ExportFormat
    first_seq: int
    last_seq: int
    count: int
    content_hash: Hash32
    signature: bytes

    @property
    def digest(self) -> Hash32:
        return export_digest(self.content_hash, self.first_seq, self.last_seq, self.count)

    def to_json(self) -> bytes:
        """The ``.sig`` file: one JSON object and a newline."""
        document = {
            "validator": checksum(self.validator),
            "format": self.format.value,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "count": self.count,
            "content_hash": _hex(self.content_hash),
            "signature": _hex(self.signature),
        }
        return json.dumps(document).encode("utf-8") + b"\n"


def entries_range(entries: Sequence[AuditEntry]) -> tuple[int, int, int]:
    """``(first_seq, last_seq, count)``; ``(0, 0, 0)`` for no entries."""
    if not entries:
        return 0, 0, 0
    return entries[0].seq, entries[-1].seq, len(entries)


def sign_export(
    entries: Sequence[AuditEntry],
    fmt: ExportFormat,
    validator: Address,
    sign: Callable[[bytes], bytes],
) -> tuple[bytes, ExportSignature]:
    """The export file of ``entries`` and its signature by ``sign`` (``validator``'s key)."""
    raw = render(entries, fmt)
    first, last, count = entries_range(entries)
    content_hash = Hash32(keccak(raw))
    signature = sign(export_digest(content_hash, first, last, count))
    return raw, ExportSignature(validator, fmt, first, last, count, content_hash, signature)


def _uint64(document: Mapping[str, Any], key: str) -> int:
    value = document[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT64_MAX:
        raise SignatureFileError(f"{key} must be an integer between 0 and {UINT64_MAX}")
    return value


def _hex_bytes(document: Mapping[str, Any], key: str, size: int) -> bytes:
    value = document[key]
    if not (
        isinstance(value, str)
        and len(value) == 2 + 2 * size
        and value.startswith("0x")
        and set(value[2:].lower()) <= _HEX
    ):
        raise SignatureFileError(f"{key} must be 0x and {2 * size} hex digits")
    return bytes.fromhex(value[2:])


def parse_signature_file(raw: bytes) -> ExportSignature:
    """Read a ``.sig`` file strictly; raises ``SignatureFileError`` naming the field."""
    if len(raw) > MAX_SIGNATURE_FILE_BYTES:
        raise SignatureFileError(f"larger than {MAX_SIGNATURE_FILE_BYTES} bytes")
    try:
        document = _json(raw.decode("utf-8"), 1, "the file")
    except UnicodeDecodeError as err:
        raise SignatureFileError("not UTF-8") from err
    except ExportFormatError as err:
        raise SignatureFileError(err.detail) from err
    if not isinstance(document, dict):
        raise SignatureFileError("not a JSON object")
    if set(document) != set(_SIGNATURE_KEYS):
        odd = sorted(set(document) ^ set(_SIGNATURE_KEYS))[0]
        raise SignatureFileError(f"{odd}: {'missing' if odd in _SIGNATURE_KEYS else 'unknown key'}")
    validator = document["validator"]
    try:
        address = parse_address(validator, "validator", strict_checksum=True)
    except ValueError as err:
        raise SignatureFileError(str(err)) from err
    try:
        fmt = ExportFormat(document["format"])
    except ValueError as err:
        raise SignatureFileError("format must be 'jsonl' or 'csv'") from err
    first, last, count = (_uint64(document, k) for k in ("first_seq", "last_seq", "count"))
    if (count == 0) != (first == last == 0) or (
        count and not (1 <= first <= last and count <= last - first + 1)
    ):
        raise SignatureFileError(f"first_seq {first}, last_seq {last}, count {count} disagree")
    return ExportSignature(
        validator=address,
        format=fmt,
        first_seq=first,
        last_seq=last,
        count=count,
        content_hash=Hash32(_hex_bytes(document, "content_hash", 32)),
        signature=_hex_bytes(document, "signature", 65),
    )


# ------------------------------------------------------------------------ verifying


class ExportFault(enum.StrEnum):
    """Why an export does not verify."""

    WRONG_SIGNER = "wrong_signer"  # the signature is not the validator's
    MALFORMED = "malformed"  # not what ``render`` writes
    REORDERED = "reordered"  # a seq not above the one before it
    EDITED = "edited"  # an entry's content does not match its hash; a rehashed entry; seqs
    REMOVED = "removed"  # a link skipping entries; entries missing at either end
    ADDED = "added"  # more entries than were signed
    TAMPERED = "tampered"  # the entries check out, the bytes are not those signed


@dataclass(frozen=True, slots=True)
class ExportVerified:
    """The export is the validator's, whole, and a consistent slice of its chain."""

    signed: ExportSignature
    entries: tuple[AuditEntry, ...]

    def summary(self) -> dict[str, Any]:
        """What ``relayer audit verify-export`` prints."""
        first = self.entries[0].prev_hash if self.entries else None
        head = self.entries[-1].hash if self.entries else None
        return {
            "verified": True,
            "validator": checksum(self.signed.validator),
            "format": self.signed.format.value,
            "first_seq": self.signed.first_seq,
            "last_seq": self.signed.last_seq,
            "count": self.signed.count,
            "content_hash": _hex(self.signed.content_hash),
            "from": None if not self.entries else at_text(self.entries[0].at),
            "to": None if not self.entries else at_text(self.entries[-1].at),
            "first_prev_hash": None if first is None else _hex(first),
            "head": None if head is None else _hex(head),
        }


@dataclass(frozen=True, slots=True)
class ExportRefused:
    """What is wrong, where: ``seq`` and ``line`` when one entry is to blame."""

    fault: ExportFault
    detail: str
    seq: int | None = None
    line: int | None = None


ExportVerdict = ExportVerified | ExportRefused


def _signer_fault(signed: ExportSignature, validator: Address) -> ExportRefused | None:
    try:
        recovered = recover_signer(signed.digest, signed.signature)
    except InvalidSignatureError as err:
        return ExportRefused(
            ExportFault.WRONG_SIGNER, f"wrong signer: not a valid signature ({err})"
        )
    if recovered != validator:
        return ExportRefused(
            ExportFault.WRONG_SIGNER,
            f"wrong signer: the signature recovers to {checksum(recovered)}, not "
            f"{checksum(validator)} (another key, or the signature file was edited)",
        )
    if signed.validator != validator:
        return ExportRefused(
            ExportFault.WRONG_SIGNER,
            f"wrong signer: the signature file names {checksum(signed.validator)}, not "
            f"{checksum(validator)}",
        )
    return None


def slice_fault(entries: Sequence[AuditEntry], lines: Sequence[int]) -> ExportRefused | None:
    """The first fault of a slice: a seq not above the one before it, then an entry whose
    hash is not its content's or whose ``prev_hash`` is not the previous entry's hash."""
    for before, entry, line in zip(entries, entries[1:], lines[1:], strict=False):
        if entry.seq <= before.seq:
            return ExportRefused(
                ExportFault.REORDERED,
                f"reordered: seq {entry.seq} (line {line}) comes after seq {before.seq}",
                entry.seq,
                line,
            )
    previous: AuditEntry | None = None
    for entry, line in zip(entries, lines, strict=True):
        where = f"seq {entry.seq} (line {line})"
        expected = link_hash(
            entry.prev_hash, entry.at, entry.transfer_id, entry.event, entry.detail
        )
        if entry.hash != expected:
            return ExportRefused(
                ExportFault.EDITED,
                f"edited entry at {where}: its hash does not match its content",
                entry.seq,
                line,
            )
        if previous is not None and entry.prev_hash != previous.hash:
            if entry.seq > previous.seq + 1:
                return ExportRefused(
                    ExportFault.REMOVED,
                    f"removed entry: the chain breaks between seq {previous.seq} and {where}",
                    entry.seq,
                    line,
                )
            return ExportRefused(
                ExportFault.EDITED,
                f"edited entry at seq {previous.seq}: {where} does not link to its hash "
                "(an entry rewritten with a new hash)",
                previous.seq,
                line,
            )
        previous = entry
    return None


def _range_fault(entries: Sequence[AuditEntry], signed: ExportSignature) -> ExportRefused | None:
    first, last, count = entries_range(entries)
    if (first, last, count) == (signed.first_seq, signed.last_seq, signed.count):
        return None
    held = f"seq {first}..{last}, {count} entries" if count else "no entries"
    sig = f"seq {signed.first_seq}..{signed.last_seq}, {signed.count} entries"
    what = f"the file holds {held}, the signature covers {sig if signed.count else 'none'}"
    if count > signed.count:
        return ExportRefused(ExportFault.ADDED, f"added entries: {what}")
    if count < signed.count:
        return ExportRefused(ExportFault.REMOVED, f"removed entry: {what}")
    return ExportRefused(ExportFault.EDITED, f"edited seq numbers: {what}")


def verify_export(raw: bytes, signed: ExportSignature, validator: Address) -> ExportVerdict:
    """Check an export file against its signature and the validator's address.

    In this order: the signature is ``validator``'s; the file parses (in the signed
    format); its entries are in order and each link holds; the range matches the signed
    one; the bytes are those signed (``TAMPERED`` catches a slice rewritten whole).
    """
    wrong_signer = _signer_fault(signed, validator)
    if wrong_signer is not None:
        return wrong_signer
    try:
        parsed = parse(raw, signed.format)
    except ExportFormatError as err:
        return ExportRefused(ExportFault.MALFORMED, str(err), line=err.line)
    fault = slice_fault(parsed.entries, parsed.lines) or _range_fault(parsed.entries, signed)
    if fault is not None:
        return fault
    content_hash = keccak(raw)
    if content_hash != signed.content_hash:
        return ExportRefused(
            ExportFault.TAMPERED,
            f"tampered file: its keccak256 is {_hex(content_hash)}, the signature covers "
            f"{_hex(signed.content_hash)} (its entries and links check out: a seq number "
            "changed, or the slice rewritten whole)",
        )
    return ExportVerified(signed, parsed.entries)
