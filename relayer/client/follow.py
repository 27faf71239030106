"""Following a transfer through the validators' APIs, as a person wants to watch it.

``collect(api_urls, key)`` asks every validator's ``/transfers/{key}`` and folds the
answers into one :class:`Progress` (the portal's merge, relayer/portal/aggregate.py): the
set's stage, who attested (with jurisdictions), who refused and why, and the release
transaction.
``follow`` prints one line per change until the transfer is released or cancelled (or
a timeout). A transfer the destination's governor delayed shows as ``delayed`` with the
time it becomes executable.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from relayer.portal.aggregate import FINAL as FINAL_STAGES
from relayer.portal.aggregate import merge_views


@dataclass
class Progress:
    """What the validators say about one transfer, merged."""

    key: str
    found: bool = False
    stage: str = "unknown"
    statuses: dict[str, str] = field(default_factory=dict)  # api url -> status
    signers: dict[str, str] = field(default_factory=dict)  # address -> jurisdiction
    threshold: int | None = None
    min_jurisdictions: int | None = None
    refusals: list[dict[str, Any]] = field(default_factory=list)
    release_tx: str | None = None
    executable_at: int | None = None  # delayed: unix seconds from which it may execute
    transfer: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """One human line: stage, attestations k/n with jurisdictions, release tx."""
        if not self.found:
            return "waiting: no validator has seen this transfer yet"
        jurisdictions = sorted(set(self.signers.values()))
        parts = [self.stage]
        if self.stage == "delayed" and self.executable_at is not None:
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.executable_at))
            parts[0] = f"delayed by the destination's governor until {when}"
        if self.threshold is not None:
            parts.append(
                f"attestations {len(self.signers)}/{self.threshold} "
                f"({', '.join(jurisdictions) or 'none'}; need {self.min_jurisdictions} "
                "jurisdictions)"
            )
        for refusal in self.refusals:
            parts.append(
                f"refused by {refusal['validator']} ({refusal.get('jurisdiction')}): "
                f"{refusal['reason']}"
            )
        if self.release_tx:
            parts.append(f"release tx {self.release_tx}")
        return " | ".join(parts)


def _get(url: str, timeout: float) -> Any | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError, TimeoutError):
        return None


def collect(api_urls: Sequence[str], key: str, timeout: float = 3.0) -> Progress:
    """Ask every validator about ``key`` (transfer id or source tx hash) and merge, by the
    portal's rule (relayer/portal/aggregate.py: the furthest state the set agrees on)."""
    progress = Progress(key)
    views: list[dict[str, Any]] = []
    for base in api_urls:
        view = _get(f"{base.rstrip('/')}/transfers/{key}", timeout)
        if not isinstance(view, dict) or "status" not in view:
            continue
        views.append(view)
        progress.transfer = view
        progress.statuses[base] = str(view["status"])
    if not views:
        return progress
    merged = merge_views(views)
    progress.found = True
    progress.stage = merged.state
    progress.signers = {address: j for address, (j, _) in merged.signers.items()}
    progress.threshold = merged.threshold
    progress.min_jurisdictions = merged.min_jurisdictions
    progress.refusals = merged.refusals
    progress.release_tx = merged.release_tx
    progress.executable_at = merged.executable_at
    return progress


def follow(
    api_urls: Sequence[str],
    key: str,
    *,
    timeout: float,
    emit: Callable[[str], None] = print,
    poll_s: float = 0.5,
) -> Progress:
    """Print a line whenever the merged progress changes; return the last one."""
    deadline = time.monotonic() + timeout
    last_line = ""
    progress = collect(api_urls, key)
    while True:
        line = progress.line()
        if line != last_line:
            emit(f"  {time.strftime('%H:%M:%S')}  {line}")
            last_line = line
        if progress.stage in FINAL_STAGES or time.monotonic() > deadline:
            return progress
        time.sleep(poll_s)
        progress = collect(api_urls, key)
