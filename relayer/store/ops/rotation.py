"""Validator-set rotation: proposals, every validator's signatures of them, outcomes."""

from __future__ import annotations

from sqlalchemy import select

from relayer.domain.rotation import SetProposal, SetSignature, proposal_from_json, proposal_to_json
from relayer.domain.types import Address, Hash32, hex32
from relayer.store.models import SetOutcomeRow, SetProposalRow, SetSignatureRow
from relayer.store.ops.base import TxBase
from relayer.store.records import (
    FINAL_SET_STATES,
    SetOutcome,
    SetOutcomeState,
    SetProposalRecord,
)


def _proposal(row: SetProposalRow) -> SetProposalRecord:
    return SetProposalRecord(proposal_from_json(row.body), row.proposed_here, row.received_at)


def _signature(row: SetSignatureRow) -> SetSignature:
    return SetSignature(
        Hash32(row.proposal_id),
        row.chain_id,
        Address(row.signer),
        Hash32(row.digest),
        row.signature,
    )


def _outcome(row: SetOutcomeRow) -> SetOutcome:
    return SetOutcome(
        Hash32(row.proposal_id),
        row.chain_id,
        SetOutcomeState(row.state),
        None if row.tx_hash is None else Hash32(row.tx_hash),
        row.detail,
        row.updated_at,
    )


class SetOps(TxBase):
    """Record and read validator-set proposals, signatures and outcomes."""

    async def record_set_proposal(self, proposal: SetProposal, *, proposed_here: bool) -> bool:
        """Keep a proposal (checked by the caller); True if new."""
        pid = proposal.proposal_id
        inserted = await self._insert_ignore(
            SetProposalRow,
            {
                "proposal_id": bytes(pid),
                "body": proposal_to_json(proposal),
                "deadline": proposal.deadline,
                "proposed_here": proposed_here,
                "received_at": self._now(),
            },
        )
        if inserted:
            detail = {"proposal_id": hex32(pid), "set_id": proposal.set_id, "here": proposed_here}
            await self._audit("set_proposed", None, detail)
        return inserted

    async def set_proposal(self, proposal_id: Hash32) -> SetProposalRecord | None:
        row = await self._get(SetProposalRow, bytes(proposal_id))
        return None if row is None else _proposal(row)

    async def set_proposals(self, limit: int = 100) -> tuple[SetProposalRecord, ...]:
        """Every stored proposal, newest first."""
        rows = await self._exec(
            select(SetProposalRow).order_by(SetProposalRow.received_at.desc()).limit(limit)
        )
        return tuple(_proposal(r) for r in rows.scalars())

    async def record_set_signature(self, signature: SetSignature) -> bool:
        """Keep a checked signature of a proposal for one chain; True if new (one per
        proposal, chain and signer)."""
        inserted = await self._insert_ignore(
            SetSignatureRow,
            {
                "proposal_id": bytes(signature.proposal_id),
                "chain_id": signature.chain_id,
                "signer": bytes(signature.signer),
                "digest": bytes(signature.digest),
                "signature": signature.signature,
                "received_at": self._now(),
            },
        )
        if inserted:
            detail = {
                "proposal_id": hex32(signature.proposal_id),
                "chain_id": signature.chain_id,
                "signer": hex32(signature.signer),
            }
            await self._audit("set_signed", None, detail)
        return inserted

    async def set_signatures(self, proposal_id: Hash32) -> tuple[SetSignature, ...]:
        """Every stored signature of a proposal, by chain and signer."""
        rows = await self._exec(
            select(SetSignatureRow)
            .where(SetSignatureRow.proposal_id == bytes(proposal_id))
            .order_by(SetSignatureRow.chain_id, SetSignatureRow.signer)
        )
        return tuple(_signature(r) for r in rows.scalars())

    async def record_set_outcome(
        self,
        proposal_id: Hash32,
        chain_id: int,
        state: SetOutcomeState,
        detail: str,
        tx_hash: Hash32 | None = None,
    ) -> SetOutcome:
        """Record where a proposal stands on a chain; a final state is never replaced.
        Answers what is stored afterwards."""
        row = await self._get(SetOutcomeRow, (bytes(proposal_id), chain_id), for_update=True)
        if row is not None and SetOutcomeState(row.state) in FINAL_SET_STATES:
            return _outcome(row)
        if row is None:
            row = SetOutcomeRow(proposal_id=bytes(proposal_id), chain_id=chain_id)
            self._session.add(row)
        row.state = state.value
        row.detail = detail
        row.tx_hash = bytes(tx_hash) if tx_hash is not None else row.tx_hash
        row.updated_at = self._now()
        await self._flush()
        if state in FINAL_SET_STATES or state is SetOutcomeState.SENT:
            await self._audit(
                f"set_{state.value}",
                None,
                {"proposal_id": hex32(proposal_id), "chain_id": chain_id, "detail": detail},
            )
        return _outcome(row)

    async def set_outcomes(self, proposal_id: Hash32) -> dict[int, SetOutcome]:
        """Chain id -> what is recorded of the proposal there."""
        rows = await self._exec(
            select(SetOutcomeRow).where(SetOutcomeRow.proposal_id == bytes(proposal_id))
        )
        return {r.chain_id: _outcome(r) for r in rows.scalars()}
