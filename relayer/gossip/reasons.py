"""Why an inbound gossip message was refused: one enum, usable as a metrics label.

The decoder (`relayer.gossip.wire`), the topic check (`relayer.gossip.topics`) and the
transport's bounded queue (`relayer.gossip.transport`) all report through `Reason`, so
the node exposes a single ``gossip_dropped_total{reason=...}`` counter.
"""

from __future__ import annotations

import enum

from relayer.errors import WireError


class Reason(enum.StrEnum):
    """A refusal reason; the value is the metrics label."""

    OVERSIZED = "oversized"  # payload longer than MAX_PAYLOAD_BYTES (checked before parsing)
    NOT_JSON = "not_json"  # not UTF-8, not JSON, or not a JSON object
    WRONG_VERSION = "wrong_version"  # "v" is present but not a version of the kind
    WRONG_KIND = "wrong_kind"  # "kind" is not the topic's (attestation, refusal, root)
    MISSING_FIELD = "missing_field"  # a required key is absent
    BAD_FIELD = "bad_field"  # a value has the wrong type, shape or range; duplicate keys
    UNKNOWN_FIELD = "unknown_field"  # a key this version does not define
    BAD_TOPIC = "bad_topic"  # the MQTT topic does not follow the v1 layout
    TOPIC_MISMATCH = "topic_mismatch"  # topic and payload disagree on chain/transfer/signer
    QUEUE_FULL = "queue_full"  # dropped (oldest first) because the inbound queue was full


class GossipWireError(WireError):
    """A gossip message was refused; ``reason`` says why (a `Reason`)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
