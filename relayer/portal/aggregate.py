"""The view of the validator set: several validators' answers about a transfer, merged.

Pure: the answers, the clock and the chains' timings arrive as arguments. Each validator's
status API (relayer/service/status.py ``view_to_json``) tells what *it* knows; this module
folds them into one answer (docs/portal.md, "The aggregation rule"):

- the set's state is the furthest state the answers agree on: a chain outcome any validator
  saw (``released``, or ``cancelled`` then ``refunded``) wins; otherwise the furthest step of
  ``observed -> confirmed -> attested -> quorum -> submitted -> delayed`` any validator
  reached (one that lags does not hold the set back). A validator's own verdict
  (``review``, ``refused``, ``vetoed``) or ``orphaned`` is the set's state only when every
  validator that knows the transfer says so; otherwise it is listed, not followed. A release
  and a cancellation both reported, or two different release transactions, make the state
  ``conflicting`` (the contracts allow neither: a validator is wrong or lying);
- attestations are the union of the signers every validator counted, per jurisdiction, each
  with the earliest time a validator received it; refusals are the union too;
- ``executable_at`` is the latest any validator reports (the governor only ever pushes it on).

``relayer status`` and ``relayer bridge`` (relayer/client/follow.py) use the same merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PROGRESS = ("observed", "confirmed", "attested", "quorum", "submitted", "delayed")
VERDICTS = ("review", "refused", "vetoed")  # one validator's own decision, in rising weight
FINAL = ("released", "refunded")  # nothing more happens
# the transfer facts every validator must agree on (a difference is listed as a conflict)
FACTS = (
    "transfer_id",
    "direction",
    "src_chain_id",
    "dst_chain_id",
    "nonce",
    "src_token",
    "sender",
    "recipient",
    "amount",
    "source_tx",
    "source_block",
)


@dataclass(frozen=True, slots=True)
class Source:
    """A validator as the portal's settings name it."""

    name: str
    jurisdiction: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """The validator knows the transfer: its ``view_to_json`` answer."""

    view: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NotFound:
    """The validator answered and does not know the transfer."""


@dataclass(frozen=True, slots=True)
class Unreachable:
    """The validator did not answer usably (refused, timed out, 5xx, not JSON)."""

    error: str


Answer = Found | NotFound | Unreachable


@dataclass(frozen=True, slots=True)
class Timing:
    """What the ETA and the release link need of one chain (from the portal's settings)."""

    confirmation_s: float  # inclusion -> final by the validators' rule
    release_s: float  # confirmed -> release mined on this chain (signing, quorum, sending)
    explorer_tx_url: str | None = None  # with {hash}


@dataclass
class Merged:
    """Several validators' views of one transfer, folded (see the module's rule)."""

    state: str = "unknown"
    statuses: list[str] = field(default_factory=list)
    signers: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # addr->(j, at)
    threshold: int | None = None
    min_jurisdictions: int | None = None
    refusals: list[dict[str, Any]] = field(default_factory=list)
    release_tx: str | None = None
    executable_at: int | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    observed_at: str | None = None
    confirmed_at: str | None = None
    released_at: str | None = None


def set_state(statuses: Sequence[str]) -> str:
    """The set's state from the statuses of the validators that know the transfer."""
    seen = set(statuses)
    if not seen:
        return "unknown"
    if "released" in seen and seen & {"cancelled", "refunded"}:
        return "conflicting"
    for outcome in ("released", "refunded", "cancelled"):
        if outcome in seen:
            return outcome
    progress = [s for s in PROGRESS if s in seen]
    if progress:
        return progress[-1]
    verdicts = [s for s in VERDICTS if s in seen]
    if verdicts:
        return verdicts[-1]
    if seen == {"orphaned"}:
        return "orphaned"
    return sorted(seen)[0]  # a status this portal does not know yet: shown as it is


def _earliest(a: str | None, b: Any) -> str | None:
    """The earlier of two ISO 8601 stamps; one that does not parse is ignored."""
    if not isinstance(b, str):
        return a
    try:
        when = _unix(b)
    except ValueError:
        return a
    return a if a is not None and when >= _unix(a) else b


def _unix(stamp: str) -> float:
    when = datetime.fromisoformat(stamp)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _chain_id(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def merge_views(views: Iterable[Mapping[str, Any]]) -> Merged:
    """Fold the views (each one validator's ``view_to_json``) of one transfer."""
    merged = Merged()
    release_txs: set[str] = set()
    for view in views:
        status = str(view.get("status", "unknown"))
        merged.statuses.append(status)
        for key in FACTS:
            if key not in view:
                continue
            if key in merged.facts and merged.facts[key] != view[key]:
                note = f"{key} differs between validators"
                if note not in merged.conflicts:
                    merged.conflicts.append(note)
            merged.facts.setdefault(key, view[key])
        if view.get("dst_token") is not None:
            merged.facts["dst_token"] = view["dst_token"]
        att = view.get("attestations")
        att = att if isinstance(att, Mapping) else {}
        if merged.threshold is None and isinstance(att.get("threshold"), int):
            merged.threshold = att["threshold"]
        if merged.min_jurisdictions is None and isinstance(att.get("min_jurisdictions"), int):
            merged.min_jurisdictions = att["min_jurisdictions"]
        for signer in _items(att.get("signers")):
            if not isinstance(signer, Mapping) or not isinstance(signer.get("address"), str):
                continue  # a malformed entry from one validator is not shown
            address = signer["address"]
            jurisdiction = str(signer.get("jurisdiction") or "??")
            before = merged.signers.get(address, (jurisdiction, None))[1]
            merged.signers[address] = (jurisdiction, _earliest(before, signer.get("received_at")))
        for refusal in _items(view.get("refusals")):
            if not isinstance(refusal, Mapping):
                continue
            key_of = (refusal.get("validator"), refusal.get("reason"))
            if all((r.get("validator"), r.get("reason")) != key_of for r in merged.refusals):
                merged.refusals.append(dict(refusal))
        if status == "released" and isinstance(view.get("release_tx"), str):
            release_txs.add(view["release_tx"])
        executable_at = view.get("executable_at")
        if isinstance(executable_at, int) and not isinstance(executable_at, bool):
            merged.executable_at = max(merged.executable_at or 0, executable_at)
        merged.observed_at = _earliest(merged.observed_at, view.get("observed_at"))
        merged.confirmed_at = _earliest(merged.confirmed_at, view.get("confirmed_at"))
        merged.released_at = _earliest(merged.released_at, view.get("released_at"))
    merged.state = set_state(merged.statuses)
    if len(release_txs) > 1:
        merged.conflicts.append("validators name different release transactions")
        merged.state = "conflicting"
    merged.release_tx = min(release_txs) if len(release_txs) == 1 else None
    return merged


def eta(merged: Merged, src: Timing | None, dst: Timing | None, now: float) -> dict[str, Any]:
    """When the transfer should be released, estimated from the chains' typical timings
    (settings ``confirmation_s`` and ``release_s``), never earlier than ``now``:

    - observed: observed_at + source confirmation_s + destination release_s;
    - confirmed .. submitted: confirmed_at (else observed_at + confirmation_s) + release_s;
    - delayed: executable_at + destination release_s;
    - final states, and states no clock moves on (refused, review, vetoed, cancelled,
      orphaned, conflicting): no estimate, ``basis`` says why.
    """
    state = merged.state
    if state in FINAL:
        return {"at": None, "in_s": None, "overdue": False, "basis": f"{state}: done"}
    if src is None or dst is None or merged.observed_at is None:
        return {"at": None, "in_s": None, "overdue": False, "basis": "chain not configured"}
    if state == "delayed" and merged.executable_at is not None:
        at = merged.executable_at + dst.release_s
        basis = "executable_at + destination release_s"
    elif state == "observed":
        at = _unix(merged.observed_at) + src.confirmation_s + dst.release_s
        basis = "observed_at + source confirmation_s + destination release_s"
    elif state in PROGRESS:
        start = (
            _unix(merged.confirmed_at)
            if merged.confirmed_at is not None
            else _unix(merged.observed_at) + src.confirmation_s
        )
        at = start + dst.release_s
        basis = "confirmed_at + destination release_s"
    else:
        return {
            "at": None,
            "in_s": None,
            "overdue": False,
            "basis": f"{state}: waits on people or on the chain, no estimate",
        }
    return {
        "at": int(max(at, now)),
        "in_s": int(max(0.0, at - now)),
        "overdue": at < now,
        "basis": basis,
    }


def validator_entries(answers: Sequence[tuple[Source, Answer]]) -> list[dict[str, Any]]:
    """Per validator: whether it answered, what it said, or why it is unreachable."""
    return [_validator_entry(s, a) for s, a in answers]


def _validator_entry(source: Source, answer: Answer) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": source.name,
        "jurisdiction": source.jurisdiction,
        "address": source.address,
    }
    match answer:
        case Found(view=view):
            entry.update(answer="found", status=view.get("status"), error=None)
        case NotFound():
            entry.update(answer="not_found", status=None, error=None)
        case Unreachable(error=error):
            entry.update(answer="unreachable", status=None, error=error)
    return entry


def aggregate_transfer(
    answers: Sequence[tuple[Source, Answer]], timings: Mapping[int, Timing], now: float
) -> dict[str, Any] | None:
    """The set's answer about one transfer, or None when no validator knows it."""
    views = [a.view for _, a in answers if isinstance(a, Found)]
    if not views:
        return None
    m = merge_views(views)
    src = timings.get(_chain_id(m.facts.get("src_chain_id")))
    dst_id = _chain_id(m.facts.get("dst_chain_id"))
    dst = timings.get(dst_id)
    by_jurisdiction: dict[str, list[dict[str, Any]]] = {}
    names = {s.address: s.name for s, _ in answers if s.address is not None}
    for address, (jurisdiction, at) in sorted(m.signers.items()):
        by_jurisdiction.setdefault(jurisdiction, []).append(
            {"validator": address, "name": names.get(address), "at": at}
        )
    count = len(m.signers)
    reached = (
        m.threshold is not None
        and m.min_jurisdictions is not None
        and count >= m.threshold
        and len(by_jurisdiction) >= m.min_jurisdictions
    )
    release = None
    if m.release_tx is not None:
        template = None if dst is None else dst.explorer_tx_url
        release = {
            "tx": m.release_tx,
            "chain_id": dst_id,
            "explorer_url": None if template is None else template.replace("{hash}", m.release_tx),
            "at": m.released_at,
        }
    return {
        **m.facts,
        "dst_token": m.facts.get("dst_token"),
        "state": m.state,
        "observed_at": m.observed_at,
        "confirmed_at": m.confirmed_at,
        "attestations": {
            "count": count,
            "by_jurisdiction": by_jurisdiction,
        },
        "quorum": {
            "threshold": m.threshold,
            "min_jurisdictions": m.min_jurisdictions,
            "reached": reached,
        },
        "refusals": m.refusals,
        "delayed": m.state == "delayed",
        "executable_at": m.executable_at,
        "release": release,
        "eta": eta(m, src, dst, now),
        "conflicts": m.conflicts,
        "validators": validator_entries(answers),
    }


@dataclass(frozen=True, slots=True)
class Listed:
    """A validator's answer to a listing: the views it returned."""

    views: tuple[Mapping[str, Any], ...]


ListAnswer = Listed | Unreachable


def aggregate_list(
    answers: Sequence[tuple[Source, ListAnswer]],
    timings: Mapping[int, Timing],
    now: float,
    limit: int,
) -> dict[str, Any]:
    """Several validators' listings merged by transfer id, each transfer aggregated as
    :func:`aggregate_transfer` does, newest first, at most ``limit``."""
    order: list[str] = []
    per_transfer: dict[str, dict[int, Mapping[str, Any]]] = {}
    for index, (_, answer) in enumerate(answers):
        if not isinstance(answer, Listed):
            continue
        for view in answer.views:
            tid = str(view.get("transfer_id"))
            if tid not in per_transfer:
                order.append(tid)
                per_transfer[tid] = {}
            per_transfer[tid][index] = view
    transfers = []
    for tid in order:
        known = per_transfer[tid]
        merged_answers: list[tuple[Source, Answer]] = [
            (
                source,
                Found(known[i])
                if i in known
                else answer
                if isinstance(answer, Unreachable)
                else NotFound(),
            )
            for i, (source, answer) in enumerate(answers)
        ]
        one = aggregate_transfer(merged_answers, timings, now)
        if one is not None:
            transfers.append(one)
    transfers.sort(key=lambda t: -_unix(t["observed_at"]) if t["observed_at"] else 0.0)
    return {
        "transfers": transfers[:limit],
        "validators": [
            {
                "name": s.name,
                "jurisdiction": s.jurisdiction,
                "address": s.address,
                "answer": "listed" if isinstance(a, Listed) else "unreachable",
                "error": a.error if isinstance(a, Unreachable) else None,
            }
            for s, a in answers
        ],
    }
