"""The AWS KMS backend: a secp256k1 key that never leaves AWS KMS.

The key is an ``ECC_SECG_P256K1`` ``SIGN_VERIFY`` key. At start the signer reads its
public key once (``GetPublicKey``: a DER ``SubjectPublicKeyInfo``, parsed in ``der.py``),
which gives the address, and signs one random digest to prove it may (``kms:Sign`` is a
permission of its own). Each ``sign_digest`` is one ``Sign`` call with
``MessageType=DIGEST`` and ``SigningAlgorithm=ECDSA_SHA_256`` over the 32-byte digest: KMS
answers a DER signature whose s is high about half the time, so it is moved to low s and
given the v that recovers the address (``relayer.domain.signature.recoverable_signature``).

Why a synchronous botocore client, not aioboto3: ``Signer.sign_digest`` is synchronous for
every backend and every caller (the processor, the roots and audit-head services, the CLI),
as it is for the PKCS#11 backend. An async client would change that protocol everywhere for
one backend. So each call is bounded instead: ``connect_timeout_s``, ``read_timeout_s`` and
at most ``max_attempts`` tries (botocore's "standard" retries, which retry throttling,
timeouts and 5xx answers with jittered backoff). A Sign normally takes tens of
milliseconds; the worst case blocks the event loop for ``max_attempts * (connect + read)``
seconds plus the backoff between tries (under 3 s for 3 tries): about 18 s with the
defaults, then ``SignerUnavailableError`` (retryable: nothing was signed).

Credentials come from AWS's standard chain only (environment, ``~/.aws``, web identity,
container or instance role): never from the relayer's settings. The secret key and the
session token found at start are still registered with the log scrubber. Errors name the
setting (or the command-line flag) to look at and never quote AWS's own message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.session import get_session
from coincurve import PublicKey

from relayer.domain.signature import address_of_public_key, recoverable_signature
from relayer.domain.types import Address
from relayer.errors import ConfigError, RelayerError, SignerError, SignerUnavailableError
from relayer.keys.der import parse_ecdsa_signature, parse_secp256k1_public_key
from relayer.log import register_secret

KEY_SPEC = "ECC_SECG_P256K1"
KEY_USAGE = "SIGN_VERIFY"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 3.0
MAX_ATTEMPTS = 3  # the first try included

_FLAGS = {"key_id": "--kms", "region": "--region", "endpoint_url": "--endpoint-url"}
_TRANSIENT = frozenset(
    {
        "ThrottlingException",
        "LimitExceededException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
_CREDENTIALS_REFUSED = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "IncompleteSignature",
    }
)


@dataclass(frozen=True, slots=True)
class KmsKey:
    """Where a key lives. ``prefix`` makes error messages name the right setting:
    ``validator.kms_`` gives ``validator.kms_key_id``; ``--`` gives the command-line flags
    (``--kms``, ``--region``, ``--endpoint-url``)."""

    key_id: str
    region: str
    endpoint_url: str | None = None
    prefix: str = field(default="kms_", compare=False)

    def name(self, setting: str) -> str:
        """The setting or flag called ``setting`` (key_id, region, endpoint_url)."""
        if self.prefix == "--":
            return _FLAGS[setting]
        return self.prefix + setting

    @property
    def url(self) -> str:
        """The endpoint the client talks to."""
        return self.endpoint_url or f"https://kms.{self.region}.amazonaws.com"


@dataclass(frozen=True, slots=True)
class KmsLimits:
    """Every KMS call's bounds (tests shrink them)."""

    connect_timeout_s: float = CONNECT_TIMEOUT_S
    read_timeout_s: float = READ_TIMEOUT_S
    max_attempts: int = MAX_ATTEMPTS


class KmsSigner:
    """A ``Signer`` whose key stays in AWS KMS; holds one botocore client."""

    def __init__(self, client: Any, address: Address, where: KmsKey, limits: KmsLimits) -> None:
        self._client = client
        self._address = address
        self._where = where
        self._limits = limits

    @property
    def address(self) -> Address:
        return self._address

    def sign_digest(self, digest: bytes) -> bytes:
        """65-byte r || s || v (v = 27 or 28, low s) over a 32-byte digest, signed in KMS."""
        return self._sign(digest, starting=False)

    def _sign(self, digest: bytes, *, starting: bool) -> bytes:
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        answer = _call(
            self._client,
            "sign",
            self._where,
            self._limits,
            starting=starting,
            KeyId=self._where.key_id,
            Message=digest,
            MessageType="DIGEST",
            SigningAlgorithm=SIGNING_ALGORITHM,
        )
        try:
            r, s = parse_ecdsa_signature(bytes(answer["Signature"]))
            return recoverable_signature(digest, r, s, self._address)
        except (KeyError, TypeError, ValueError) as err:
            raise SignerError(
                f"KMS key {self._where.key_id!r} answered a signature that does not verify: {err}"
            ) from err

    def close(self) -> None:
        """Close the client's connections (the process exits anyway; tests call this)."""
        self._client.close()

    def __repr__(self) -> str:
        return (
            f"KmsSigner(address=0x{self._address.hex()}, key={self._where.key_id!r}, "
            f"region={self._where.region!r})"
        )


def open_kms_signer(where: KmsKey, limits: KmsLimits | None = None) -> KmsSigner:
    """Read the key's public key, check it is a secp256k1 signing key and sign once;
    ``ConfigError`` naming the setting on a wrong key, refused access or no credentials."""
    limits = limits or KmsLimits()
    client = kms_client(where, limits)
    try:
        signer = KmsSigner(client, kms_address(client, where, limits), where, limits)
        signer._sign(os.urandom(32), starting=True)  # kms:Sign is a permission of its own
    except SignerUnavailableError as err:  # no signer to retry with: stop, and say why
        client.close()
        raise SignerError(f"{err} at start") from err
    except BaseException:
        client.close()
        raise
    return signer


def kms_client(where: KmsKey, limits: KmsLimits) -> Any:
    """A KMS client for ``where`` with every call bounded by ``limits``; credentials from
    AWS's standard chain (``ConfigError`` when it finds none)."""
    session = get_session()
    try:
        credentials = session.get_credentials()
    except (CredentialRetrievalError, PartialCredentialsError) as err:
        raise ConfigError(
            f"{where.name('key_id')}: the AWS credentials are incomplete or unreadable "
            f"({type(err).__name__}): check AWS_PROFILE / AWS_* variables or the role"
        ) from err
    if credentials is None:
        raise ConfigError(
            f"{where.name('key_id')}: no AWS credentials found (AWS_* variables, ~/.aws, "
            "web identity or an instance/container role); they never go in the settings"
        )
    frozen = credentials.get_frozen_credentials()
    for secret in (frozen.secret_key, frozen.token):
        if secret:
            register_secret(secret)
    config = Config(
        region_name=where.region,
        connect_timeout=limits.connect_timeout_s,
        read_timeout=limits.read_timeout_s,
        retries={"total_max_attempts": limits.max_attempts, "mode": "standard"},
        user_agent_extra="relayer",
    )
    try:
        return session.create_client("kms", endpoint_url=where.endpoint_url, config=config)
    except (BotoCoreError, ValueError) as err:
        raise ConfigError(
            f"{where.name('endpoint_url' if where.endpoint_url else 'region')}: cannot make "
            f"a KMS client for {where.url} ({type(err).__name__})"
        ) from err


def kms_address(client: Any, where: KmsKey, limits: KmsLimits | None = None) -> Address:
    """The address of the KMS key: ``GetPublicKey``, its spec and usage checked."""
    limits = limits or KmsLimits()
    answer = _call(client, "get_public_key", where, limits, starting=True, KeyId=where.key_id)
    spec = answer.get("KeySpec") or answer.get("CustomerMasterKeySpec")
    if spec != KEY_SPEC or answer.get("KeyUsage") != KEY_USAGE:
        raise ConfigError(
            f"{where.name('key_id')}: KMS key {where.key_id!r} is {spec} {answer.get('KeyUsage')}, "
            f"not {KEY_SPEC} {KEY_USAGE} (Ethereum keys are secp256k1 signing keys)"
        )
    if SIGNING_ALGORITHM not in answer.get("SigningAlgorithms", [SIGNING_ALGORITHM]):
        raise ConfigError(
            f"{where.name('key_id')}: KMS key {where.key_id!r} cannot sign {SIGNING_ALGORITHM}"
        )
    try:
        point = parse_secp256k1_public_key(bytes(answer["PublicKey"]))
        return address_of_public_key(PublicKey(point))
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(
            f"{where.name('key_id')}: KMS key {where.key_id!r} has no usable public key: {err}"
        ) from err


def _call(
    client: Any, operation: str, where: KmsKey, limits: KmsLimits, *, starting: bool, **params: Any
) -> dict[str, Any]:
    """One KMS operation, its failures turned into the relayer's errors."""
    try:
        answer: dict[str, Any] = getattr(client, operation)(**params)
    except (ClientError, BotoCoreError) as err:
        raise _relayer_error(err, operation, where, limits, starting=starting) from err
    return answer


def _relayer_error(
    err: Exception, operation: str, where: KmsKey, limits: KmsLimits, *, starting: bool
) -> RelayerError:
    """A one-line error naming the setting; AWS's own message is never quoted (it can name
    the caller's role and account)."""
    key, action = where.name("key_id"), "kms:" + operation.title().replace("_", "")
    tries = f"{limits.max_attempts} tries"
    permanent: type[RelayerError] = ConfigError if starting else SignerError
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code", "unknown"))
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code == "AccessDeniedException":
            return permanent(
                f"{key}: KMS denied {action} on key {where.key_id!r} (AccessDeniedException): "
                "the relayer's role needs kms:GetPublicKey and kms:Sign on it"
            )
        if code == "NotFoundException":
            return permanent(f"{key}: no KMS key {where.key_id!r} in region {where.region!r}")
        if code in ("DisabledException", "KMSInvalidStateException"):
            return permanent(
                f"{key}: KMS key {where.key_id!r} is disabled or pending deletion ({code})"
            )
        if code in ("InvalidKeyUsageException", "UnsupportedOperationException"):
            return permanent(
                f"{key}: KMS key {where.key_id!r} cannot {action} ({code}): it must be an "
                f"{KEY_SPEC} {KEY_USAGE} key"
            )
        if code in _CREDENTIALS_REFUSED:
            return permanent(
                f"{key}: KMS refused the AWS credentials ({code}): check the credential chain "
                "(AWS_PROFILE, AWS_* variables, the role)"
            )
        if code in _TRANSIENT or status >= 500:
            return SignerUnavailableError(
                f"{key}: KMS throttled or failed {action} on key {where.key_id!r} ({code}) "
                f"after {tries}"
            )
        return permanent(f"{key}: KMS answered {code} to {action} on key {where.key_id!r}")
    where_setting = where.name("endpoint_url" if where.endpoint_url else "region")
    if isinstance(err, (ConnectTimeoutError, ReadTimeoutError)):
        return SignerUnavailableError(
            f"{where_setting}: KMS at {where.url} did not answer {action} within "
            f"{limits.connect_timeout_s:g} + {limits.read_timeout_s:g} s ({tries})"
        )
    if isinstance(err, (EndpointConnectionError, ConnectionClosedError)):
        return SignerUnavailableError(
            f"{where_setting}: cannot reach KMS at {where.url} for {action} ({tries})"
        )
    if isinstance(err, NoCredentialsError):
        return ConfigError(f"{key}: no AWS credentials found for {action}")
    return permanent(f"{key}: {action} failed: {type(err).__name__}")
