"""Transfer status changes and the reads behind the status API and metrics."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import func, or_, select

from relayer.domain.types import Address, Hash32
from relayer.store.engine import mapped_errors
from relayer.store.errors import UnknownTransferError
from relayer.store.models import (
    AttestationRow,
    DecisionRow,
    OwnSignatureRow,
    RefusalRow,
    SubmissionRow,
    Transfer,
    VetoRow,
    VetoSignatureRow,
)
from relayer.store.ops import convert
from relayer.store.ops.base import TxBase
from relayer.store.outcomes import (
    StatusChanged,
    StatusMismatch,
    StatusOutcome,
    StatusUnchanged,
    TransferNotFound,
)
from relayer.store.records import TransferRecord, TransferStatus, TransferView


class TransferOps(TxBase):
    """Lifecycle writes and transfer reads."""

    async def set_status(
        self,
        transfer_id: Hash32,
        new_status: TransferStatus | str,
        reason: str | None = None,
        *,
        expected: Collection[TransferStatus] | None = None,
        release_tx_hash: Hash32 | None = None,
        executable_at: int | None = None,
    ) -> StatusOutcome:
        """Move a transfer to ``new_status`` (compare-and-set when ``expected`` is given).

        The store records what the domain's lifecycle decided; it does not judge the
        transition itself. Entering ``confirmed`` or ``released`` stamps the time once;
        entering ``delayed`` records ``executable_at``.
        """
        new = TransferStatus(new_status)
        row = await self._get(Transfer, bytes(transfer_id), for_update=True)
        if row is None:
            return TransferNotFound(transfer_id)
        old = TransferStatus(row.status)
        if old == new:
            return StatusUnchanged(transfer_id, old)
        if expected is not None and old not in expected:
            return StatusMismatch(transfer_id, old, tuple(expected))
        now = self._now()
        row.status = new.value
        row.status_reason = reason
        if new == TransferStatus.CONFIRMED and row.confirmed_at is None:
            row.confirmed_at = now
        if new == TransferStatus.RELEASED:
            row.released_at = row.released_at or now
            if release_tx_hash is not None:
                row.release_tx_hash = bytes(release_tx_hash)
        if new == TransferStatus.DELAYED and executable_at is not None:
            row.executable_at = executable_at
        await self._flush()
        detail: dict[str, str | None] = {"from": old.value, "to": new.value, "reason": reason}
        if release_tx_hash is not None:
            detail["release_tx_hash"] = "0x" + release_tx_hash.hex()
        if new == TransferStatus.DELAYED and executable_at is not None:
            detail["executable_at"] = str(executable_at)
        await self._audit("status", transfer_id, detail)
        return StatusChanged(transfer_id, old, new)

    async def set_executable_at(self, transfer_id: Hash32, executable_at: int) -> None:
        """Record when a delayed transfer may execute, its status unchanged (a transfer we
        vetoed that the destination delays stays vetoed, with its executable_at)."""
        row = await self._get(Transfer, bytes(transfer_id), for_update=True)
        if row is None or row.executable_at == executable_at:
            return
        row.executable_at = executable_at
        await self._flush()
        await self._audit("executable_at", transfer_id, {"executable_at": str(executable_at)})

    async def set_tx_hash(self, transfer_id: Hash32, tx_hash: Hash32 | None) -> None:
        """The transaction the transfer's state names (``release_tx_hash``): ours while it
        is ``submitted``, the executing one once ``released``."""
        row = await self._get(Transfer, bytes(transfer_id), for_update=True)
        if row is None:
            raise UnknownTransferError(f"transfer 0x{transfer_id.hex()} was never observed")
        new = None if tx_hash is None else bytes(tx_hash)
        if row.release_tx_hash != new:
            row.release_tx_hash = new
            await self._flush()

    async def set_dst_token(
        self, transfer_id: Hash32, token: Address
    ) -> TransferRecord | TransferNotFound:
        """Record the destination token the token map resolved for this transfer."""
        row = await self._get(Transfer, bytes(transfer_id), for_update=True)
        if row is None:
            return TransferNotFound(transfer_id)
        row.dst_token = bytes(token)
        await self._flush()
        return convert.transfer(row)

    async def set_quorum(
        self,
        transfer_id: Hash32,
        bundle: bytes,
        signers: Collection[Address],
        jurisdictions: Collection[str],
    ) -> TransferRecord | TransferNotFound:
        """Record the quorum reached for this transfer (the bundle its SUBMIT effect sends),
        so that a reload knows it (``Processor.load_state``)."""
        row = await self._get(Transfer, bytes(transfer_id), for_update=True)
        if row is None:
            return TransferNotFound(transfer_id)
        row.quorum_bundle = bytes(bundle)
        row.quorum_signers = ["0x" + bytes(s).hex() for s in signers]
        row.quorum_jurisdictions = sorted(jurisdictions)
        await self._flush()
        await self._audit(
            "quorum",
            transfer_id,
            {"signers": row.quorum_signers, "jurisdictions": row.quorum_jurisdictions},
        )
        return convert.transfer(row)

    async def get_transfer(self, transfer_id: Hash32) -> TransferRecord | None:
        row = await self._get(Transfer, bytes(transfer_id))
        return None if row is None else convert.transfer(row)

    async def get_transfers(self, transfer_ids: Iterable[Hash32]) -> dict[Hash32, TransferRecord]:
        """The stored transfers among ``transfer_ids`` (one query), by transfer id."""
        keys = list({bytes(t) for t in transfer_ids})
        found: dict[Hash32, TransferRecord] = {}
        for start in range(0, len(keys), 500):  # well under every backend's parameter limit
            result = await self._exec(
                select(Transfer).where(Transfer.transfer_id.in_(keys[start : start + 500]))
            )
            for row in result.scalars():
                rec = convert.transfer(row)
                found[rec.transfer_id] = rec
        return found

    async def transfers_by_tx_hash(self, tx_hash: Hash32) -> tuple[TransferRecord, ...]:
        """Transfers emitted by one source transaction (one tx may hold several)."""
        result = await self._exec(
            select(Transfer).where(Transfer.tx_hash == bytes(tx_hash)).order_by(Transfer.log_index)
        )
        return tuple(convert.transfer(r) for r in result.scalars())

    async def transfers_by_status(
        self, status: TransferStatus | str, limit: int = 1000, src_chain_id: int | None = None
    ) -> tuple[TransferRecord, ...]:
        """Transfers in one status (from one source chain if given), oldest first."""
        query = select(Transfer).where(Transfer.status == TransferStatus(status).value)
        if src_chain_id is not None:
            query = query.where(Transfer.src_chain_id == src_chain_id)
        result = await self._exec(
            query.order_by(Transfer.observed_at, Transfer.transfer_id).limit(limit)
        )
        return tuple(convert.transfer(r) for r in result.scalars())

    async def transfers_of_party(
        self, address: Address, limit: int = 100
    ) -> tuple[TransferRecord, ...]:
        """Transfers ``address`` sent or receives, newest first (the portal's history)."""
        party = bytes(address)
        result = await self._exec(
            select(Transfer)
            .where(or_(Transfer.sender == party, Transfer.recipient == party))
            .order_by(Transfer.observed_at.desc(), Transfer.transfer_id)
            .limit(limit)
        )
        return tuple(convert.transfer(r) for r in result.scalars())

    async def counts_by_status(self) -> dict[TransferStatus, int]:
        """Number of transfers per status (every status present, zero if none)."""
        stmt = select(Transfer.status, func.count()).group_by(Transfer.status)
        with mapped_errors("counts_by_status"):
            result = await self._session.execute(stmt)
        counts = dict.fromkeys(TransferStatus, 0)
        for status, count in result.all():
            counts[TransferStatus(status)] = count
        return counts

    async def waiting_since(
        self, statuses: Collection[TransferStatus]
    ) -> dict[TransferStatus, datetime]:
        """Per status of ``statuses``, when its longest-waiting transfer was confirmed (or
        observed, while not confirmed yet); a status without transfers is absent."""
        since = func.min(func.coalesce(Transfer.confirmed_at, Transfer.observed_at))
        stmt = (
            select(Transfer.status, since)
            .where(Transfer.status.in_([s.value for s in statuses]))
            .group_by(Transfer.status)
        )
        with mapped_errors("waiting_since"):
            result = await self._session.execute(stmt)
        return {TransferStatus(status): at for status, at in result.all() if at is not None}

    async def next_delayed_executable_at(self) -> int | None:
        """The earliest ``executable_at`` (unix seconds, the destination's clock) among the
        transfers held ``delayed``; None when none is."""
        stmt = select(func.min(Transfer.executable_at)).where(
            Transfer.status == TransferStatus.DELAYED.value
        )
        with mapped_errors("next_delayed_executable_at"):
            found = (await self._session.execute(stmt)).scalar_one_or_none()
        return None if found is None else int(found)

    async def transfer_view(self, key: Hash32) -> TransferView | None:
        """A transfer by id, or else by source tx hash, with all it gathered."""
        row = await self._get(Transfer, bytes(key))
        if row is None:
            by_tx = await self.transfers_by_tx_hash(key)
            if not by_tx:
                return None
            row = await self._get(Transfer, bytes(by_tx[0].transfer_id))
            if row is None:
                return None
        tid = row.transfer_id
        own = await self._get(OwnSignatureRow, tid)
        atts = await self._exec(
            select(AttestationRow)
            .where(AttestationRow.transfer_id == tid)
            .order_by(AttestationRow.received_at, AttestationRow.signer)
        )
        refusals = await self._exec(
            select(RefusalRow).where(RefusalRow.transfer_id == tid).order_by(RefusalRow.id)
        )
        subs = await self._exec(
            select(SubmissionRow).where(SubmissionRow.transfer_id == tid).order_by(SubmissionRow.id)
        )
        decisions = await self._exec(
            select(DecisionRow).where(DecisionRow.transfer_id == tid).order_by(DecisionRow.signer)
        )
        veto = await self._get(VetoRow, tid)
        signed = await self._exec(
            select(VetoSignatureRow)
            .where(VetoSignatureRow.transfer_id == tid)
            .order_by(VetoSignatureRow.kind, VetoSignatureRow.signer)
        )
        return TransferView(
            veto=None if veto is None else convert.veto(veto),
            veto_signatures=tuple(convert.veto_signature(v) for v in signed.scalars()),
            transfer=convert.transfer(row),
            own_signature=None if own is None else convert.own_signature(own),
            attestations=tuple(convert.attestation(a) for a in atts.scalars()),
            refusals=tuple(convert.refusal(r) for r in refusals.scalars()),
            submissions=tuple(convert.submission(s) for s in subs.scalars()),
            decisions=tuple(convert.decision(d) for d in decisions.scalars()),
        )
