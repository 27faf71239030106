"""Validator-set rotation: the shell around ``relayer.domain.rotation``.

Every ``set_sweep_s``, for each stored proposal not yet final on every chain:

1. this validator's own proposal (``relayer set propose``) and own approval
   (``relayer set approve``) are published, retained, and again every
   ``republish_interval_s`` (``{prefix}/v1/set/{proposal_id}[/{signer}]``);
2. on each chain it names (and this relayer sends to), the chain's current set, its
   ``validatorSetHash()`` and the latest block's time are read and
   ``rotation_state`` says where the proposal stands: applied, superseded and expired are
   recorded as final (never tried again); with a quorum of the CURRENT set's signatures
   (threshold and jurisdictions, ``evaluate_quorum``) the validator first in line sends
   ``rotateValidatorSet`` through the chain's submitter, the k-th in line (the set's
   members ordered from the proposal id, ``submitter_rank``) ``k * grace_period_s`` after
   this relayer first saw the quorum. A rotation seen applied refreshes the set book at
   once (the other relayers follow within ``set_refresh_s``).

Peers' proposals and approvals arrive through ``receive``: the proposal must name this
relayer's bridge contracts and replace each chain's current set (set id + 1); an approval's
signer must be a member of each chain's current set and recover from each signature over
the digest recomputed here. Proposal and signatures are stored in one transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from relayer.chain.rotation import rotate_request, validator_set_hash
from relayer.chain.submission import Mined, Pending, SubmitOutcome
from relayer.domain.errors import InvalidSignatureError
from relayer.domain.rotation import (
    Applied,
    AwaitingQuorum,
    ChainTarget,
    Expired,
    ReadyToSubmit,
    RotationOutcome,
    SetProposal,
    SetSignature,
    Superseded,
    rotation_state,
)
from relayer.domain.signature import recover_signer
from relayer.domain.types import Address, Hash32, hex32
from relayer.errors import RetryableError, RpcResponseError
from relayer.gossip.sets import ChainSignature, SetApprovalMessage, SetProposalMessage
from relayer.log import get_logger
from relayer.service.books import SetBook
from relayer.service.submit import Destination, submitter_rank
from relayer.service.writer import Writer
from relayer.store import SetOutcomeState, SetProposalRecord
from relayer.store.records import FINAL_SET_STATES

log = get_logger("rotation")

SetMessage = SetProposalMessage | SetApprovalMessage
Publish = Callable[[SetMessage], Awaitable[None]]
_ERRORS = (RetryableError, RpcResponseError, TimeoutError)
_FINAL = {
    Applied: SetOutcomeState.APPLIED,
    Superseded: SetOutcomeState.SUPERSEDED,
    Expired: SetOutcomeState.EXPIRED,
}


def approval_message(
    proposal: SetProposal, signer: Address, signatures: tuple[SetSignature, ...], at: int
) -> SetApprovalMessage | None:
    """``signer``'s approval from its stored signatures, if it signed every chain."""
    by_chain = {s.chain_id: s for s in signatures if s.signer == signer}
    if set(by_chain) != {c.chain_id for c in proposal.chains}:
        return None
    return SetApprovalMessage(
        proposal=proposal,
        signer=signer,
        signatures=tuple(
            ChainSignature(c.chain_id, by_chain[c.chain_id].digest, by_chain[c.chain_id].signature)
            for c in proposal.chains
        ),
        signed_at=at,
    )


class Rotations:
    """Publishes, counts and submits validator-set rotations (module docstring)."""

    def __init__(
        self,
        writer: Writer,
        me: Address,
        sets: SetBook,
        destinations: Mapping[int, Destination],
        *,
        sweep_s: float,
        grace_period_s: float,
        republish_interval_s: float,
        send: bool = True,
    ) -> None:
        self.writer = writer
        self.store = writer.store
        self.me = me
        self.sets = sets
        self.destinations = destinations
        self.sweep_s = sweep_s
        self.grace_period_s = grace_period_s
        self.republish_interval_s = republish_interval_s
        self.send = send  # False: sign and gossip only (``[submitter] enabled = false``)
        self._published: dict[tuple[Hash32, bool], float] = {}  # (id, approval) -> when
        self._ready_since: dict[tuple[Hash32, int], float] = {}  # first seen quorate

    async def run(self, publish: Publish) -> None:
        """A sweep every ``sweep_s``."""
        while True:
            try:
                await self.sweep(publish)
            except* _ERRORS as group:
                log.warning("set rotation sweep failed; retrying", error=str(group.exceptions))
            await asyncio.sleep(self.sweep_s)

    async def sweep(self, publish: Publish) -> dict[tuple[Hash32, int], RotationOutcome]:
        """One round over the open proposals; what each (proposal, chain) stands at."""
        seen: dict[tuple[Hash32, int], RotationOutcome] = {}
        async with self.store.reader() as tx:
            records = await tx.set_proposals()
            work = []
            for record in records:
                pid = record.proposal.proposal_id
                outcomes = await tx.set_outcomes(pid)
                final = {c for c, o in outcomes.items() if o.state in FINAL_SET_STATES}
                open_chains = [c for c in record.proposal.chains if c.chain_id not in final]
                if open_chains:
                    work.append((record, open_chains, await tx.set_signatures(pid)))
        for record, open_chains, signatures in work:
            await self._publish_own(record, signatures, publish)
            for target in open_chains:
                dst = self.destinations.get(target.chain_id)
                if dst is None or dst.contract != target.contract:
                    continue
                state = await self._advance(record.proposal, target, dst, signatures)
                seen[(record.proposal.proposal_id, target.chain_id)] = state
        return seen

    async def _publish_own(
        self, record: SetProposalRecord, signatures: tuple[SetSignature, ...], publish: Publish
    ) -> None:
        proposal = record.proposal
        pid = proposal.proposal_id
        now = time.monotonic()
        messages: list[tuple[bool, SetMessage]] = []
        if record.proposed_here:
            messages.append((False, SetProposalMessage(proposal)))
        approval = approval_message(proposal, self.me, signatures, int(time.time()))
        if approval is not None:
            messages.append((True, approval))
        for is_approval, message in messages:
            last = self._published.get((pid, is_approval))
            if last is not None and now - last < self.republish_interval_s:
                continue
            await publish(message)
            self._published[(pid, is_approval)] = now
            log.info(
                "set approval published" if is_approval else "set proposal published",
                proposal_id=hex32(pid),
            )

    async def _advance(
        self,
        proposal: SetProposal,
        target: ChainTarget,
        dst: Destination,
        signatures: tuple[SetSignature, ...],
    ) -> RotationOutcome:
        """Read the chain, decide, record a final state or send when it is our turn."""
        pid, chain = proposal.proposal_id, target.chain_id
        current = await dst.view.validator_set()
        set_hash = await validator_set_hash(dst.view)
        block = await dst.view.rpc.get_block("latest")
        now = int(time.time()) if block is None else block.timestamp
        state = rotation_state(proposal, target, current, set_hash, now, signatures)
        final = _FINAL.get(type(state))
        if final is not None:
            async with self.writer.transaction() as tx:
                await tx.record_set_outcome(pid, chain, final, _describe(state))
            self._ready_since.pop((pid, chain), None)
            log.info("set rotation final", proposal_id=hex32(pid), chain_id=chain, state=final)
            if isinstance(state, Applied):
                await self.sets.refresh()
            return state
        if isinstance(state, AwaitingQuorum) or not self.send:
            return state
        assert isinstance(state, ReadyToSubmit)
        members = tuple(m.address for m in current.members)
        rank = submitter_rank(pid, members, self.me)
        first = self._ready_since.setdefault((pid, chain), time.monotonic())
        if rank != 0 and time.monotonic() - first < rank * self.grace_period_s:
            return state
        request = rotate_request(proposal, dst.contract, state.quorum.bundle)
        outcome = await dst.submitter.submit(request)
        await self._record_sent(pid, chain, outcome)
        return state

    async def _record_sent(self, pid: Hash32, chain: int, outcome: SubmitOutcome) -> None:
        tx_hash: Hash32 | None = None
        if isinstance(outcome, Mined | Pending):
            state, tx_hash = SetOutcomeState.SENT, outcome.tx_hash
        else:
            state = SetOutcomeState.FAILED
        async with self.writer.transaction() as tx:
            await tx.record_set_outcome(pid, chain, state, repr(outcome)[:500], tx_hash)
        (log.info if state is SetOutcomeState.SENT else log.warning)(
            "rotateValidatorSet sent", proposal_id=hex32(pid), chain_id=chain, outcome=repr(outcome)
        )

    # ----------------------------------------------------------------- inbound

    async def receive(self, message: SetMessage) -> str:
        """Check and store a peer's proposal or approval; the result label. A database
        away is ``not_stored``: the message is retained on the broker and comes again."""
        try:
            result = await self._receive(message)
        except RetryableError as err:
            log.warning("set message not stored; it comes again", error=str(err))
            result = "not_stored"
        pid = hex32(message.proposal.proposal_id)
        if result in ("accepted", "stored"):
            log.info("set message stored", proposal_id=pid, result=result)
        else:
            log.debug("set message not counted", proposal_id=pid, result=result)
        return result

    def _check_proposal(self, proposal: SetProposal) -> str | None:
        """Why this relayer cannot count ``proposal`` now (None: it can)."""
        for target in proposal.chains:
            dst = self.destinations.get(target.chain_id)
            if dst is None or dst.contract != target.contract:
                return "unknown_chain"
            current = self.sets.current.get(target.chain_id)
            if current is None or current.set_id + 1 != proposal.set_id:
                return "stale"
        return None

    def _check_approval(self, message: SetApprovalMessage) -> list[SetSignature] | str:
        proposal = message.proposal
        checked: list[SetSignature] = []
        for target, signed in zip(proposal.chains, message.signatures, strict=True):
            current = self.sets.current[target.chain_id]
            if current.jurisdiction_of(message.signer) is None:
                return "not_member"
            digest = proposal.digest(target)  # recomputed; the decoder checked it too
            try:
                signer = recover_signer(digest, signed.signature)
            except InvalidSignatureError:
                return "bad_signature"
            if digest != signed.digest or signer != message.signer:
                return "bad_signature"
            pid = proposal.proposal_id
            checked.append(SetSignature(pid, target.chain_id, signer, digest, signed.signature))
        return checked

    async def _receive(self, message: SetMessage) -> str:
        proposal = message.proposal
        pid = proposal.proposal_id
        async with self.store.reader() as tx:
            known = await tx.set_proposal(pid)
            outcomes = await tx.set_outcomes(pid)
        if all(
            c.chain_id in outcomes and outcomes[c.chain_id].state in FINAL_SET_STATES
            for c in proposal.chains
        ):
            return "final"
        fault = self._check_proposal(proposal)
        if fault is not None:
            return fault
        checked: list[SetSignature] = []
        if isinstance(message, SetApprovalMessage):
            if message.signer == self.me:
                return "own"
            verdict = self._check_approval(message)
            if isinstance(verdict, str):
                return verdict
            checked = verdict
        async with self.writer.transaction() as tx:
            new = known is None and await tx.record_set_proposal(proposal, proposed_here=False)
            added = [await tx.record_set_signature(s) for s in checked]
        if any(added):
            return "accepted"
        return "stored" if new else "duplicate"


def _describe(state: RotationOutcome) -> str:
    match state:
        case Applied():
            return "the chain's current set is the proposed set"
        case Superseded(set_id=set_id):
            return f"the chain moved on to set {set_id}: this proposal can no longer apply"
        case Expired(deadline=deadline):
            return f"deadline {deadline} passed before the rotation was applied"
        case _:
            return type(state).__name__
