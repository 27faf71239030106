"""The relayer's settings: a TOML file, overridden by ``RELAYER_*`` environment variables.

Nested settings use ``__`` in the environment: ``RELAYER_ETHEREUM__RPC_URL`` overrides
``[ethereum] rpc_url``. Unknown keys, wrong types and malformed addresses are refused
with an error naming the setting (see :func:`load_settings`). docs/configuration.md
lists every setting; a test keeps it in step with this module.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from relayer.domain.types import parse_address
from relayer.errors import ConfigError


def _checksummed(value: str) -> str:
    parse_address(value, "address", strict_checksum=True)
    return value


EvmAddress = Annotated[str, AfterValidator(_checksummed)]
"""A 0x address; a mixed-case one must carry a valid EIP-55 checksum."""

_CONFIRMATION = re.compile(r"^(finalized|safe|depth:[1-9][0-9]{0,5})$")
_JURISDICTION = re.compile(r"^[A-Z]{2}$")


def _confirmation_rule(value: str) -> str:
    if not _CONFIRMATION.match(value):
        raise ValueError("must be 'finalized', 'safe' or 'depth:N' (N >= 1), got " + repr(value))
    return value


ConfirmationRule = Annotated[str, AfterValidator(_confirmation_rule)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainSettings(_Section):
    """One chain the relayer watches and submits to."""

    rpc_url: str = Field(description="JSON-RPC HTTP endpoint of a node of this chain.")
    rpc_urls: list[str] = Field(
        default_factory=list,
        description="Fallback endpoints (other nodes of this chain), used in order when the one "
        "in use stops answering (refused, timed out, HTTP 429/5xx); never the cross-check node.",
    )
    cross_check_rpc_url: str | None = Field(
        None,
        description=(
            "A second, independent node of this chain (another provider, or your own). "
            "When set, every source event is checked against it before it is signed; a "
            "contradiction is never signed and raises an alert. Recommended in production."
        ),
    )
    chain_id: int = Field(gt=0, description="Expected chain id; checked against the node at start.")
    confirmation: ConfirmationRule = Field(
        "finalized",
        description="When a source event is final: 'finalized', 'safe' or 'depth:N' blocks.",
    )
    max_log_window: int = Field(
        1000, ge=1, le=100_000, description="Largest block range asked of eth_getLogs at once."
    )
    start_block: int = Field(0, ge=0, description="First block to scan when no cursor is stored.")
    poll_interval_s: float = Field(
        2.0,
        gt=0,
        description="Pause between scans of the head (with ws_url: only while its "
        "subscription is down).",
    )
    ws_url: str | None = Field(
        None,
        pattern=r"^wss?://",
        description="WebSocket JSON-RPC endpoint of the same node as rpc_url. When set, new "
        "heads are pushed (eth_subscribe newHeads): the watcher and the settler scan once per "
        "new block instead of every poll_interval_s; they poll again while it is down.",
    )
    head_stale_s: float = Field(
        60.0,
        gt=0,
        description="With ws_url: a subscription that pushed no head for this long is "
        "dropped and opened again (polling meanwhile). Several block times of the chain.",
    )
    rpc_timeout_s: float = Field(10.0, gt=0, description="Timeout of one JSON-RPC call.")
    rpc_max_connections: int = Field(
        8,
        ge=1,
        le=256,
        description="Most TCP connections open to the node at once (kept alive and reused; "
        "more requests wait for a free one within their timeout).",
    )
    max_fee_gwei: float = Field(
        200.0, gt=0, description="Cap on maxFeePerGas for releases sent here; above it we wait."
    )
    priority_fee_gwei: float = Field(1.0, ge=0, description="maxPriorityFeePerGas offered.")
    receipt_confirmations: int = Field(
        1, ge=1, description="Blocks on top of a release before it counts as mined."
    )
    replace_after_s: float = Field(
        60.0,
        gt=0,
        description="A pending release older than this is re-sent with a higher fee.",
    )

    @model_validator(mode="after")
    def _independent_witness(self) -> ChainSettings:
        witness = self.cross_check_rpc_url
        endpoints = [u.rstrip("/") for u in (self.rpc_url, *self.rpc_urls)]
        if len(set(endpoints)) != len(endpoints):
            raise ValueError("rpc_urls must differ from rpc_url and from each other")
        if witness is not None and witness.rstrip("/") in endpoints:
            raise ValueError(
                "cross_check_rpc_url must be another node than rpc_url and rpc_urls "
                "(it is the independent witness)"
            )
        return self


class ConfluxSettings(ChainSettings):
    """Conflux eSpace, where the vault lives."""

    vault: EvmAddress = Field(description="Address of the BridgeVault contract.")


class EthereumSettings(ChainSettings):
    """Ethereum, where the gateway lives."""

    gateway: EvmAddress = Field(description="Address of the BridgeGateway contract.")


class ValidatorSettings(_Section):
    """Who this relayer is."""

    name: str = Field("validator", min_length=1, description="Name in logs and the client id.")
    jurisdiction: str = Field(description="ISO 3166-1 alpha-2 code of this validator, e.g. HK.")
    keystore: Path | None = Field(None, description="Encrypted keystore of the attesting key.")
    password_file: Path | None = Field(None, description="File holding the keystore password.")
    submitter_keystore: Path | None = Field(
        None, description="Keystore of the account paying for releases (default: attesting key)."
    )
    submitter_password_file: Path | None = Field(None, description="Its password file.")
    pkcs11_module: Path | None = Field(
        None,
        description="PKCS#11 library of the HSM holding the attesting key (instead of keystore), "
        'e.g. /usr/lib/softhsm/libsofthsm2.so (ops/README.md, "Keep the key in an HSM").',
    )
    pkcs11_token_label: str | None = Field(None, description="Label of the HSM token (slot).")
    pkcs11_key_label: str | None = Field(
        None, description="Label of the secp256k1 key in the token (`relayer keys new --pkcs11`)."
    )
    pkcs11_pin_file: Path | None = Field(None, description="File holding the token's user PIN.")
    submitter_pkcs11_module: Path | None = Field(
        None,
        description="PKCS#11 library of the HSM holding the submitting key (instead of "
        "submitter_keystore; default: the attesting key).",
    )
    submitter_pkcs11_token_label: str | None = Field(None, description="Its token label.")
    submitter_pkcs11_key_label: str | None = Field(None, description="Its key label.")
    submitter_pkcs11_pin_file: Path | None = Field(None, description="Its PIN file.")
    kms_key_id: str | None = Field(
        None,
        description="AWS KMS key (id, ARN or alias) holding the attesting key (instead of "
        "keystore): an ECC_SECG_P256K1 SIGN_VERIFY key; credentials come from AWS's standard "
        'chain, never from here (ops/README.md, "Keep the key in AWS KMS").',
    )
    kms_region: str | None = Field(None, description="AWS region of kms_key_id, e.g. eu-west-1.")
    kms_endpoint_url: str | None = Field(
        None, description="KMS endpoint, only for a VPC endpoint or tests (default: the region's)."
    )
    submitter_kms_key_id: str | None = Field(
        None,
        description="AWS KMS key of the submitting key (instead of submitter_keystore; "
        "default: the attesting key).",
    )
    submitter_kms_region: str | None = Field(None, description="Its AWS region.")
    submitter_kms_endpoint_url: str | None = Field(None, description="Its KMS endpoint.")
    dev_private_key: SecretStr | None = Field(
        None, description="DEV ONLY: raw attesting key (logs a warning). Never use in production."
    )
    dev_submitter_private_key: SecretStr | None = Field(
        None, description="DEV ONLY: raw submitter key (logs a warning)."
    )

    @field_validator("pkcs11_module", "submitter_pkcs11_module")
    @classmethod
    def _module_exists(cls, module: Path | None) -> Path | None:
        if module is not None and not module.is_file():
            raise ValueError(f"no such file {module} (the HSM vendor's PKCS#11 library)")
        return module

    @model_validator(mode="after")
    def _check(self) -> ValidatorSettings:
        if not _JURISDICTION.match(self.jurisdiction):
            raise ValueError(
                f"jurisdiction must be two upper-case letters, got {self.jurisdiction!r}"
            )
        for who in ("", "submitter_"):
            self._check_key(who)
        sources = (self.keystore, self.pkcs11_module, self.kms_key_id, self.dev_private_key)
        if all(source is None for source in sources):
            raise ValueError(
                "set keystore + password_file, or pkcs11_module + pkcs11_token_label + "
                "pkcs11_key_label + pkcs11_pin_file, or kms_key_id + kms_region "
                "(or dev_private_key on a devnet)"
            )
        return self

    def _check_key(self, who: str) -> None:
        """One source per key (``who``: "" the attesting key, "submitter_" the submitting
        one): an HSM, a KMS key, a keystore or a dev key; and each source is complete."""
        keystore, hsm, kms = f"{who}keystore", f"{who}pkcs11_module", f"{who}kms_key_id"
        dev = "dev_submitter_private_key" if who else "dev_private_key"
        chosen = [name for name in (hsm, kms, keystore, dev) if getattr(self, name) is not None]
        if len(chosen) > 1 and chosen[0] in (hsm, kms):  # a dev key may back up a keystore
            only = "not both" if len(chosen) == 2 else "only one"
            raise ValueError(f"set {' or '.join(chosen)}, {only}: which key is it?")
        kms_parts = [f"{who}kms_region", f"{who}kms_endpoint_url"]
        if getattr(self, kms) is not None and getattr(self, kms_parts[0]) is None:
            raise ValueError(f"{kms} needs {kms_parts[0]}")
        stray = [name for name in kms_parts if getattr(self, kms) is None and getattr(self, name)]
        if stray:
            raise ValueError(f"{', '.join(stray)} needs {kms}")
        if getattr(self, keystore) is not None and getattr(self, f"{who}password_file") is None:
            raise ValueError(f"{keystore} needs {who}password_file")
        parts = [f"{who}pkcs11_{part}" for part in ("token_label", "key_label", "pin_file")]
        if getattr(self, hsm) is not None:
            missing = [name for name in parts if getattr(self, name) is None]
            if missing:
                raise ValueError(f"{hsm} needs {', '.join(missing)}")
        else:
            stray = [name for name in parts if getattr(self, name) is not None]
            if stray:
                raise ValueError(f"{', '.join(stray)} needs {hsm}")


class DatabaseSettings(_Section):
    """Where this relayer keeps its replay-protected state."""

    url: str = Field(
        "sqlite+aiosqlite:///relayer.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://…",
    )
    migrate_on_start: bool = Field(True, description="Apply migrations when the relayer starts.")

    @model_validator(mode="after")
    def _check(self) -> DatabaseSettings:
        if not self.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("url must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return self


class BrokerSettings(_Section):
    """The MQTT broker that carries attestations between validators."""

    url: str = Field("mqtt://127.0.0.1:1883", description="mqtt://HOST:PORT or mqtts://HOST:PORT.")
    topic_prefix: str = Field("conflux-bridge", min_length=1, description="Root of all topics.")
    username: str | None = Field(None, description="Broker user (per validator).")
    password_file: Path | None = Field(None, description="File holding the broker password.")
    ca_file: Path | None = Field(None, description="CA certificate to verify the broker (TLS).")
    client_cert: Path | None = Field(None, description="Client certificate (mutual TLS).")
    client_key: Path | None = Field(None, description="Client key (mutual TLS).")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one broker operation.")
    publish_decisions: bool = Field(
        True,
        description="Gossip signed decisions (version-2 attestations, refusals); false only "
        "while peers still run a relayer that reads version-1 attestations only.",
    )

    @model_validator(mode="after")
    def _check(self) -> BrokerSettings:
        if not re.match(r"^mqtts?://[^/:]+(:\d{1,5})?/?$", self.url):
            raise ValueError(f"url must look like mqtt://host:port, got {self.url!r}")
        return self


class TokenLimit(_Section):
    """One allowed token and the largest amount this validator signs for it."""

    chain_id: int = Field(gt=0, description="Source chain of the token.")
    token: EvmAddress = Field(description="Token address on its source chain (0x0 = native).")
    max_amount: int = Field(gt=0, description="Largest single transfer this validator signs.")


class IssuerCheckSettings(_Section):
    """An issuer's control on one token: a view function asked about both parties."""

    chain_id: int = Field(
        gt=0, description="Chain of the token (this bridge's Conflux or Ethereum)."
    )
    token: EvmAddress = Field(description="The token contract whose issuer is asked.")
    function: str = Field(
        "isBlacklisted(address)",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}\(address\)$",
        description="View function taking one address and answering a bool.",
    )
    blocked_when: bool = Field(
        True, description="The answer that means blocked (true for isBlacklisted/isFrozen)."
    )


class PolicySettings(_Section):
    """This validator's jurisdiction policy."""

    tokens: list[TokenLimit] = Field(
        default_factory=list, description="Allow-list with per-token maximum (empty: sign none)."
    )
    deny_list_file: Path | None = Field(
        None, description="File of denied addresses, one per line; reloaded when it changes."
    )
    reload_interval_s: float = Field(
        5.0, gt=0, description="How often the deny list and the policy pack are checked."
    )
    pack_file: Path | None = Field(
        None,
        description="The jurisdiction's signed policy pack (docs/supervision.md); reloaded when "
        "it changes. With a pack, the allow-list above may stay empty: the pack's tokens apply.",
    )
    pack_signature_file: Path | None = Field(
        None, description="The supervisor's signature of the pack (default: pack_file + '.sig')."
    )
    supervisor: EvmAddress | None = Field(
        None, description="Address of this jurisdiction's supervisor, who signs its packs."
    )
    issuer_checks: list[IssuerCheckSettings] = Field(
        default_factory=list,
        description="Issuers' controls, asked about sender and recipient before signing.",
    )
    veto_hold_s: float = Field(
        86_400.0,
        ge=0,
        description="How long a transfer refused by a blocking minority (so it can never "
        "reach a quorum) is held after our refusal before we veto it on our own; then it "
        "is cancelled on the destination and refunded (docs/supervision.md).",
    )
    veto_sweep_s: float = Field(
        5.0,
        gt=0,
        description="How often vetoes are applied, cancels and refunds sent, and the source "
        "asked whether a cancelled transfer was refunded.",
    )

    @model_validator(mode="after")
    def _check_pack(self) -> PolicySettings:
        if self.pack_file is not None and self.supervisor is None:
            raise ValueError("pack_file needs supervisor (the address that signs the packs)")
        if self.pack_file is None and self.pack_signature_file is not None:
            raise ValueError("pack_signature_file is set but pack_file is not")
        return self

    @property
    def signature_path(self) -> Path | None:
        """Where the pack's signature is read from."""
        if self.pack_file is None:
            return None
        return self.pack_signature_file or self.pack_file.with_name(self.pack_file.name + ".sig")


class SubmitterSettings(_Section):
    """Who sends releases, and when."""

    grace_period_s: float = Field(
        30.0,
        ge=0,
        description="The k-th backup submitter of a release (the members after its primary, "
        "in ascending order, wrapping round) waits k times this long after the quorum, then "
        "submits if it is still needed: one backup at a time steps in.",
    )
    enabled: bool = Field(True, description="Whether this relayer submits releases at all.")


class PipelineSettings(_Section):
    """How work moves through a relayer: batch sizes and waits (tests shrink them)."""

    batch_max_releases: int = Field(
        64,
        ge=1,
        le=500,
        description="Most releases (or unlocks) sent in one releaseBatch/unlockBatch "
        "transaction; 1 sends each on its own.",
    )
    batch_gas_budget: int = Field(
        10_000_000,
        ge=300_000,
        description="Most gas one batch transaction may take (its estimate with the margin): "
        "a bigger batch is split in proportion.",
    )
    batch_linger_s: float = Field(
        0.2,
        ge=0,
        le=5,
        description="After new work arrives, the submitter waits this long for more before "
        "it packs the due releases into batches.",
    )
    max_in_flight: int = Field(
        4,
        ge=1,
        le=64,
        description="Release transactions (batches or single) this relayer has in flight "
        "at once per destination chain, each with its own nonce: the next one is sent "
        "while earlier ones wait for their receipts. 1 sends one at a time.",
    )
    confirm_batch_max: int = Field(
        32,
        ge=1,
        le=1024,
        description="Confirmed source events are checked, signed and stored in one "
        "transaction, at most this many at a time.",
    )
    inbound_batch_max: int = Field(
        64,
        ge=1,
        le=1024,
        description="Received attestations already waiting are verified and stored in one "
        "transaction, at most this many at a time.",
    )
    cursor_flush_s: float = Field(
        10.0,
        ge=0,
        le=60,
        description="A scanned window without events is stored (cursor and block hash) at "
        "most this often; a window with events is stored at once. A restart rescans the "
        "empty blocks since the last stored one. 0 stores every window.",
    )
    set_refresh_s: float = Field(
        15.0,
        gt=0,
        description="How often the validator sets are read again from both contracts.",
    )
    set_sweep_s: float = Field(
        5.0,
        gt=0,
        description="How often open validator-set rotation proposals are looked at: this "
        "validator's proposal and approval published, each chain's set read, and "
        "rotateValidatorSet sent once a quorum of the current set signed (`relayer set`).",
    )
    settle_sweep_s: float = Field(
        15.0,
        gt=0,
        description="How often the settler asks each destination what became of every "
        "transfer it has not settled (statusOf at the confirmed head).",
    )
    confirm_sweep_s: float = Field(
        15.0,
        gt=0,
        description="Longest wait between two sweeps of observed transfers when no watcher "
        "signals new work (a signal starts one at once).",
    )
    idle_wakeup_s: float = Field(
        15.0,
        gt=0,
        description="Longest sleep of the publisher and the submitter with nothing to do; "
        "new work wakes them at once (while releases are pending the submitter looks every "
        "poll interval).",
    )
    republish_interval_s: float = Field(
        60.0,
        gt=0,
        description="How often our attestations of transfers still short of a quorum are "
        "published again (for a peer that missed them).",
    )
    root_wait_s: float = Field(
        0.0,
        ge=0,
        le=3600,
        description="Committed roots (docs/contracts.md): how long a release with a quorum "
        "waits for a root over its window of source nonces before it goes the per-transfer "
        "way. While it waits, validators sign a root per decided window and the root's "
        "primary commits it and executes its releases with one multiproof (less gas, more "
        "latency). 0 turns committed roots off: nothing is signed, received or waited for.",
    )
    root_window: int = Field(
        64,
        ge=1,
        le=1024,
        description="Source nonces per committed-root window (aligned: 1..N, N+1..2N, ...). "
        "Every validator of a bridge must use the same value, or their roots never match.",
    )


class ApiSettings(_Section):
    """The HTTP API: /healthz, /readyz, /metrics, /transfers, /alerts (open alerts, read-only)."""

    host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port of the HTTP API (0: any free).")
    probe_timeout_s: float = Field(
        0.5,
        gt=0,
        le=5,
        description="Each /readyz probe (a node's block number, the database) gives up after "
        "this, all probes at once: /readyz answers within about this, whatever the chains do.",
    )
    balance_refresh_s: float = Field(
        30.0,
        ge=1,
        description="How often the submitter balances shown in /metrics are read from the "
        "chains (in the background: /metrics itself never calls a chain).",
    )


_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class SupervisorSettings(_Section):
    """One supervisor who may read the supervisor API, and the jurisdictions it may see."""

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$",
        description="Who this is, in logs and on the page (letters, digits, space . _ -).",
    )
    token_sha256: str = Field(
        description="sha256 of the supervisor's bearer token, 64 lower-case hex digits "
        "(`printf %s TOKEN | sha256sum`); the token itself is never stored."
    )
    jurisdictions: list[str] = Field(
        min_length=1,
        description='ISO 3166-1 alpha-2 codes this supervisor may see, e.g. ["HK", "SG"].',
    )

    @model_validator(mode="after")
    def _check(self) -> SupervisorSettings:
        if not _SHA256_HEX.match(self.token_sha256):
            raise ValueError(
                f"token_sha256 of {self.name!r} must be 64 lower-case hex digits (a sha256), "
                "not the token itself"
            )
        for code in self.jurisdictions:
            if not _JURISDICTION.match(code):
                raise ValueError(
                    f"jurisdictions of {self.name!r}: {code!r} is not two upper-case letters"
                )
        if len(set(self.jurisdictions)) != len(self.jurisdictions):
            raise ValueError(f"jurisdictions of {self.name!r} lists a code twice")
        return self


class SupervisorApiSettings(_Section):
    """The read-only supervisor API and page (/supervisor/), on its own port."""

    enabled: bool = Field(False, description="Serve the supervisor API and page.")
    host: str = Field("127.0.0.1", description="Address the supervisor API listens on.")
    port: int = Field(8090, ge=0, le=65535, description="Its port (0: any free).")
    supervisors: list[SupervisorSettings] = Field(
        default_factory=list,
        description="Who may read it: [[supervisor_api.supervisors]] name, token_sha256, "
        "jurisdictions.",
    )
    freeze_lookback_blocks: int = Field(
        5000,
        ge=1,
        le=1_000_000,
        description="Freezes shown: Frozen/Unfrozen logs of the mirror tokens in this many "
        "latest Ethereum blocks (read in windows of ethereum.max_log_window).",
    )

    @model_validator(mode="after")
    def _check(self) -> SupervisorApiSettings:
        if self.enabled and not self.supervisors:
            raise ValueError("enabled needs at least one [[supervisor_api.supervisors]]")
        names = [s.name for s in self.supervisors]
        if len(set(names)) != len(names):
            raise ValueError("supervisors: two supervisors share a name")
        hashes = [s.token_sha256 for s in self.supervisors]
        if len(set(hashes)) != len(hashes):
            raise ValueError("supervisors: two supervisors share a token")
        return self


class AuditSettings(_Section):
    """The audit chain's head, signed and gossiped so other operators can witness it."""

    head_interval_s: float = Field(
        60.0,
        gt=0,
        description="How often this validator signs and publishes its audit chain's head "
        "(with the latest heads it holds of the others); `relayer audit verify` checks the "
        "chain still contains every head of it another validator saw.",
    )


class LogSettings(_Section):
    """Structured logs on stderr."""

    format: Literal["json", "console"] = Field("json", description="json for machines, console.")
    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")


class TestingSettings(_Section):
    """TEST ONLY switches for crash-recovery tests; leave unset in production."""

    crash_after: Literal["observed", "signed", "published", "quorum", "recorded", "sent"] | None = (
        Field(
            None,
            description="TEST ONLY: SIGKILL this process right after the first transfer "
            "reaches this step (see relayer/crashpoints.py).",
        )
    )


class Settings(BaseSettings):
    """Everything a relayer needs. Load with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="RELAYER_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )
    toml_path: ClassVar[Path | None] = None

    validator: ValidatorSettings
    conflux: ConfluxSettings
    ethereum: EthereumSettings
    database: DatabaseSettings = Field(default_factory=lambda: DatabaseSettings())
    broker: BrokerSettings = Field(default_factory=lambda: BrokerSettings())
    policy: PolicySettings = Field(default_factory=lambda: PolicySettings())
    submitter: SubmitterSettings = Field(default_factory=lambda: SubmitterSettings())
    pipeline: PipelineSettings = Field(default_factory=lambda: PipelineSettings())
    api: ApiSettings = Field(default_factory=lambda: ApiSettings())
    supervisor_api: SupervisorApiSettings = Field(default_factory=lambda: SupervisorApiSettings())
    audit: AuditSettings = Field(default_factory=lambda: AuditSettings())
    log: LogSettings = Field(default_factory=lambda: LogSettings())
    testing: TestingSettings = Field(default_factory=lambda: TestingSettings())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_path))
        return tuple(sources)

    @model_validator(mode="after")
    def _distinct_chains(self) -> Settings:
        if self.conflux.chain_id == self.ethereum.chain_id:
            raise ValueError("conflux.chain_id and ethereum.chain_id must differ")
        return self


def describe_validation_error(err: ValidationError) -> str:
    """One line per problem, each naming the setting: ``ethereum.gateway: bad checksum``."""
    lines = []
    for problem in err.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown setting"
        elif problem["type"] == "missing":
            message = "required setting is missing"
        lines.append(f"{where}: {message}")
    return "; ".join(lines)


def load_settings(path: Path | None, **overrides: Any) -> Settings:
    """Read settings from ``path`` (TOML) and the environment; raise ConfigError on any problem."""
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")

    class _FromFile(Settings):
        toml_path: ClassVar[Path | None] = path

    try:
        return _FromFile(**overrides)
    except ValidationError as err:
        raise ConfigError(f"invalid settings: {describe_validation_error(err)}") from err
    except (OSError, ValueError) as err:  # unreadable file, TOML syntax error
        raise ConfigError(f"cannot read config {path}: {err}") from err
