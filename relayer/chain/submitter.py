"""Send one release/unlock transaction and follow it to a typed outcome.

``Submitter.submit(request)``: pre-flight ``isProcessed`` (true: ``AlreadyProcessed``;
for an ``executeDelayed`` request, ``statusOf`` no longer 2; a revert is no answer:
``RpcResponseError``, nothing sent),
estimate gas (x margin, and at least 100 gas per calldata byte for Conflux CIP-130),
choose EIP-1559 fees under the cap (above it: wait up to ``fee_wait``, then
``FeeAboveCap``), take a nonce from the ``NonceSource``, sign and send, then follow the
receipt to N confirmations. "Already processed" counts as done only once the execution
is at or below the chain's confirmed head (``rule``); above it the outcome is
``AwaitingFinality`` and nothing is sent, so a reorg that drops the execution leads to a
new submission rather than a lost transfer. A transaction unmined after ``replace_after`` seconds is
replaced (same nonce, fees +12.5%, never above the cap). Node answers: "nonce too low"
re-syncs the nonce and checks whether our earlier transaction mined; "replacement
underpriced" bumps; "insufficient funds" is ``OutOfFunds``; a revert with
``AlreadyProcessed(bytes32)`` is ``AlreadyProcessed``. Never a bare boolean.

With a ``SendJournal``, every signed transaction is recorded (nonce, hash, fees, the
transfers it carries) before it is broadcast, and a submission first looks there: a
transaction it sent before a restart that the node still holds is followed (and replaced
when stuck) instead of a second one being sent; one the node never saw or dropped is
forgotten and the transfer is sent again.

A batch request (``SubmitRequest.batch``) skips the pre-flight (the caller checked each
item, and the contract skips one done meanwhile); an estimate above its ``gas_budget`` is
``OverBudget`` (nothing sent) and any revert is ``Failed``, for the caller to split.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from relayer import crashpoints
from relayer.chain.bridge import HELD_ERRORS, Progress, Unanswered, progress_of
from relayer.chain.confirmation import ConfirmationRule, confirmed_head
from relayer.chain.fees import FeeAboveCap, FeePolicy, Fees, bump_fees, current_fees
from relayer.chain.kind import ChainKind, chain_kind
from relayer.chain.rpc import RpcClient, RpcNodeError
from relayer.chain.rpc_types import BlockId, Receipt, SentTransaction
from relayer.chain.submission import (
    AlreadyProcessed,
    AwaitingFinality,
    Failed,
    Held,
    Mined,
    NonceSource,
    OutOfFunds,
    OverBudget,
    Pending,
    SendJournal,
    SentTx,
    SubmitOutcome,
    SubmitRequest,
)
from relayer.crashpoints import CrashPoint
from relayer.domain.types import Hash32, checksum
from relayer.errors import RpcError, RpcResponseError
from relayer.keys import Signer, sign_transaction

log = structlog.get_logger(__name__)

LATEST = ConfirmationRule("depth", 0)

NONCE_TOO_LOW = ("nonce too low", "nonce is too low", "stale nonce", "too stale nonce")
ALREADY_KNOWN = ("already known", "known transaction", "already imported", "already in pool")
UNDERPRICED = ("underpriced", "too low to replace", "gas price too low")
NO_FUNDS = ("insufficient funds", "not enough cash", "insufficient balance")
Resend = Literal["nonce_too_low", "underpriced"]


@dataclass(frozen=True, slots=True)
class SubmitterConfig:
    """Tunables for one destination chain; tests shrink the times."""

    chain_id: int
    fees: FeePolicy
    kind: ChainKind | None = None  # None: from chain_id (relayer.chain.kind.chain_kind)
    confirmations: int = 1
    rule: ConfirmationRule = LATEST  # when an execution is final
    poll_interval: float = 1.0
    replace_after: float = 60.0
    fee_wait: float = 0.0
    deadline: float = 600.0
    gas_margin: float = 1.25
    min_gas_per_calldata_byte: int = 100
    max_sends: int = 10


def _says(err: RpcNodeError, words: tuple[str, ...]) -> bool:
    lowered = err.message.lower()
    return any(word in lowered for word in words)


class Submitter:
    """Submits transactions from one key (any ``Signer``: keystore or HSM) to one chain."""

    def __init__(
        self,
        rpc: RpcClient,
        signer: Signer,
        nonces: NonceSource,
        config: SubmitterConfig,
        journal: SendJournal | None = None,
    ) -> None:
        self.rpc = rpc
        self.config = config
        self.journal = journal
        self.kind = chain_kind(config.chain_id, config.kind)  # decides the fee RPCs (fees.py)
        self.nonces = nonces
        self._signer = signer
        self.sender = signer.address
        self.sent: list[Hash32] = []  # every transaction hash of the latest submit, in order
        # Held from taking a nonce until the node has the transaction: the next submission's
        # nonce (the node's pending count) is then always the next one, with several in flight.
        self._sending = asyncio.Lock()

    async def submit(self, request: SubmitRequest) -> SubmitOutcome:
        """Run the whole submission; see the module docstring."""
        outcome, _ = await self.submit_tracked(request)
        return outcome

    async def submit_tracked(
        self, request: SubmitRequest
    ) -> tuple[SubmitOutcome, tuple[Hash32, ...]]:
        """``submit``, with every transaction hash this call sent or followed, in order.
        Several calls may run at once (pipelined nonces); ``sent`` is the latest call's."""
        sent: list[Hash32] = []
        self.sent = sent
        async with asyncio.timeout(self.config.deadline + 60):
            outcome = await self._submit(request, time.monotonic(), sent)
        return outcome, tuple(sent)

    async def _submit(
        self, req: SubmitRequest, started: float, sent: list[Hash32]
    ) -> SubmitOutcome:
        executed = None if req.batch else await self._executed(req)
        if executed is not None:
            return executed
        # before any estimate: a node may estimate on its pending state, where the
        # transaction we already sent makes this one revert
        resumed, earlier = await self._resumable(req)
        if resumed is not None:
            # the node's own copy gives its nonce, gas and fees (a replacement bumps them)
            nonce, gas = resumed.nonce, resumed.gas
            fees = Fees(resumed.max_fee_per_gas, resumed.max_priority_fee_per_gas)
            sent.extend([*earlier, resumed.tx_hash])
            log.info("following a transaction sent before", tx=resumed.tx_hash.hex(), nonce=nonce)
        else:
            estimated = await self._gas_limit(req)
            if not isinstance(estimated, int):
                return estimated
            gas = estimated
            fresh = await self._fees_within_cap()
            if isinstance(fresh, FeeAboveCap):
                return fresh
            fees = fresh
            nonce = -1  # taken under the send lock, right before the first send
        can_replace = True
        for _ in range(self.config.max_sends):
            if resumed is not None:
                result: Hash32 | Resend | SubmitOutcome = resumed.tx_hash
                resumed = None
            else:
                result, nonce = await self._send(req, gas, fees, nonce, sent)
            if result == "underpriced":
                bumped = bump_fees(fees, await self._fees_now(), self._cap)
                if isinstance(bumped, FeeAboveCap):
                    if not sent:
                        return bumped
                    can_replace = False
                else:
                    fees = bumped
                    continue
            elif result == "nonce_too_low":
                outcome = await self._after_nonce_too_low(req, sent)
                if outcome is not None:
                    return outcome
                nonce = -1
                continue
            elif not isinstance(result, bytes):
                return result
            followed = await self._follow(req, nonce, started, can_replace, sent)
            if followed == "nonce_too_low":
                outcome = await self._after_nonce_too_low(req, sent)
                if outcome is not None:
                    return outcome
                nonce = -1
            elif followed == "stuck":
                bumped = bump_fees(fees, await self._fees_now(), self._cap)
                if isinstance(bumped, FeeAboveCap):
                    log.warning("stuck tx, replacement would exceed the fee cap", nonce=nonce)
                    can_replace = False
                    continue  # resend the same tx (harmless) and keep following
                fees = bumped
            else:
                return followed
        return Failed(f"gave up after {self.config.max_sends} sends", sent[-1] if sent else None)

    @property
    def _cap(self) -> int:
        return self.config.fees.max_fee_cap

    # --- steps ----------------------------------------------------------------------

    async def _executed(
        self, req: SubmitRequest, reverted: Hash32 | None = None
    ) -> AlreadyProcessed | AwaitingFinality | None:
        """Whether the destination did ``req``: final, not yet final, or not at all. A view
        that gives no answer at ``latest`` is none of these: ``RpcResponseError``, nothing
        is sent (the next round looks again)."""
        now = await self.progress(req)
        if isinstance(now, Unanswered):
            raise RpcResponseError(
                f"pending check of 0x{req.transfer_id.hex()} unanswered: {now.detail}"
            )
        if now is Progress.TO_DO:
            return None
        head = await confirmed_head(self.rpc, self.config.rule)
        if head is not None and await self.progress(req, head.number) is Progress.DONE:
            return AlreadyProcessed(req.transfer_id, reverted, confirmed_at=head.number)
        return AwaitingFinality(req.transfer_id)

    async def progress(
        self, req: SubmitRequest, block: BlockId = "latest"
    ) -> Progress | Unanswered:
        """What ``req.pending_check(transferId)`` says (``isProcessed``, for a release)."""
        return await progress_of(
            self.rpc, req.to, req.pending_check, req.pending_answer, req.transfer_id, block
        )

    def _call_object(self, req: SubmitRequest) -> dict[str, Any]:
        return {
            "from": checksum(self.sender),
            "to": checksum(req.to),
            "data": "0x" + req.data.hex(),
            "value": hex(req.value),
        }

    async def _gas_limit(self, req: SubmitRequest) -> int | SubmitOutcome:
        try:
            estimate = await self.rpc.estimate_gas(self._call_object(req))
        except RpcNodeError as err:
            return self._rejection(req, err, "estimateGas")
        floor = self.config.min_gas_per_calldata_byte * len(req.data)
        gas = max(math.ceil(estimate * self.config.gas_margin), floor, 21_000)
        if req.gas_budget is not None and gas > req.gas_budget:
            return OverBudget(gas, req.gas_budget)
        return gas

    def _rejection(self, req: SubmitRequest, err: RpcNodeError, step: str) -> SubmitOutcome:
        revert = err.revert_data()
        if revert is not None and not req.batch and revert[:4] in req.done_errors:
            return AlreadyProcessed(req.transfer_id)
        if revert is not None and revert[:4] in HELD_ERRORS:
            return Held(req.transfer_id, HELD_ERRORS[revert[:4]])
        if _says(err, NO_FUNDS):
            return OutOfFunds(self.sender, err.message)
        return Failed(f"{step}: {err.message}")

    async def _fees_now(self) -> Fees | FeeAboveCap:
        return await current_fees(self.rpc, self.config.fees, self.kind)

    async def _fees_within_cap(self) -> Fees | FeeAboveCap:
        give_up = time.monotonic() + self.config.fee_wait
        while True:
            fees = await self._fees_now()
            if isinstance(fees, Fees) or time.monotonic() >= give_up:
                return fees
            log.info("fee above cap, waiting", required=fees.required, cap=fees.cap)
            await asyncio.sleep(self.config.poll_interval)

    async def _resumable(self, req: SubmitRequest) -> tuple[SentTransaction | None, list[Hash32]]:
        """The latest recorded transaction for ``req``'s transfers that the node still
        holds (sent before a restart), as the node holds it, with the hashes recorded for
        its nonce before it (the ones it replaced: any of them may mine); ``(None, [])``
        when there is none."""
        if self.journal is None or not req.journaled:
            return None, []
        ids = req.transfer_ids
        recorded = await self.journal.in_flight(self.config.chain_id, self.sender, ids)
        for sent in reversed(recorded):
            # only one that carries all of them: its outcome is then each one's outcome
            if not set(ids) <= set(sent.transfer_ids):
                continue
            held = await self.rpc.get_transaction(sent.tx_hash)
            if held is not None:
                earlier = [
                    r.tx_hash
                    for r in recorded
                    if r.nonce == held.nonce and r.tx_hash != sent.tx_hash
                ]
                return held, earlier
        return None, []

    async def _fresh_nonce(self) -> int:
        pending = await self.rpc.get_transaction_count(self.sender, "pending")
        return await self.nonces.next_nonce(self.config.chain_id, self.sender, pending)

    async def _send(
        self, req: SubmitRequest, gas: int, fees: Fees, nonce: int, sent: list[Hash32]
    ) -> tuple[Hash32 | Resend | SubmitOutcome, int]:
        """Sign, record and broadcast at ``nonce`` (a fresh one when negative); returns the
        result and the nonce used. The send lock is held until the node has answered, so
        that concurrent submissions take consecutive nonces. The nonce is committed after
        the lock is released: the next nonce is the node's pending count, so the
        ``NonceSource``'s record is not needed to choose it (nor for crash safety: the
        journal row recorded before the broadcast is what a restart reads)."""
        async with self._sending:
            if nonce < 0:
                nonce = await self._fresh_nonce()
            result = await self._send_locked(req, gas, fees, nonce, sent)
        if isinstance(result, bytes):  # the node has it (or may have)
            await self.nonces.commit(self.config.chain_id, self.sender, nonce)
        return result, nonce

    async def _send_locked(
        self, req: SubmitRequest, gas: int, fees: Fees, nonce: int, sent: list[Hash32]
    ) -> Hash32 | Resend | SubmitOutcome:
        tx = {
            "type": 2,
            "chainId": self.config.chain_id,
            "nonce": nonce,
            "gas": gas,
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.max_priority_fee,
            "to": checksum(req.to),
            "value": req.value,
            "data": req.data,
        }
        signed = sign_transaction(self._signer, tx)
        tx_hash = signed.hash
        if self.journal is not None and req.journaled:
            record = SentTx(req.transfer_ids, nonce, tx_hash, fees.max_fee, fees.max_priority_fee)
            await self.journal.record(self.config.chain_id, self.sender, record)
            crashpoints.reached(CrashPoint.RECORDED, tx=tx_hash.hex())
        try:
            await self.rpc.send_raw_transaction(signed.raw)
        except RpcNodeError as err:
            if _says(err, ALREADY_KNOWN):
                pass
            elif _says(err, NONCE_TOO_LOW):
                return "nonce_too_low"
            elif _says(err, UNDERPRICED):
                return "underpriced"
            else:
                return self._rejection(req, err, "sendRawTransaction")
        except RpcError as err:  # may have reached the node: follow it like a sent tx
            log.warning("send failed transiently, following anyway", error=str(err))
        if tx_hash not in sent:
            sent.append(tx_hash)
        crashpoints.reached(CrashPoint.SENT, tx=tx_hash.hex())
        log.info("sent", tx=tx_hash.hex(), nonce=nonce, max_fee=fees.max_fee)
        return tx_hash

    async def _after_nonce_too_low(
        self, req: SubmitRequest, sent: list[Hash32]
    ) -> SubmitOutcome | None:
        chain_nonce = await self.rpc.get_transaction_count(self.sender, "latest")
        await self.nonces.resync(self.config.chain_id, self.sender, chain_nonce)
        for tx_hash in reversed(sent):
            receipt = await self.rpc.get_transaction_receipt(tx_hash)
            if receipt is not None:
                return await self._settle(req, receipt)
        # a batch has no pre-flight: sent again with a fresh nonce, it skips what is done
        return None if req.batch else await self._executed(req)

    async def _follow(
        self, req: SubmitRequest, nonce: int, started: float, can_replace: bool, sent: list[Hash32]
    ) -> SubmitOutcome | Literal["stuck", "nonce_too_low"]:
        last_send = time.monotonic()
        while True:
            for tx_hash in reversed(sent):
                receipt = await self.rpc.get_transaction_receipt(tx_hash)
                if receipt is not None:
                    settled = await self._settle(req, receipt)
                    if settled is not None:
                        return settled
            now = time.monotonic()
            if now - started > self.config.deadline:
                return Pending(sent[-1], nonce)
            if await self.rpc.get_transaction_count(self.sender, "latest") > nonce:
                if any([await self.rpc.get_transaction_receipt(h) for h in sent]):
                    continue  # mined between the two reads: settle on the next pass
                return "nonce_too_low"  # our nonce was used by another transaction
            if can_replace and now - last_send > self.config.replace_after:
                return "stuck"
            await asyncio.sleep(self.config.poll_interval)

    async def _settle(self, req: SubmitRequest, receipt: Receipt) -> SubmitOutcome | None:
        """Outcome of a mined receipt after N confirmations; ``None`` if it was reorged out."""
        if receipt.status == 0:
            executed = None if req.batch else await self._executed(req, receipt.tx_hash)
            if executed is not None:
                return executed
            return Failed(f"reverted in block {receipt.block_number}", receipt.tx_hash)
        target = receipt.block_number + self.config.confirmations - 1
        while True:
            if await self.rpc.block_number() >= target:
                break
            await asyncio.sleep(self.config.poll_interval)
        again = await self.rpc.get_transaction_receipt(receipt.tx_hash)
        if again is None or again.block_hash != receipt.block_hash:
            return None
        return Mined(receipt.tx_hash, receipt.block_number, receipt.gas_used, receipt.logs)
