"""Does this chain still contain every head of it that another validator witnessed?
(relayer.domain.audit_heads, docs/supervision.md): ``relayer audit verify``'s second half,
also shown by the supervisor's view; and whether an export agrees with the heads held.

The heads come from this validator's own database (table ``audit_heads``): every head of
ours another validator relayed to us. A witness relays the latest head it holds of us again
every ``audit.head_interval_s``, retained on the broker, so deleting those rows here does not
make them go away for long; the other operators hold their own copies too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from relayer.domain.audit_heads import ChainExtends, ChainMissesHead, ExtendsVerdict, check_extends
from relayer.domain.types import Address, checksum, hex32
from relayer.store.heads import StoredAuditHead
from relayer.store.records import AuditEntry
from relayer.store.transaction import Transaction


@dataclass(frozen=True, slots=True)
class WitnessCheck:
    """The heads of ours one witness reported, checked against our chain."""

    witness: Address
    heads: int
    verdict: ExtendsVerdict

    @property
    def ok(self) -> bool:
        return isinstance(self.verdict, ChainExtends)

    def line(self) -> dict[str, Any]:
        """The JSON line ``relayer audit verify`` prints for this witness."""
        line: dict[str, Any] = {"witness": checksum(self.witness), "heads": self.heads}
        verdict = self.verdict
        if isinstance(verdict, ChainExtends):
            return {**line, "extends": True, "highest_seq": verdict.highest_seq}
        return {
            **line,
            "extends": False,
            "seq": verdict.head.seq,
            "problem": verdict.kind.value,
            "witnessed_hash": hex32(verdict.head.hash),
            "chain_hash": None if verdict.chain_hash is None else hex32(verdict.chain_hash),
            "chain_last_seq": verdict.chain_last_seq,
        }

    def failure(self) -> str:
        """One sentence naming the witness and the head the chain lost."""
        verdict = self.verdict
        assert isinstance(verdict, ChainMissesHead)
        what = (
            f"the chain ends at seq {verdict.chain_last_seq}"
            if verdict.chain_hash is None
            else f"the chain has {hex32(verdict.chain_hash)} there"
        )
        return (
            f"audit chain does not extend the head seq {verdict.head.seq} "
            f"({hex32(verdict.head.hash)}) witnessed by {checksum(self.witness)}: "
            f"{verdict.kind.value} ({what})"
        )


async def check_witnessed(
    tx: Transaction, own: Address, entries: Sequence[AuditEntry]
) -> list[WitnessCheck]:
    """Per witness (by address), whether ``entries`` contain every head of ``own`` it saw."""
    links = {entry.seq: entry.hash for entry in entries}
    by_witness = defaultdict(list)
    for stored in await tx.audit_heads_of(own):
        by_witness[stored.witness].append(stored.head)
    return [
        WitnessCheck(witness, len(heads), check_extends(links, heads))
        for witness, heads in sorted(by_witness.items())
    ]


@dataclass(frozen=True, slots=True)
class ExportHeads:
    """The held heads whose seq falls within an export, checked against its links."""

    checked: int
    fault: str | None  # the first head the export contradicts, in words


def check_export(entries: Sequence[AuditEntry], held: Sequence[StoredAuditHead]) -> ExportHeads:
    """Whether the export's link at each held head's seq (within the export) has its hash."""
    if not entries:
        return ExportHeads(0, None)
    first, last = entries[0].seq, entries[-1].seq
    inside = [stored for stored in held if first <= stored.head.seq <= last]
    verdict = check_extends({e.seq: e.hash for e in entries}, [s.head for s in inside])
    if isinstance(verdict, ChainExtends):
        return ExportHeads(len(inside), None)
    witness = next(s.witness for s in inside if s.head == verdict.head)
    there = "no link" if verdict.chain_hash is None else hex32(verdict.chain_hash)
    return ExportHeads(
        len(inside),
        f"the export has {there} at seq {verdict.head.seq}, but "
        f"{checksum(verdict.head.validator)} signed a head there with "
        f"{hex32(verdict.head.hash)} (witnessed by {checksum(witness)})",
    )
