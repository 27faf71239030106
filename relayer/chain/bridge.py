"""The bridge contracts' ABI as the relayer uses it: typed reads of the vault and the
gateway, the calldata of a release, unlock or batch, the selectors of their errors and the
topics of their events (one place for this knowledge; ``relayer.chain.transactions`` and
``relayer.devnet.deploy`` are the client's, devnet's and tests' web3 view of the same ABI
files).

Calls go through :class:`relayer.chain.rpc.RpcClient` (timeouts, retries, strict
answers); encoding and decoding use the contracts' own ABI types via eth-abi. A
malformed answer raises :class:`RpcResponseError` naming the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from relayer.chain.rpc import RpcClient, RpcNodeError
from relayer.chain.rpc_types import BlockId, LogEntry
from relayer.domain.transfer import (
    AlreadyReleased,
    CancelledOnDestination,
    DelayedOnDestination,
    ReleaseConfirmed,
)
from relayer.domain.types import (
    ZERO_ADDRESS,
    Address,
    Hash32,
    Release,
    Validator,
    ValidatorSet,
    parse_address,
)
from relayer.errors import RpcResponseError

# The contracts' ABI as the relayer uses it, in one place: functions, events and errors.
IS_PROCESSED_SELECTOR = keccak(text="isProcessed(bytes32)")[:4]
STATUS_OF_SELECTOR = keccak(text="statusOf(bytes32)")[:4]
ALREADY_PROCESSED_SELECTOR = keccak(text="AlreadyProcessed(bytes32)")[:4]
TRANSFER_CANCELLED_SELECTOR = keccak(text="TransferCancelled(bytes32)")[:4]
NOT_DELAYED_SELECTOR = keccak(text="NotDelayed(bytes32)")[:4]
# Reverts that mean "not now": the destination contract, the token or the route is paused.
_HELD = (  # error, what is paused (a metric label), why nothing is sent
    ("EnforcedPause()", "contract", "the destination contract is paused"),
    ("TokenPaused(address)", "token", "the token is paused at the destination"),
    ("RoutePaused(uint64)", "route", "the route is paused at the destination"),
)
HELD_ERRORS: dict[bytes, str] = {keccak(text=error)[:4]: why for error, _, why in _HELD}
HELD_KINDS: dict[str, str] = {why: kind for _, kind, why in _HELD}  # reason -> "token", ...

_SET_TYPES = ["uint64", "address[]", "bytes2[]", "uint8", "uint8"]
_RELEASE_TUPLE = "(bytes32,uint64,uint64,address,address,uint256)"
RELEASED_TOPIC = Hash32(keccak(text="Released(bytes32,address,address,uint256)"))
UNLOCKED_TOPIC = Hash32(keccak(text="Unlocked(bytes32,address,address,uint256)"))
RELEASE_DELAYED_TOPIC = Hash32(keccak(text="ReleaseDelayed(bytes32,uint64)"))
RELEASE_CANCELLED_TOPIC = Hash32(keccak(text="ReleaseCancelled(bytes32,bool)"))
RELEASE_SKIPPED_TOPIC = Hash32(keccak(text="ReleaseSkipped(bytes32,bytes4)"))
BATCH_FUNCTIONS = {"release": "releaseBatch", "unlock": "unlockBatch"}
PROOF_BATCH_FUNCTIONS = {"release": "releaseBatchWithProof", "unlock": "unlockBatchWithProof"}

# ``statusOf(transferId)`` on either contract
STATUS_UNKNOWN, STATUS_EXECUTED, STATUS_DELAYED, STATUS_CANCELLED, STATUS_REFUNDED = range(5)
# what each view ``progress_of`` reads may answer (a bool; a status)
_VIEW_ANSWERS = {IS_PROCESSED_SELECTOR: range(2), STATUS_OF_SELECTOR: range(5)}

DestinationOutcome = (
    ReleaseConfirmed | AlreadyReleased | DelayedOnDestination | CancelledOnDestination
)


def selector(signature: str) -> bytes:
    """The 4-byte function selector of ``name(types)``."""
    return keccak(text=signature)[:4]


class Progress(Enum):
    """What a view of the destination contract says of one transfer's work."""

    TO_DO = "to do"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Unanswered:
    """The view reverted, the node refused it or its answer was short: evidence of
    neither. Nothing may be sent on it (the work may be done) and nothing counts as done
    on it (it may not be); the caller looks again later."""

    detail: str


async def progress_of(
    rpc: RpcClient,
    contract: Address,
    check: bytes,
    pending_answer: int,
    transfer_id: Hash32,
    block: BlockId = "latest",
) -> Progress | Unanswered:
    """Whether the view ``check(transferId)`` of ``contract`` still answers
    ``pending_answer`` as of ``block`` (``isProcessed``: 0, false; ``statusOf`` for an
    ``executeDelayed``: 2, delayed). The one reader of these views; a transport failure
    raises (``RpcError``, retryable)."""
    answers = _VIEW_ANSWERS.get(check)
    if answers is None or pending_answer not in answers:
        raise ValueError(f"no progress view 0x{check.hex()} answering {pending_answer}")
    try:
        answer = await rpc.call(contract, check + transfer_id, block)
    except RpcNodeError as err:
        return Unanswered(err.message)
    if len(answer) != 32:
        return Unanswered(f"a {len(answer)}-byte answer")
    value = int.from_bytes(answer, "big")
    if value not in answers:  # not a bool / not a status: no evidence either way
        return Unanswered(f"answer {value} is none of the view's values")
    return Progress.TO_DO if value == pending_answer else Progress.DONE


@dataclass(frozen=True, slots=True)
class PreviousSet:
    """The set replaced by the last rotation, valid until ``valid_until`` (unix seconds)."""

    validator_set: ValidatorSet
    valid_until: int


def _to_set(values: tuple[Any, ...]) -> ValidatorSet:
    set_id, members, jurisdictions, threshold, min_jurisdictions = values[:5]
    if len(members) != len(jurisdictions):
        raise RpcResponseError("validatorSet(): members and jurisdictions differ in length")
    try:
        validators = tuple(
            Validator(parse_address(m), bytes(j).decode("ascii"))
            for m, j in zip(members, jurisdictions, strict=True)
        )
    except ValueError as err:
        raise RpcResponseError(f"validatorSet(): bad member entry: {err}") from err
    return ValidatorSet(int(set_id), validators, int(threshold), int(min_jurisdictions))


@dataclass(frozen=True, slots=True)
class CommittedRoot:
    """What ``rootOf`` says of a committed root: its window, the set that signed it, and
    whether that set is still valid (a root of an expired set executes nothing)."""

    src_chain_id: int
    first_nonce: int
    last_nonce: int
    set_id: int
    live: bool


class BridgeContract:
    """Read-only view of a BridgeVault or BridgeGateway (they share these functions)."""

    def __init__(self, rpc: RpcClient, address: Address, chain_id: int) -> None:
        self.rpc = rpc
        self.address = address
        self.chain_id = chain_id

    async def _call(
        self,
        signature: str,
        types: list[str],
        args: list[Any],
        out: list[str],
        block: BlockId = "latest",
    ) -> Any:
        data = selector(signature) + encode(types, args)
        raw = await self.rpc.call(self.address, data, block)
        try:
            return decode(out, raw)
        except (DecodingError, ValueError, TypeError) as err:
            raise RpcResponseError(f"{signature}: undecodable answer ({len(raw)} bytes)") from err

    async def validator_set(self) -> ValidatorSet:
        """The current set: the one a release is checked against."""
        return _to_set(await self._call("validatorSet()", [], [], _SET_TYPES))

    async def previous_validator_set(self) -> PreviousSet | None:
        """The set replaced by the last rotation while its grace period lasts, else None."""
        values = await self._call("previousValidatorSet()", [], [], [*_SET_TYPES, "uint64"])
        if int(values[0]) == 0 or not values[1]:
            return None
        return PreviousSet(_to_set(values), int(values[5]))

    async def processed(
        self, transfer_id: Hash32, block: BlockId = "latest"
    ) -> Progress | Unanswered:
        """``isProcessed``: whether the contract executed ``transfer_id`` as of ``block``."""
        return await progress_of(
            self.rpc, self.address, IS_PROCESSED_SELECTOR, 0, transfer_id, block
        )

    async def paused(self) -> bool:
        """``paused()``: while true the contract refuses every release, unlock and
        ``executeDelayed``."""
        (value,) = await self._call("paused()", [], [], ["bool"])
        return bool(value)

    async def root_of(self, root: Hash32) -> CommittedRoot | None:
        """``rootOf``: the committed root's window and signing set (None: not committed)."""
        src, first, last, set_id, live = await self._call(
            "rootOf(bytes32)",
            ["bytes32"],
            [root],
            ["uint64", "uint64", "uint64", "uint64", "bool"],
        )
        if int(first) == 0:
            return None
        return CommittedRoot(int(src), int(first), int(last), int(set_id), bool(live))

    async def status_of(self, transfer_id: Hash32, block: BlockId = "latest") -> int:
        """``statusOf``: 0 unknown, 1 executed, 2 delayed, 3 cancelled, 4 refunded."""
        (status,) = await self._call(
            "statusOf(bytes32)", ["bytes32"], [transfer_id], ["uint8"], block
        )
        if not STATUS_UNKNOWN <= int(status) <= STATUS_REFUNDED:
            raise RpcResponseError(f"statusOf(): unknown status {status}")
        return int(status)

    async def executable_at(self, transfer_id: Hash32, block: BlockId = "latest") -> int:
        """``delayedOf(transferId).executableAt`` (0 when the id is not delayed)."""
        values = await self._call(
            "delayedOf(bytes32)",
            ["bytes32"],
            [transfer_id],
            ["address", "address", "uint256", "uint64"],
            block,
        )
        return int(values[3])

    async def outcome_at(
        self, transfer_id: Hash32, head: int, lookback: int
    ) -> DestinationOutcome | None:
        """What the destination did with ``transfer_id`` as of its confirmed ``head``, as
        the lifecycle input to apply; ``None`` while nothing (or nothing consistent) is
        there. An execution needs its log (see ``executed_at``); a delay needs its
        ``executableAt``."""
        return await self.outcome_for(
            transfer_id, await self.status_of(transfer_id, head), head, lookback
        )

    async def outcome_for(
        self, transfer_id: Hash32, status: int, head: int, lookback: int
    ) -> DestinationOutcome | None:
        """``outcome_at`` for a ``status`` already read at ``head`` (no second ``statusOf``)."""
        if status == STATUS_EXECUTED:
            execution = await self.executed_at(transfer_id, head, lookback)
            if execution is None:
                return None
            if execution.tx_hash is None:
                return AlreadyReleased(transfer_id)
            return ReleaseConfirmed(transfer_id, execution.tx_hash)
        if status == STATUS_DELAYED:
            executable_at = await self.executable_at(transfer_id, head)
            if executable_at == 0:
                raise RpcResponseError("delayedOf(): a delayed transfer without executableAt")
            return DelayedOnDestination(transfer_id, executable_at)
        if status == STATUS_CANCELLED:
            return CancelledOnDestination(transfer_id)
        return None  # unknown (or refunded: an id this contract issued, not a release)

    async def mirror_of(self, src_chain_id: int, src_token: Address) -> Address | None:
        """Gateway only: the mirror of a source token (None if not registered)."""
        (mirror,) = await self._call(
            "mirrorOf(uint64,address)",
            ["uint64", "address"],
            [src_chain_id, src_token],
            ["address"],
        )
        address = parse_address(mirror)
        return None if address == ZERO_ADDRESS else address

    async def source_of(self, mirror: Address) -> tuple[int, Address] | None:
        """Gateway only: (source chain, source token) of a mirror (None if not one)."""
        chain_id, token = await self._call(
            "sourceOf(address)", ["address"], [mirror], ["uint64", "address"]
        )
        if int(chain_id) == 0:
            return None
        return int(chain_id), parse_address(token)

    async def executed_at(
        self, transfer_id: Hash32, head: int, lookback: int, max_windows: int = 24
    ) -> Execution | None:
        """Consistent evidence that ``transfer_id`` executed at or below block ``head``.

        Its ``Released``/``Unlocked`` log, searched backwards from ``head`` in windows of
        ``lookback`` blocks (at most ``max_windows`` of them); beyond that, ``isProcessed``
        already true at the block below the oldest window searched (an execution that
        old cannot be reorged away; a pruned node that has no such state answers
        ``None``). ``None`` also when the node answers inconsistently (a state read
        during a reorg says executed, but no log shows it): nothing may count as done on
        such an answer.
        """
        high = head
        for _ in range(max_windows):
            low = max(0, high - lookback + 1)
            logs = await self.rpc.get_logs(
                self.address, [[RELEASED_TOPIC, UNLOCKED_TOPIC], transfer_id], low, high
            )
            if logs:
                return Execution(logs[0].tx_hash)
            if low == 0:
                return None
            high = low - 1
        # Unanswered: no state that old on this node
        done = await self.processed(transfer_id, high) is Progress.DONE
        return Execution(None) if done else None


@dataclass(frozen=True, slots=True)
class Execution:
    """Evidence that a transfer executed at or below a given block: the executing
    transaction when its log is within the look-back, else ``None`` (older than that)."""

    tx_hash: Hash32 | None


def execute_delayed_calldata(transfer_id: Hash32) -> bytes:
    """Calldata of ``executeDelayed(bytes32)``."""
    return selector("executeDelayed(bytes32)") + bytes(transfer_id)


def _release_args(release: Release) -> tuple[Any, ...]:
    return (
        release.transfer_id,
        release.src_chain_id,
        release.nonce,
        release.token,
        release.recipient,
        release.amount,
    )


def release_calldata(function: str, release: Release, bundle: bytes) -> bytes:
    """Calldata of ``release(Release, bytes)`` (gateway) or ``unlock(Release, bytes)`` (vault)."""
    if function not in BATCH_FUNCTIONS:
        raise ValueError(f"unknown bridge function {function!r}")
    return selector(f"{function}({_RELEASE_TUPLE},bytes)") + encode(
        [_RELEASE_TUPLE, "bytes"], [_release_args(release), bundle]
    )


def release_batch_calldata(function: str, items: list[tuple[Release, bytes]]) -> bytes:
    """Calldata of ``releaseBatch(Release[], bytes[])`` (``function`` "release") or
    ``unlockBatch`` ("unlock"): each item is processed on its own by the contract."""
    if function not in BATCH_FUNCTIONS:
        raise ValueError(f"unknown bridge function {function!r}")
    if not items:
        raise ValueError("a batch needs at least one release")
    name = BATCH_FUNCTIONS[function]
    return selector(f"{name}({_RELEASE_TUPLE}[],bytes[])") + encode(
        [f"{_RELEASE_TUPLE}[]", "bytes[]"],
        [[_release_args(r) for r, _ in items], [bundle for _, bundle in items]],
    )


def commit_root_calldata(
    root: Hash32, src_chain_id: int, first_nonce: int, last_nonce: int, bundle: bytes
) -> bytes:
    """Calldata of ``commitRoot(bytes32, uint64, uint64, uint64, bytes)``."""
    return selector("commitRoot(bytes32,uint64,uint64,uint64,bytes)") + encode(
        ["bytes32", "uint64", "uint64", "uint64", "bytes"],
        [root, src_chain_id, first_nonce, last_nonce, bundle],
    )


def release_batch_with_proof_calldata(
    function: str,
    root: Hash32,
    releases: list[Release],
    proof: list[Hash32],
    flags: list[bool],
) -> bytes:
    """Calldata of ``releaseBatchWithProof(bytes32, Release[], bytes32[], bool[])`` (function
    "release") or ``unlockBatchWithProof`` ("unlock"): leaves of the committed ``root``, in
    the multiproof's order, proven together."""
    if function not in PROOF_BATCH_FUNCTIONS:
        raise ValueError(f"unknown bridge function {function!r}")
    if not releases:
        raise ValueError("a batch needs at least one release")
    name = PROOF_BATCH_FUNCTIONS[function]
    return selector(f"{name}(bytes32,{_RELEASE_TUPLE}[],bytes32[],bool[])") + encode(
        ["bytes32", f"{_RELEASE_TUPLE}[]", "bytes32[]", "bool[]"],
        [root, [_release_args(r) for r in releases], proof, flags],
    )


def skipped_in(logs: tuple[LogEntry, ...], contract: Address) -> dict[Hash32, bytes]:
    """The items a batch skipped (``ReleaseSkipped`` logs of ``contract``): transfer id ->
    the selector of the error a single call would have reverted with."""
    skipped: dict[Hash32, bytes] = {}
    for entry in logs:
        ours = entry.address == contract and entry.topics[:1] == (RELEASE_SKIPPED_TOPIC,)
        if ours and len(entry.topics) >= 2 and len(entry.data) >= 4:
            skipped[Hash32(entry.topics[1])] = bytes(entry.data[:4])
    return skipped
