"""A validator's signed decision on a transfer: what supervisors read and verify.

Every validator signs what it decided about each transfer it confirmed, under which
policy, in the off-chain supervision domain (the one policy packs are signed in)::

    EIP712Domain(string name,string version) = ("ConfluxBridgePolicy", "1")
    Decision(bytes32 transferId,bytes32 digest,string verdict,string detail,bytes32 policy)

* an approval: ``digest`` is the release digest the validator signed for the destination
  contract, ``verdict`` is ``"approved"``, ``detail`` is empty;
* a refusal: ``digest`` is zero, ``verdict`` is the refusal's reason code (for example
  ``"sender_sanctioned"``), ``detail`` says why for humans;
* ``policy``: keccak256 of the policy pack in force (``relayer.domain.packs.pack_hash``), or
  the sha256 of the validator's local rules when it has no pack.

The contracts never see these signatures; they let any validator, the status API and a
supervisor prove who decided what under which pack, from the gossip alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.domain.packs import PACK_DOMAIN_NAME, PACK_DOMAIN_TYPE, PACK_DOMAIN_VERSION
from relayer.domain.policy import Refused
from relayer.domain.types import Hash32

APPROVED: Final = "approved"
DECISION_TYPE: Final = (
    "Decision(bytes32 transferId,bytes32 digest,string verdict,string detail,bytes32 policy)"
)
DECISION_TYPEHASH: Final = Hash32(keccak(text=DECISION_TYPE))
MAX_DETAIL_CHARS: Final = 300
ZERO_DIGEST: Final = Hash32(bytes(32))
_VERDICT = re.compile(r"[a-z][a-z0-9_]{0,39}")

SUPERVISION_SEPARATOR: Final = Hash32(
    keccak(
        encode(
            ["bytes32", "bytes32", "bytes32"],
            [
                keccak(text=PACK_DOMAIN_TYPE),
                keccak(text=PACK_DOMAIN_NAME),
                keccak(text=PACK_DOMAIN_VERSION),
            ],
        )
    )
)


@dataclass(frozen=True, slots=True)
class Decision:
    """What one validator decided about one transfer, under which policy."""

    transfer_id: Hash32
    digest: Hash32  # the release digest it signed (approved), zero (refused)
    verdict: str  # "approved", or a refusal reason code
    detail: str
    policy: Hash32

    def __post_init__(self) -> None:
        if len(self.transfer_id) != 32 or len(self.digest) != 32 or len(self.policy) != 32:
            raise ValueError("transfer_id, digest and policy must be 32 bytes")
        if _VERDICT.fullmatch(self.verdict) is None:
            raise ValueError(f"verdict must be a lower-case code, got {self.verdict!r:.60}")
        if len(self.detail) > MAX_DETAIL_CHARS or not self.detail.isprintable():
            raise ValueError(f"detail must be printable, at most {MAX_DETAIL_CHARS} characters")
        approved = self.verdict == APPROVED
        if approved != (self.digest != ZERO_DIGEST) or (approved and self.detail):
            raise ValueError(
                "an approval names its release digest and no detail; a refusal neither"
            )

    @property
    def approved(self) -> bool:
        return self.verdict == APPROVED


def approval(transfer_id: Hash32, digest: Hash32, policy: Hash32) -> Decision:
    """The decision behind an attestation over ``digest``."""
    return Decision(transfer_id, digest, APPROVED, "", policy)


def refusal(transfer_id: Hash32, refused: Refused, policy: Hash32) -> Decision:
    """The decision behind a refusal (its detail cut to ``MAX_DETAIL_CHARS``, made printable)."""
    detail = "".join(c if c.isprintable() else "?" for c in refused.detail)[:MAX_DETAIL_CHARS]
    return Decision(transfer_id, ZERO_DIGEST, refused.reason.value, detail, policy)


def decision_digest(decision: Decision) -> Hash32:
    """The EIP-712 digest a validator signs for ``decision``."""
    struct = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "bytes32", "bytes32", "bytes32"],
            [
                DECISION_TYPEHASH,
                decision.transfer_id,
                decision.digest,
                keccak(text=decision.verdict),
                keccak(text=decision.detail),
                decision.policy,
            ],
        )
    )
    return Hash32(keccak(b"\x19\x01" + SUPERVISION_SEPARATOR + struct))
