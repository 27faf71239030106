"""This validator's policy: its operator's local rules and its jurisdiction's signed pack.

* Local rules (``[policy]`` in the settings): an allow-list of tokens with a maximum per
  transfer, and a deny-list file that is reloaded when it changes.
* The jurisdiction's rules: a policy pack its supervisor signs (``relayer.domain.packs``;
  schema in docs/supervision.md), with sanctions, rolling 24-hour limits and a review
  threshold (``relayer.domain.limits``).

Both apply: a transfer is signed only when the local rules and the pack approve it. With a
pack in force and an empty local allow-list, the pack's tokens are the allow-list.

The pack in force is kept in the store, so the last good pack survives a restart. A pack
file that does not verify (malformed, signed by anyone but the configured supervisor, for
another jurisdiction, older than the one in force, or another pack under the same version)
is refused: the pack in force stays, the refusal is counted and raises one warning alert
per refused file. At start, a configured pack with neither a good file nor a stored pack
that still verifies stops the relayer: it would have no rules to sign under.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from eth_utils.crypto import keccak

from relayer.api.metrics import Metrics
from relayer.domain.errors import DenyListError
from relayer.domain.packs import (
    MAX_PACK_BYTES,
    PackAccepted,
    PackFault,
    PackRefused,
    PackUnchanged,
    PolicyPack,
    accept_pack,
)
from relayer.domain.policy import Policy, parse_deny_list
from relayer.domain.types import Address, Hash32, parse_address
from relayer.errors import ConfigError
from relayer.files import FileReadError, read_capped
from relayer.log import get_logger
from relayer.service.writer import Writer
from relayer.settings import PolicySettings
from relayer.store import AlertKind

log = get_logger("policy")

SIGNATURE_FILE_MAX_BYTES = 1024


class PackFileError(ValueError):
    """The pack or its signature file cannot be read."""


def read_signature(path: Path) -> bytes:
    """A pack's detached signature: 65 bytes as ``0x`` + 130 hex digits (whitespace around
    it is ignored). Raises ``PackFileError`` naming the file and what is wrong."""
    try:
        data = read_capped(path, SIGNATURE_FILE_MAX_BYTES, "the signature file")
    except FileReadError as err:
        raise PackFileError(str(err)) from err
    text = data.decode("ascii", errors="replace").strip()
    if not text.startswith("0x") or len(text) != 132:
        raise PackFileError(f"{path}: expected 0x and 130 hex digits (a 65-byte signature)")
    try:
        return bytes.fromhex(text[2:])
    except ValueError as err:
        raise PackFileError(f"{path}: not hex: {err}") from err


def read_pack(path: Path) -> bytes:
    """A pack file's bytes (refused above ``MAX_PACK_BYTES`` without reading it all)."""
    try:
        return read_capped(path, MAX_PACK_BYTES, "the policy pack")
    except FileReadError as err:
        raise PackFileError(str(err)) from err


class PolicyBook:
    """This validator's policy (``policy``, ``pack``) and its version (see the module)."""

    def __init__(
        self, settings: PolicySettings, jurisdiction: str = "", metrics: Metrics | None = None
    ) -> None:
        self.settings = settings
        self.jurisdiction = jurisdiction
        self.metrics = metrics
        self.pack: PolicyPack | None = None
        self._denied: frozenset[Address] = frozenset()
        self._deny_mtime: float | None = None
        self._pack_seen: tuple[int, int] | None = None  # mtimes of the pack and signature read
        self._alerted: set[bytes] = set()  # refused files already alerted (hash of both)
        self.policy, self.version = self._build()
        self.reload(strict=True)

    def _build(self) -> tuple[Policy, str]:
        tokens = self.settings.tokens
        allowed = frozenset((t.chain_id, parse_address(t.token)) for t in tokens)
        limits = {(t.chain_id, parse_address(t.token)): t.max_amount for t in tokens}
        if not tokens and self.pack is not None:
            allowed = frozenset(self.pack.tokens)
        policy = Policy(allowed_tokens=allowed, max_amounts=limits, denied_addresses=self._denied)
        if self.pack is not None:
            return policy, self.pack.hash_hex
        canonical = repr((sorted(allowed), sorted(limits.items()), sorted(self._denied)))
        return policy, hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def policy_hash(self) -> Hash32:
        """The policy in force as 32 bytes: the pack's hash, or the local rules' sha256
        (``version`` in hex), carried by every signed decision."""
        return Hash32(bytes.fromhex(self.version))

    # ------------------------------------------------------------------ the deny list

    def reload(self, *, strict: bool = False) -> bool:
        """Re-read the deny list if it changed; returns True when the policy changed.

        At start (``strict``) an unreadable or malformed file stops the relayer; later a
        bad edit is logged and the last good list stays in force.
        """
        path: Path | None = self.settings.deny_list_file
        if path is None:
            return False
        try:
            mtime = path.stat().st_mtime
            if mtime == self._deny_mtime:
                return False
            denied = parse_deny_list(path.read_text())
        except (OSError, DenyListError) as err:
            if strict:
                raise ConfigError(f"policy.deny_list_file: {err}") from err
            log.error(
                "deny list not reloaded; the previous one stays", path=str(path), error=str(err)
            )
            return False
        self._deny_mtime = mtime
        self._denied = denied
        self.policy, self.version = self._build()
        log.info("deny list loaded", path=str(path), entries=len(denied), version=self.version)
        return True

    # ------------------------------------------------------------------ the pack

    async def reload_pack(self, writer: Writer, *, strict: bool = False) -> bool:
        """Take the pack file if it changed and verifies; True when a new pack took effect.

        ``strict`` (at start): with no pack in force afterwards, raise ``ConfigError``.
        """
        s = self.settings
        pack_path, sig_path = s.pack_file, s.signature_path
        if pack_path is None or sig_path is None or s.supervisor is None:
            return False
        supervisor = parse_address(s.supervisor)
        if self.pack is None:
            await self._restore(writer, supervisor)
        try:
            seen = (pack_path.stat().st_mtime_ns, sig_path.stat().st_mtime_ns)
        except OSError as err:
            await self._refused(writer, strict, PackFault.MALFORMED, f"{err}", str(err).encode())
            return False
        if seen == self._pack_seen:
            return False
        self._pack_seen = seen
        try:
            raw = read_pack(pack_path)
            signature = read_signature(sig_path)
        except PackFileError as err:
            await self._refused(writer, strict, PackFault.MALFORMED, str(err), str(err).encode())
            return False
        decision = accept_pack(raw, signature, supervisor, self.jurisdiction, self.pack)
        if isinstance(decision, PackUnchanged):
            return False
        if isinstance(decision, PackRefused):
            key = keccak(raw) + keccak(signature)
            await self._refused(writer, strict, decision.fault, decision.detail, key)
            return False
        assert isinstance(decision, PackAccepted)
        pack = decision.pack
        async with writer.transaction() as tx:
            await tx.record_pack(pack.content_hash, pack.jurisdiction, pack.version, raw, signature)
        self._use(pack, "policy pack put in force", str(pack_path))
        return True

    async def _restore(self, writer: Writer, supervisor: Address) -> None:
        """Put the stored pack in force again, if it still verifies."""
        async with writer.store.reader() as tx:
            stored = await tx.pack_in_force(self.jurisdiction)
        if stored is None:
            return
        decision = accept_pack(stored.raw, stored.signature, supervisor, self.jurisdiction, None)
        if isinstance(decision, PackAccepted):
            self._use(decision.pack, "stored policy pack put in force", "store")
            return
        assert isinstance(decision, PackRefused)
        log.warning(
            "the stored policy pack no longer verifies (was the supervisor changed?)",
            version=stored.version,
            fault=decision.fault.value,
            detail=decision.detail,
        )

    def _use(self, pack: PolicyPack, message: str, source: str) -> None:
        self.pack = pack
        self.policy, self.version = self._build()
        if self.metrics is not None:
            self.metrics.pack_version.labels(pack.jurisdiction).set(pack.version)
        log.info(
            message,
            jurisdiction=pack.jurisdiction,
            version=pack.version,
            hash=pack.hash_hex,
            tokens=len(pack.tokens),
            sanctioned=len(pack.sanctions.addresses),
            source=source,
        )

    async def _refused(
        self, writer: Writer, strict: bool, fault: PackFault, detail: str, key: bytes
    ) -> None:
        in_force = None if self.pack is None else self.pack.version
        if strict and self.pack is None:
            raise ConfigError(f"policy.pack_file: {fault.value}: {detail}")
        log.error(
            "policy pack refused; the pack in force stays",
            fault=fault.value,
            detail=detail,
            in_force=in_force,
        )
        if key in self._alerted:
            return
        self._alerted.add(key)
        if self.metrics is not None:
            self.metrics.pack_refused.labels(fault.value).inc()
        async with writer.transaction() as tx:
            await tx.raise_alert(
                AlertKind.WARNING,
                None,
                {
                    "policy_pack": str(self.settings.pack_file),
                    "fault": fault.value,
                    "detail": detail,
                    "in_force": in_force,
                },
            )
