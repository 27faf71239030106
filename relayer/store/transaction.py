"""``Transaction``: every store operation, inside one database transaction."""

from __future__ import annotations

from relayer.store.ops.alerts import AlertOps
from relayer.store.ops.auditing import AuditOps
from relayer.store.ops.effects import EffectOps
from relayer.store.ops.heads import AuditHeadOps
from relayer.store.ops.policy import PolicyOps
from relayer.store.ops.roots import RootOps
from relayer.store.ops.rotation import SetOps
from relayer.store.ops.scanning import ScanOps
from relayer.store.ops.signing import SigningOps
from relayer.store.ops.submissions import SubmissionOps
from relayer.store.ops.supervision import SupervisionOps
from relayer.store.ops.transfers import TransferOps
from relayer.store.ops.vetoes import VetoOps


class Transaction(
    ScanOps,
    TransferOps,
    SigningOps,
    EffectOps,
    SubmissionOps,
    AlertOps,
    AuditOps,
    RootOps,
    PolicyOps,
    VetoOps,
    SupervisionOps,
    AuditHeadOps,
    SetOps,
):
    """One open transaction. Obtain it from ``Store.transaction()``; never keep it.

    Everything done through one ``Transaction`` commits together when the ``async
    with`` block ends normally and is rolled back if it raises.
    """
