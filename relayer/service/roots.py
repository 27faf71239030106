"""Committed roots, the relayer's side: sign a root per decided window, verify peers' roots,
and tell the submit runner which windows have a root a quorum signed.

Signing (``sign_due``): for every source chain not under a safety halt, the aligned
windows of ``[pipeline] root_window`` nonces from the lowest transfer not yet sent up to the
highest observed are looked at; a window whose nonces are all final and decided gets this
validator's root for each destination it holds releases for, at least one of them still
unsent (``relayer.domain.roots``).
The signature is stored through the writer (one per destination and window: never a second
root for a window) and published after the commit on the root topic (not retained:
while a window is in play its roots are published again every ``republish_interval_s``).

Receiving (``receive``): a peer's root signature counts only when its signer is a member of
the destination's current set, its source chain is one of ours, the window is one of ours
(same alignment, not below the lowest in play, at most ``max_windows`` beyond the highest
nonce observed), the digest is the ``ReleaseRoot`` digest of what it names and the
signature recovers to its signer. A second, different root from one signer for one window
is refused with one warning alert. Signatures below the lowest window in play are deleted.

Ready (``ready``): a window has a ready root when the root this validator signed is also
signed by a quorum of the destination's current set; the proposal is rebuilt from the store
(the leaves are needed for the proofs) and must give the same root.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from relayer.api.metrics import Metrics
from relayer.domain.digest import release_digest, release_root_digest
from relayer.domain.errors import InvalidSignatureError
from relayer.domain.quorum import QuorumMet, evaluate_quorum
from relayer.domain.roots import Entry, Incomplete, RootProposal, Window, propose_root, window_of
from relayer.domain.routing import build_release
from relayer.domain.signature import recover_signer
from relayer.domain.transfer import TransferStatus
from relayer.domain.types import Address, Attestation, EvmDomain, Hash32, hex32
from relayer.errors import RetryableError
from relayer.gossip.wire import RootMessage
from relayer.log import get_logger
from relayer.service.processor import Processor, event_of
from relayer.store import AlertKind, OwnSignature, Transaction, TransferRecord
from relayer.store.outcomes import RootConflict, RootDuplicate, RootStored
from relayer.store.records import RootSignature
from relayer.wakeup import wait_for_wake

log = get_logger("roots")

S = TransferStatus
_NOT_FINAL = (S.OBSERVED, S.ORPHANED)
_ENDED = (S.REFUSED, S.RELEASED, S.CANCELLED, S.REFUNDED, S.VETOED)
_UNSENT = (S.ATTESTED, S.QUORUM)  # signed by us, not sent or executed yet


class RootVerdict(enum.StrEnum):
    """What became of one received root signature; the value is the metrics label."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"  # the signer signed another root for this window
    UNKNOWN_CHAIN = "unknown_chain"
    NOT_A_MEMBER = "not_a_member"
    OTHER_WINDOW = "other_window"  # not one of our aligned windows
    WRONG_DIGEST = "wrong_digest"
    BAD_SIGNATURE = "bad_signature"
    FAR_AHEAD = "far_ahead"  # more than max_windows windows beyond what we observed
    PAST = "past"  # below our lowest window in play: its releases all went their way
    NOT_STORED = "not_stored"  # the database was away


@dataclass(frozen=True, slots=True)
class ReadyRoot:
    """A window's root that a quorum signed, with its leaves and the bundle to commit it."""

    proposal: RootProposal
    quorum: QuorumMet

    @property
    def root(self) -> Hash32:
        return self.proposal.root


def entry_of(
    rec: TransferRecord, own: OwnSignature | None, domain_of: Callable[[int], EvmDomain | None]
) -> Entry:
    """What one stored transfer says about its nonce (see ``relayer.domain.roots.Entry``).
    A signature whose digest is not the rebuilt release's is no leaf, and not settled; a
    transfer we vetoed is no leaf (our veto withdraws our approval), and settled."""
    final = rec.status not in _NOT_FINAL
    if rec.status is S.VETOED:  # never authorised again by us, in any root: settled
        return Entry(rec.nonce, rec.dst_chain_id, final, settled=True)
    if own is not None and rec.dst_token is not None:
        release = build_release(event_of(rec), rec.dst_token)
        domain = domain_of(rec.dst_chain_id)
        if domain is not None and release_digest(domain, release) == own.digest:
            return Entry(rec.nonce, rec.dst_chain_id, final, signed=release)
        return Entry(rec.nonce, rec.dst_chain_id, final)
    return Entry(rec.nonce, rec.dst_chain_id, final, settled=rec.status in _ENDED)


class Roots:
    """See the module docstring."""

    def __init__(
        self,
        processor: Processor,
        metrics: Metrics,
        *,
        window_size: int,
        source_chains: Sequence[int],
        max_windows: int = 64,
        idle_wakeup_s: float = 30.0,
        min_interval_s: float = 0.5,
        republish_interval_s: float = 60.0,
    ) -> None:
        if window_size < 1:
            raise ValueError("root_window must be at least 1")
        self.processor = processor
        self.metrics = metrics
        self.window_size = window_size
        self.source_chains = tuple(source_chains)
        self.max_windows = max_windows  # windows looked at per source chain and round
        self.idle_wakeup_s = idle_wakeup_s
        self.min_interval_s = min_interval_s
        self.republish_interval_s = republish_interval_s
        self._finished: set[tuple[int, int]] = set()  # (src, first): nothing left to sign
        self._ready: dict[tuple[int, Window], ReadyRoot] = {}  # (dst, window): quorum seen
        self._unusable: set[tuple[int, Window]] = set()  # our stored root no longer rebuilds
        self._entries: dict[tuple[int, int], Entry] = {}  # (src, nonce): decided, so final
        self._low: dict[int, int] = {}  # src -> first nonce of its lowest window in play
        self._pruned: dict[int, int] = {}  # src -> root signatures below this are deleted
        self._alerted: set[tuple[int, int, int, Address]] = set()  # conflicts alerted once
        self._highest: dict[int, tuple[int, float]] = {}  # src -> (highest nonce, read at)

    @property
    def address(self) -> Address:
        return self.processor.signer.address

    def window_of(self, src_chain_id: int, nonce: int) -> Window:
        return window_of(src_chain_id, nonce, self.window_size)

    # ------------------------------------------------------------------ signing

    async def run(self, publish: Callable[[RootMessage], Awaitable[None]]) -> None:
        """Sign what is due whenever a transfer's status changed (at least every
        ``idle_wakeup_s``, at most every ``min_interval_s``), then ``publish`` it; every
        ``republish_interval_s``, publish again our roots over windows still in play (the
        messages are not retained on the broker: a peer that missed one gets it then)."""
        wake = self.processor.status_changed
        republish_at = time.monotonic() + self.republish_interval_s
        while True:
            wake.clear()
            await self.processor.committed()
            try:
                signed = await self.sign_due()
                if time.monotonic() >= republish_at:
                    republish_at = time.monotonic() + self.republish_interval_s
                    signed += await self.in_play()
            except RetryableError as err:
                log.warning("root signing round failed; retrying", error=str(err))
                signed = []
            for message in signed:
                await _publish(publish, message)
            await asyncio.sleep(self.min_interval_s)  # a burst changes statuses non-stop
            await wait_for_wake(wake, self.idle_wakeup_s)

    async def sign_due(self) -> list[RootMessage]:
        """Sign every window that became decided; the messages to publish (after commit).
        The windows are read outside the writer; only the signatures are written through it,
        and a window counts as done only once that transaction committed."""
        proposals: list[RootProposal] = []
        finished: set[tuple[int, int]] = set()
        async with self.processor.store.reader() as tx:
            for src in self.source_chains:
                if await tx.chain_halted(src):
                    continue  # signing stopped on this chain: roots too
                chain_proposals, chain_finished = await self._due_in_chain(tx, src)
                proposals += chain_proposals
                finished |= chain_finished
        messages: list[RootMessage] = []
        prune = {s: f for s, f in self._low.items() if f > self._pruned.get(s, 0)}
        if proposals or prune:
            async with self.processor.writer.transaction() as tx:
                for proposal in proposals:
                    message = await self._sign(tx, proposal)
                    if message is not None:
                        messages.append(message)
                for src, first in prune.items():  # windows whose releases all went their way
                    await tx.prune_root_signatures(src, first)
            self._pruned.update(prune)
        self._finished |= finished
        return messages

    async def in_play(self) -> list[RootMessage]:
        """Our root signatures over windows from the lowest one still in play."""
        messages: list[RootMessage] = []
        async with self.processor.store.reader() as tx:
            for src, first in self._low.items():
                ours = await tx.own_root_signatures(self.address, src, first)
                messages += [message_of(s) for s in ours]
        return messages

    async def _due_in_chain(
        self, tx: Transaction, src: int
    ) -> tuple[list[RootProposal], set[tuple[int, int]]]:
        """The roots to sign over ``src``'s windows, from the one holding the lowest transfer
        not sent yet up to the highest observed (at most ``max_windows`` looked at), and the
        windows found finished."""
        low = await tx.lowest_unsent_nonce(src)
        high = await tx.highest_nonce(src)
        if low is None or high is None:
            return [], set()
        window = self.window_of(src, low)
        self._forget_below(src, window.first_nonce)
        signed = {
            (s.dst_chain_id, s.first_nonce)
            for s in await tx.own_root_signatures(self.address, src, window.first_nonce)
        }
        due: list[RootProposal] = []
        finished: set[tuple[int, int]] = set()
        looked = 0
        while window.last_nonce <= high and looked < self.max_windows:
            key = (src, window.first_nonce)
            if key not in self._finished:
                looked += 1
                done, proposals = await self._due_in_window(tx, window, signed)
                due += proposals
                if done:
                    finished.add(key)
            window = Window(src, window.last_nonce + 1, window.last_nonce + self.window_size)
        return due, finished

    def _forget_below(self, src: int, first: int) -> None:
        """Drop what is kept in memory of ``src``'s windows below ``first`` (all sent)."""
        if self._low.get(src) == first:
            return
        self._low[src] = first
        self._finished = {k for k in self._finished if k[0] != src or k[1] >= first}
        self._entries = {k: e for k, e in self._entries.items() if k[0] != src or k[1] >= first}
        self._ready = {
            k: r
            for k, r in self._ready.items()
            if k[1].src_chain_id != src or k[1].first_nonce >= first
        }
        self._unusable = {
            k for k in self._unusable if k[1].src_chain_id != src or k[1].first_nonce >= first
        }

    async def _entries_of(self, tx: Transaction, window: Window) -> list[Entry] | None:
        """What we know of each nonce of ``window`` (None: two transfers share a nonce).
        A decided entry is kept: it never changes (a final lock, a signature, a refusal)."""
        rows = await tx.window_transfers(window.src_chain_id, window.first_nonce, window.last_nonce)
        nonces = [rec.nonce for rec, _ in rows]
        if len(set(nonces)) != len(nonces):
            log.warning("two transfers share a nonce in a root window: no root", window=window)
            return None
        entries = []
        for rec, own in rows:
            key = (window.src_chain_id, rec.nonce)
            entry = self._entries.get(key)
            if entry is None:
                entry = entry_of(rec, own, self.processor.domains.get)
                if entry.final and (entry.signed is not None or entry.settled):
                    self._entries[key] = entry
            entries.append(entry)
        return entries

    async def _due_in_window(
        self, tx: Transaction, window: Window, signed: set[tuple[int, int]]
    ) -> tuple[bool, list[RootProposal]]:
        """The roots to sign over ``window`` (one per destination it is decided for and not
        signed yet, and with a release still to send), and whether it is finished."""
        entries = await self._entries_of(tx, window)
        if entries is None:
            return True, []
        finished = True
        due: list[RootProposal] = []
        for dst in sorted({e.dst_chain_id for e in entries}):
            if (dst, window.first_nonce) in signed:
                continue
            outcome = propose_root(window, dst, entries)
            if isinstance(outcome, Incomplete):
                finished = False
            elif isinstance(outcome, RootProposal) and await self._worth_signing(tx, outcome):
                due.append(outcome)
        return finished, due

    @staticmethod
    async def _worth_signing(tx: Transaction, proposal: RootProposal) -> bool:
        """Whether a leaf is still unsent (else every leaf went another way: no use)."""
        leaves = [r.transfer_id for r in proposal.releases]
        records = await tx.get_transfers(leaves)
        return any(rec.status in _UNSENT for rec in records.values())

    async def _sign(self, tx: Transaction, proposal: RootProposal) -> RootMessage | None:
        dst = proposal.dst_chain_id
        domain = self.processor.domains.get(dst)
        vset = self.processor.sets.current.get(dst)
        if domain is None or vset is None or vset.jurisdiction_of(self.address) is None:
            return None  # not a member there: our root would count for nothing
        w = proposal.window
        digest = release_root_digest(
            domain, proposal.root, w.src_chain_id, w.first_nonce, w.last_nonce
        )
        signature = self.processor.signer.sign_digest(digest)
        sig = RootSignature(
            dst,
            w.src_chain_id,
            w.first_nonce,
            w.last_nonce,
            proposal.root,
            self.address,
            digest,
            signature,
            vset.set_id,
        )
        outcome = await tx.record_root_signature(sig)
        if isinstance(outcome, RootDuplicate):
            return None  # signed in an earlier round (a race with ourselves): published then
        if isinstance(outcome, RootConflict):
            log.error(
                "a different root of ours is stored for this window; not signing again",
                window=w,
                stored=hex32(outcome.stored_root),
            )
            return None
        self.metrics.root_signatures.inc()
        log.info(
            "root signed",
            dst_chain_id=dst,
            src_chain_id=w.src_chain_id,
            first_nonce=w.first_nonce,
            leaves=len(proposal.releases),
            root=hex32(proposal.root),
        )
        return message_of(sig)

    # ------------------------------------------------------------------ receiving

    def verdict_before_store(self, message: RootMessage) -> RootVerdict | None:
        """The checks that need no database: None if the signature may be stored."""
        dst = message.dst_chain_id
        domain = self.processor.domains.get(dst)
        vset = self.processor.sets.current.get(dst)
        if domain is None or vset is None or message.src_chain_id not in self.source_chains:
            return RootVerdict.UNKNOWN_CHAIN
        if vset.jurisdiction_of(message.signer) is None:
            return RootVerdict.NOT_A_MEMBER
        expected = self.window_of(message.src_chain_id, message.first_nonce)
        if (expected.first_nonce, expected.last_nonce) != (message.first_nonce, message.last_nonce):
            return RootVerdict.OTHER_WINDOW
        digest = release_root_digest(
            domain, message.root, message.src_chain_id, message.first_nonce, message.last_nonce
        )
        if digest != message.digest:
            return RootVerdict.WRONG_DIGEST
        try:
            if recover_signer(digest, message.signature) != message.signer:
                return RootVerdict.BAD_SIGNATURE
        except InvalidSignatureError:
            return RootVerdict.BAD_SIGNATURE
        return None

    async def receive(self, message: RootMessage) -> RootVerdict:
        """Verify and store a peer's root signature (ours, echoed back, is a duplicate)."""
        verdict = self.verdict_before_store(message)
        if verdict is None:
            vset = self.processor.sets.current[message.dst_chain_id]
            sig = signature_of(message, vset.set_id)
            try:
                verdict = await self._store(message, sig)
            except RetryableError as err:  # the database briefly away: this copy is lost,
                # its releases go the per-transfer way if the root misses its quorum
                log.warning("root signature not stored", error=str(err), signer=hex32(sig.signer))
                verdict = RootVerdict.NOT_STORED
        self.metrics.root_received.labels(verdict.value).inc()
        return verdict

    async def _store(self, message: RootMessage, sig: RootSignature) -> RootVerdict:
        key = (message.dst_chain_id, message.src_chain_id, message.first_nonce, message.signer)
        async with self.processor.writer.transaction() as tx:
            if await self._far_ahead(tx, message.src_chain_id, message.first_nonce):
                return RootVerdict.FAR_AHEAD  # a flood of future windows is not stored
            low = self._low.get(message.src_chain_id)
            if low is not None and message.first_nonce < low:
                return RootVerdict.PAST  # every release of that window went its way
            outcome = await tx.record_root_signature(sig)
            if isinstance(outcome, RootConflict) and key not in self._alerted:
                await tx.raise_alert(
                    AlertKind.WARNING,
                    message.dst_chain_id,
                    {
                        "reason": "validator signed two roots for one window",
                        "signer": hex32(message.signer),
                        "src_chain_id": message.src_chain_id,
                        "first_nonce": message.first_nonce,
                        "stored_root": hex32(outcome.stored_root),
                        "new_root": hex32(message.root),
                    },
                )
            ours = await tx.root_signature(*key[:3], self.address)
        if isinstance(outcome, RootConflict):
            self._alerted.add(key)  # once per signer and window (while this process runs)
            return RootVerdict.CONFLICT
        if isinstance(outcome, RootStored):
            if ours is not None and ours.root == message.root:
                self.processor.submit_ready.set()  # our root may have its quorum now
            return RootVerdict.ACCEPTED
        return RootVerdict.DUPLICATE

    async def _far_ahead(self, tx: Transaction, src: int, first_nonce: int) -> bool:
        """Whether a window starting at ``first_nonce`` is more than ``max_windows`` windows
        beyond the highest nonce of ``src`` observed. That nonce is read at most once every
        ``republish_interval_s``, and again before a window is found far ahead: only a fresh
        read refuses one. A cached value never accepts what a fresh one would refuse, for the
        highest nonce only grows (transfers are never deleted, an orphaned one is kept)."""
        span = self.max_windows * self.window_size
        now = time.monotonic()
        high, read_at = self._highest.get(src, (0, float("-inf")))
        if now - read_at < self.republish_interval_s and first_nonce <= high + span:
            return False
        high = await tx.highest_nonce(src) or 0
        self._highest[src] = (high, now)
        return first_nonce > high + span

    # ------------------------------------------------------------------ ready roots

    async def ready(self, tx: Transaction, dst_chain_id: int, window: Window) -> ReadyRoot | None:
        """The window's root with a quorum of the current set, if the one we signed has it.
        Once found it is kept (decisions are final; the destination checks the set again)."""
        cached = self._ready.get((dst_chain_id, window))
        if cached is not None or (dst_chain_id, window) in self._unusable:
            return cached
        vset = self.processor.sets.current.get(dst_chain_id)
        if vset is None:
            return None
        sigs = await tx.root_signatures(dst_chain_id, window.src_chain_id, window.first_nonce)
        own = next((s for s in sigs if s.signer == self.address), None)
        if own is None:
            return None
        same = [
            Attestation(own.root, s.digest, s.signer, s.signature)
            for s in sigs
            if s.root == own.root
        ]
        met = evaluate_quorum(vset, own.digest, same)
        if not isinstance(met, QuorumMet):
            return None
        entries = await self._entries_of(tx, window)
        proposal = None if entries is None else propose_root(window, dst_chain_id, entries)
        if not isinstance(proposal, RootProposal) or proposal.root != own.root:
            log.warning("our stored root no longer matches the window; not used", window=window)
            self._unusable.add((dst_chain_id, window))
            return None
        ready = self._ready[(dst_chain_id, window)] = ReadyRoot(proposal, met)
        return ready


async def _publish(publish: Callable[[RootMessage], Awaitable[None]], message: RootMessage) -> None:
    try:
        await publish(message)
    except RetryableError as err:  # the per-transfer path still carries its releases
        log.warning("root signature not published", error=str(err), root=hex32(message.root))


def message_of(sig: RootSignature) -> RootMessage:
    """The wire message for a stored root signature, signed at now (informational)."""
    return RootMessage(
        dst_chain_id=sig.dst_chain_id,
        src_chain_id=sig.src_chain_id,
        first_nonce=sig.first_nonce,
        last_nonce=sig.last_nonce,
        root=sig.root,
        set_id=sig.set_id,
        digest=sig.digest,
        signer=sig.signer,
        signature=sig.signature,
        signed_at=int(time.time()),
    )


def signature_of(message: RootMessage, set_id: int) -> RootSignature:
    """The record stored for a verified root message. ``set_id`` is that of the destination's
    current set, under which the signer was checked (not the one the message names)."""
    return RootSignature(
        dst_chain_id=message.dst_chain_id,
        src_chain_id=message.src_chain_id,
        first_nonce=message.first_nonce,
        last_nonce=message.last_nonce,
        root=message.root,
        signer=message.signer,
        digest=message.digest,
        signature=message.signature,
        set_id=set_id,
    )
