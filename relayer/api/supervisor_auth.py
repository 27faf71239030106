"""Who is asking the supervisor API, and which jurisdictions they may see (pure).

A supervisor presents ``Authorization: Bearer <token>``; the settings hold only the
sha256 of each token. The presented token is hashed and compared with every configured
hash in constant time (``hmac.compare_digest``, no early exit), so neither the answer nor
its timing tells which hash came closest.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from relayer.settings import SupervisorSettings

MAX_TOKEN_CHARS = 512  # a longer header is refused before it is hashed


@dataclass(frozen=True, slots=True)
class Supervisor:
    """An authenticated supervisor and the jurisdictions in its scope."""

    name: str
    jurisdictions: frozenset[str]

    def sees(self, jurisdiction: str) -> bool:
        return jurisdiction in self.jurisdictions

    def sees_any(self, jurisdictions: Iterable[str]) -> bool:
        return not self.jurisdictions.isdisjoint(jurisdictions)


@dataclass(frozen=True, slots=True)
class Credential:
    """A configured supervisor: its name, the sha256 of its token, its scope."""

    name: str
    token_sha256: bytes
    jurisdictions: frozenset[str]

    @classmethod
    def from_settings(cls, s: SupervisorSettings) -> Credential:
        return cls(s.name, bytes.fromhex(s.token_sha256), frozenset(s.jurisdictions))


@dataclass(frozen=True, slots=True)
class AuthRefused:
    """Why a request is not authenticated (answered 401 with this message)."""

    message: str


def token_sha256(token: str) -> str:
    """The hex sha256 of a token, as ``[[supervisor_api.supervisors]] token_sha256`` holds it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(header: str | None, credentials: Sequence[Credential]) -> Supervisor | AuthRefused:
    """The supervisor an ``Authorization`` header names, or why it names none."""
    if header is None or not header.strip():
        return AuthRefused("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return AuthRefused("Authorization must be 'Bearer <token>'")
    if len(token) > MAX_TOKEN_CHARS:
        return AuthRefused(f"token longer than {MAX_TOKEN_CHARS} characters")
    presented = hashlib.sha256(token.encode("utf-8")).digest()
    found: Credential | None = None
    for credential in credentials:  # every hash compared: the time does not depend on which
        if hmac.compare_digest(presented, credential.token_sha256):
            found = credential
    if found is None:
        return AuthRefused("unknown token")
    return Supervisor(found.name, found.jurisdictions)


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """A jurisdiction asked for that the supervisor may not see (answered 403)."""

    jurisdiction: str
    supervisor: str

    @property
    def message(self) -> str:
        return (
            f"jurisdiction {self.jurisdiction} is not in the scope of supervisor {self.supervisor}"
        )


def scope_of(supervisor: Supervisor, asked: Sequence[str] | None) -> frozenset[str] | OutOfScope:
    """The jurisdictions to show: those asked for (each must be in scope), else the scope."""
    if asked is None:
        return supervisor.jurisdictions
    for code in asked:
        if not supervisor.sees(code):
            return OutOfScope(code, supervisor.name)
    return frozenset(asked)
