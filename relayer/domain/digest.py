"""EIP-712 hashing of releases, cancels, refunds and validator-set rotations, and transfer ids.

Mirrors ``contracts/src/base/BridgeBase.sol`` (OpenZeppelin ``EIP712("ConfluxBridge", "1")``):
the same type strings, the same encoding, checked against the shared vectors in
``tests/vectors/eip712.json``. Only ``eth_abi.encode`` and ``keccak`` are used.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.domain.types import Address, EvmDomain, Hash32, Release, ValidatorSet

DOMAIN_NAME = "ConfluxBridge"
DOMAIN_VERSION = "1"

EIP712_DOMAIN_TYPE = (
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
RELEASE_TYPE = (
    "Release(bytes32 transferId,uint64 srcChainId,uint64 nonce,address token,"
    "address recipient,uint256 amount)"
)
VALIDATOR_SET_UPDATE_TYPE = (
    "ValidatorSetUpdate(uint64 setId,bytes32 replacedSetHash,uint64 deadline,"
    "address[] members,bytes2[] jurisdictions,uint8 threshold,uint8 minJurisdictions)"
)
CANCEL_TYPE = "Cancel(bytes32 transferId)"
RELEASE_ROOT_TYPE = "ReleaseRoot(bytes32 root,uint64 srcChainId,uint64 firstNonce,uint64 lastNonce)"
REFUND_TYPE = (
    "Refund(bytes32 transferId,uint64 dstChainId,address token,address recipient,uint256 amount)"
)

EIP712_DOMAIN_TYPEHASH = Hash32(keccak(text=EIP712_DOMAIN_TYPE))
CANCEL_TYPEHASH = Hash32(keccak(text=CANCEL_TYPE))  # BridgeBase.CANCEL_TYPEHASH
REFUND_TYPEHASH = Hash32(keccak(text=REFUND_TYPE))  # BridgeBase.REFUND_TYPEHASH
RELEASE_TYPEHASH = Hash32(keccak(text=RELEASE_TYPE))  # BridgeBase.RELEASE_TYPEHASH
RELEASE_ROOT_TYPEHASH = Hash32(keccak(text=RELEASE_ROOT_TYPE))  # BridgeStorage
VALIDATOR_SET_UPDATE_TYPEHASH = Hash32(keccak(text=VALIDATOR_SET_UPDATE_TYPE))

_NAME_HASH = keccak(text=DOMAIN_NAME)
_VERSION_HASH = keccak(text=DOMAIN_VERSION)


def domain_separator(domain: EvmDomain) -> Hash32:
    """Mirrors ``BridgeBase.domainSeparator()`` (OZ ``EIP712._domainSeparatorV4``)."""
    encoded = encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [
            EIP712_DOMAIN_TYPEHASH,
            _NAME_HASH,
            _VERSION_HASH,
            domain.chain_id,
            domain.verifying_contract,
        ],
    )
    return Hash32(keccak(encoded))


def typed_data_digest(domain: EvmDomain, struct_hash: bytes) -> Hash32:
    """Mirrors OZ ``EIP712._hashTypedDataV4``: keccak256(0x1901 ‖ separator ‖ structHash)."""
    return Hash32(keccak(b"\x19\x01" + domain_separator(domain) + struct_hash))


def release_struct_hash(release: Release) -> Hash32:
    """The ``Release`` struct hash computed inside ``BridgeBase._hashRelease``."""
    encoded = encode(
        ["bytes32", "bytes32", "uint64", "uint64", "address", "address", "uint256"],
        [
            RELEASE_TYPEHASH,
            release.transfer_id,
            release.src_chain_id,
            release.nonce,
            release.token,
            release.recipient,
            release.amount,
        ],
    )
    return Hash32(keccak(encoded))


def release_digest(domain: EvmDomain, release: Release) -> Hash32:
    """Mirrors ``BridgeBase.hashRelease(Release)``: the digest validators sign."""
    return typed_data_digest(domain, release_struct_hash(release))


def release_root_digest(
    domain: EvmDomain, root: Hash32, src_chain_id: int, first_nonce: int, last_nonce: int
) -> Hash32:
    """Mirrors ``BridgeBase.hashReleaseRoot``: what validators sign to commit ``root`` (the
    ``relayer.domain.merkle`` root of the releases they approved among the source nonces
    ``first_nonce..last_nonce`` of ``src_chain_id``)."""
    struct_hash = keccak(
        encode(
            ["bytes32", "bytes32", "uint64", "uint64", "uint64"],
            [RELEASE_ROOT_TYPEHASH, root, src_chain_id, first_nonce, last_nonce],
        )
    )
    return typed_data_digest(domain, struct_hash)


def cancel_digest(domain: EvmDomain, transfer_id: Hash32) -> Hash32:
    """Mirrors ``BridgeBase.hashCancel(transferId)``: what a blocking minority signs to veto."""
    struct_hash = keccak(encode(["bytes32", "bytes32"], [CANCEL_TYPEHASH, transfer_id]))
    return typed_data_digest(domain, struct_hash)


def refund_digest(
    domain: EvmDomain,
    transfer_id: Hash32,
    dst_chain_id: int,
    token: Address,
    recipient: Address,
    amount: int,
) -> Hash32:
    """Mirrors ``BridgeBase.hashRefund(Refund)`` (the nonce is not signed).

    Validators sign it only after the destination ``dst_chain_id`` shows ``transfer_id``
    cancelled at its confirmed head; ``domain`` is the contract where the transfer began, and
    the vault returns the amount from what is locked towards ``dst_chain_id``.
    """
    struct_hash = keccak(
        encode(
            ["bytes32", "bytes32", "uint64", "address", "address", "uint256"],
            [REFUND_TYPEHASH, transfer_id, dst_chain_id, token, recipient, amount],
        )
    )
    return typed_data_digest(domain, struct_hash)


def jurisdiction_code(jurisdiction: str) -> bytes:
    """A two-letter jurisdiction (``"HK"``) as the contracts' ``bytes2`` (``0x484b``)."""
    code = jurisdiction.encode("ascii")
    if len(code) != 2:
        raise ValueError(f"jurisdiction must be two ASCII letters, got {jurisdiction!r}")
    return code


def validator_set_update_struct_hash(
    set_id: int,
    replaced_set_hash: Hash32,
    deadline: int,
    members: Sequence[Address],
    jurisdictions: Sequence[str],
    threshold: int,
    min_jurisdictions: int,
) -> Hash32:
    """The ``ValidatorSetUpdate`` struct hash inside ``BridgeBase.hashValidatorSetUpdate``.

    ``replaced_set_hash`` is the contract's ``validatorSetHash()`` for the set being
    replaced; ``deadline`` the last second (unix) at which the rotation may be submitted.

    EIP-712 arrays hash the concatenation of their 32-byte element encodings, which is
    what Solidity's ``abi.encodePacked`` produces for ``address[]`` and ``bytes2[]``.
    """
    members_hash = keccak(b"".join(encode(["address"], [m]) for m in members))
    codes_hash = keccak(b"".join(encode(["bytes2"], [jurisdiction_code(j)]) for j in jurisdictions))
    encoded = encode(
        ["bytes32", "uint64", "bytes32", "uint64", "bytes32", "bytes32", "uint8", "uint8"],
        [
            VALIDATOR_SET_UPDATE_TYPEHASH,
            set_id,
            replaced_set_hash,
            deadline,
            members_hash,
            codes_hash,
            threshold,
            min_jurisdictions,
        ],
    )
    return Hash32(keccak(encoded))


def validator_set_update_digest(
    domain: EvmDomain,
    set_id: int,
    replaced_set_hash: Hash32,
    deadline: int,
    members: Sequence[Address],
    jurisdictions: Sequence[str],
    threshold: int,
    min_jurisdictions: int,
) -> Hash32:
    """Mirrors ``BridgeBase.hashValidatorSetUpdate(setId, replacedSetHash, deadline, …)``."""
    struct_hash = validator_set_update_struct_hash(
        set_id, replaced_set_hash, deadline, members, jurisdictions, threshold, min_jurisdictions
    )
    return typed_data_digest(domain, struct_hash)


def validator_set_digest(
    domain: EvmDomain, validator_set: ValidatorSet, replaced_set_hash: Hash32, deadline: int
) -> Hash32:
    """``validator_set_update_digest`` for a ``ValidatorSet`` value (members in its order)."""
    return validator_set_update_digest(
        domain,
        validator_set.set_id,
        replaced_set_hash,
        deadline,
        [m.address for m in validator_set.members],
        [m.jurisdiction for m in validator_set.members],
        validator_set.threshold,
        validator_set.min_jurisdictions,
    )


def transfer_id(src_chain_id: int, src_contract: Address, nonce: int) -> Hash32:
    """Mirrors ``BridgeBase._transferId``: keccak256(abi.encode(uint256, address, uint64))."""
    return Hash32(
        keccak(encode(["uint256", "address", "uint64"], [src_chain_id, src_contract, nonce]))
    )
