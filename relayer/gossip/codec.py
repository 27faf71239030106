"""Strict JSON shared by every gossip payload kind (attestation, root, refusal).

Encoding is canonical: sorted keys, no spaces, UTF-8 as is (``ensure_ascii=False``; only
a refusal's ``detail`` can hold anything but ASCII), so one message has exactly one
encoding and a republish sends the same bytes. Decoding refuses anything that is not
exactly well formed and says why with a `Reason`: the size cap is checked before parsing;
then no duplicate keys, no ``NaN``/``Infinity``, no UTF-16, only canonical lower-case hex,
JSON integers where integers go. Every failure is a `GossipWireError`, nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from relayer.domain.types import UINT64_MAX
from relayer.gossip.reasons import GossipWireError, Reason

MAX_PAYLOAD_BYTES: Final = 2048
SIGNATURE_BYTES: Final = 65
HEX32: Final = re.compile(r"0x[0-9a-f]{64}")
ADDRESS: Final = re.compile(r"0x[0-9a-f]{40}")
SIGNATURE: Final = re.compile(r"0x[0-9a-f]{130}")


# ----------------------------------------------------------------- construction


def require_uint64(name: str, value: object) -> None:
    """ValueError unless ``value`` is an int in uint64 range (bool is not an int here)."""
    if type(value) is not int or not 0 <= value <= UINT64_MAX:
        raise ValueError(f"{name} must be a uint64, got {value!r}")


def require_signature(name: str, signature: bytes | None) -> None:
    """ValueError unless ``signature`` is 65 bytes r || s || v with v in {27, 28}."""
    if (
        not isinstance(signature, bytes)
        or len(signature) != SIGNATURE_BYTES
        or signature[64] not in (27, 28)
    ):
        raise ValueError(f"{name} must be 65 bytes r || s || v with v in {{27, 28}}")


def require_signed(digest: bytes, signer: bytes, signature: bytes) -> None:
    """A message's digest, signer and signature have the shapes the wire allows."""
    if len(digest) != 32:
        raise ValueError("digest must be 32 bytes")
    if len(signer) != 20:
        raise ValueError("signer must be a 20-byte address")
    require_signature("signature", signature)


# --------------------------------------------------------------------- encoding


def canonical_json(body: Mapping[str, object], max_bytes: int = MAX_PAYLOAD_BYTES) -> bytes:
    """The one encoding of ``body``: sorted keys, no spaces, UTF-8."""
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    encoded = payload.encode()
    if len(encoded) > max_bytes:  # cannot happen with valid fields; guard anyway
        raise GossipWireError(Reason.OVERSIZED, f"encoded {len(encoded)} bytes")
    return encoded


# --------------------------------------------------------------------- decoding


def parse_payload(payload: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """The JSON object in ``payload``, refused when oversized (before parsing) or not JSON.
    ``max_bytes``: the kind's cap (`MAX_PAYLOAD_BYTES` unless the kind says otherwise)."""
    if len(payload) > max_bytes:
        raise GossipWireError(Reason.OVERSIZED, f"{len(payload)} > {max_bytes} bytes")
    try:
        text = payload.decode("utf-8")
        obj = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except GossipWireError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise GossipWireError(Reason.NOT_JSON, type(err).__name__) from err
    if not isinstance(obj, dict):
        raise GossipWireError(Reason.NOT_JSON, f"top level is {type(obj).__name__}")
    return obj


def check_envelope(
    obj: Mapping[str, Any], kind: str, fields_by_version: Mapping[int, frozenset[str]]
) -> int:
    """The payload's version, once ``v``, ``kind`` and the exact key set are right.

    ``fields_by_version`` holds every key (``v`` and ``kind`` included) of each version
    this kind defines; a key of another version is UNKNOWN_FIELD, a missing one
    MISSING_FIELD.
    """
    if "v" not in obj:
        raise GossipWireError(Reason.MISSING_FIELD, "v")
    version = obj["v"]
    if type(version) is not int or version not in fields_by_version:
        raise GossipWireError(Reason.WRONG_VERSION, f"v={version!r:.40}")
    if "kind" not in obj:
        raise GossipWireError(Reason.MISSING_FIELD, "kind")
    if obj["kind"] != kind:
        raise GossipWireError(Reason.WRONG_KIND, f"kind={obj['kind']!r:.40}")
    fields = fields_by_version[version]
    unknown = obj.keys() - fields
    if unknown:
        raise GossipWireError(Reason.UNKNOWN_FIELD, ",".join(sorted(unknown))[:80])
    missing = sorted(fields - obj.keys())
    if missing:
        raise GossipWireError(Reason.MISSING_FIELD, ",".join(missing))
    return version


def hex_field(obj: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> bytes:
    """The bytes of a ``0x`` lower-case hex value matching ``pattern``."""
    value = obj[name]
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise GossipWireError(Reason.BAD_FIELD, f"{name} is not {pattern.pattern}")
    return bytes.fromhex(value[2:])


def signature_field(obj: Mapping[str, Any], name: str) -> bytes:
    """A 65-byte r || s || v signature with v in {27, 28}."""
    signature = hex_field(obj, name, SIGNATURE)
    if signature[64] not in (27, 28):
        raise GossipWireError(Reason.BAD_FIELD, f"{name} v must be 27 or 28")
    return signature


def uint64_field(obj: Mapping[str, Any], name: str) -> int:
    """A JSON integer in uint64 range (not a bool, float or string)."""
    value = obj[name]
    if type(value) is not int or not 0 <= value <= UINT64_MAX:
        raise GossipWireError(Reason.BAD_FIELD, f"{name} is not a uint64")
    return value


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise GossipWireError(Reason.BAD_FIELD, "duplicate key")
    return obj


def _reject_constant(name: str) -> None:
    raise GossipWireError(Reason.NOT_JSON, f"non-standard constant {name}")
