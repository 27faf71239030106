"""The bridge contracts' validator-set functions as the relayer uses them: reads of the
current set's hash, the previous set's window and roles, and the calldata of
``rotateValidatorSet`` and ``expirePreviousSet`` (contracts/src/BridgeAdmin.sol)."""

from __future__ import annotations

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from relayer.chain.bridge import BridgeContract, selector
from relayer.chain.submission import SubmitRequest
from relayer.domain.digest import jurisdiction_code
from relayer.domain.rotation import SetProposal
from relayer.domain.types import Address, Hash32
from relayer.errors import RpcResponseError

ROTATE_SIGNATURE = "rotateValidatorSet(address[],bytes2[],uint8,uint8,uint64,bytes)"
EXPIRE_SIGNATURE = "expirePreviousSet()"
PAUSER_ROLE = Hash32(keccak(text="PAUSER_ROLE"))
DEFAULT_ADMIN_ROLE = Hash32(b"\x00" * 32)
# what a rotation's revert means (the receipt or estimate of our own transaction)
ROTATION_EXPIRED_SELECTOR = selector("RotationExpired(uint64)")
PREVIOUS_SET_NOT_ACTIVE_SELECTOR = selector("PreviousSetNotActive()")


async def _word(contract: BridgeContract, signature: str, args: bytes = b"") -> bytes:
    raw = await contract.rpc.call(contract.address, selector(signature) + args)
    if len(raw) != 32:
        raise RpcResponseError(f"{signature}: a {len(raw)}-byte answer")
    return raw


async def validator_set_hash(contract: BridgeContract) -> Hash32:
    """``validatorSetHash()``: what a rotation names as the set it replaces."""
    return Hash32(await _word(contract, "validatorSetHash()"))


async def has_role(contract: BridgeContract, role: Hash32, account: Address) -> bool:
    """``hasRole(role, account)`` (OpenZeppelin AccessControl)."""
    raw = await _word(
        contract, "hasRole(bytes32,address)", encode(["bytes32", "address"], [role, account])
    )
    try:
        (answer,) = decode(["bool"], raw)
    except (DecodingError, ValueError) as err:
        raise RpcResponseError("hasRole: not a bool") from err
    return bool(answer)


def rotate_calldata(proposal: SetProposal, bundle: bytes) -> bytes:
    """Calldata of ``rotateValidatorSet(members, jurisdictions, threshold,
    minJurisdictions, deadline, signatures)``."""
    return selector(ROTATE_SIGNATURE) + encode(
        ["address[]", "bytes2[]", "uint8", "uint8", "uint64", "bytes"],
        [
            [m.address for m in proposal.members],
            [jurisdiction_code(m.jurisdiction) for m in proposal.members],
            proposal.threshold,
            proposal.min_jurisdictions,
            proposal.deadline,
            bundle,
        ],
    )


def rotate_request(proposal: SetProposal, contract: Address, bundle: bytes) -> SubmitRequest:
    """A ``rotateValidatorSet`` for the submitter: no pre-flight view (``batch`` set, like
    a root's commit; the caller read ``validatorSetHash`` first) and not journaled (sent
    again, it reverts harmlessly: the set it names is no longer current)."""
    pid = proposal.proposal_id
    return SubmitRequest(
        pid, contract, rotate_calldata(proposal, bundle), batch=(pid,), journaled=False
    )


def expire_calldata() -> bytes:
    """Calldata of ``expirePreviousSet()``."""
    return selector(EXPIRE_SIGNATURE)
