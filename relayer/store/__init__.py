"""The relayer's durable state: SQLAlchemy models, the repository, Alembic migrations.

Import from here: ``Store`` (open a database, run transactions), the records it hands
out, the typed outcomes of its writes, and ``upgrade`` / ``is_at_head`` for the schema.
"""

from relayer.store.errors import (
    CursorRegressionError,
    EquivocationRefused,
    SchemaNotAtHeadError,
    StoreIntegrityError,
    UnknownTransferError,
)
from relayer.store.migrate import SchemaStatus, is_at_head, schema_status, upgrade
from relayer.store.records import (
    Alert,
    AlertKind,
    AuditEntry,
    Cursor,
    Effect,
    EffectKind,
    OwnSignature,
    Refusal,
    Review,
    SetOutcome,
    SetOutcomeState,
    SetProposalRecord,
    StoredAttestation,
    StoredDecision,
    StoredPack,
    Submission,
    SubmissionStatus,
    TransferRecord,
    TransferStatus,
    TransferView,
    Veto,
    VetoSignature,
)
from relayer.store.repository import Store, utc_now
from relayer.store.transaction import Transaction

__all__ = [
    "Alert",
    "AlertKind",
    "AuditEntry",
    "Cursor",
    "CursorRegressionError",
    "Effect",
    "EffectKind",
    "EquivocationRefused",
    "OwnSignature",
    "Refusal",
    "Review",
    "SchemaNotAtHeadError",
    "SchemaStatus",
    "SetOutcome",
    "SetOutcomeState",
    "SetProposalRecord",
    "Store",
    "StoreIntegrityError",
    "StoredAttestation",
    "StoredDecision",
    "StoredPack",
    "Submission",
    "SubmissionStatus",
    "Transaction",
    "TransferRecord",
    "TransferStatus",
    "TransferView",
    "UnknownTransferError",
    "Veto",
    "VetoSignature",
    "is_at_head",
    "schema_status",
    "upgrade",
    "utc_now",
]
