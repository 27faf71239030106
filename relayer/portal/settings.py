"""The portal's settings: a TOML file of its own (not the validator's ``Settings``),
overridden by ``PORTAL_*`` environment variables (``PORTAL_SERVER__PORT=8090``).

Unknown keys, wrong types and malformed addresses are refused with an error naming the
setting; docs/portal.md describes every section.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from relayer.errors import ConfigError
from relayer.settings import ConfirmationRule, EvmAddress, describe_validation_error

STATIC_DIR = Path(__file__).resolve().parent / "static"
_JURISDICTION = re.compile(r"^[A-Z]{2}$")
_HTTP_URL = r"^https?://"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    """Where the portal listens and who may call it from a browser."""

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8090, ge=0, le=65535, description="TCP port (0: any free port).")
    static_dir: str | None = Field(
        None, description="Folder served at / (default: the page shipped with the relayer)."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose pages may call /v1 from a browser; "
        "'*' allows any.",
    )
    trust_forwarded_for: bool = Field(
        False,
        description="Rate-limit by the first X-Forwarded-For address (only behind a proxy "
        "you run that sets it); otherwise by the connection's address.",
    )


class RateLimitSettings(_Section):
    """A token bucket per client address over the /v1 API."""

    requests_per_s: float = Field(5.0, gt=0, description="Refill rate of each bucket.")
    burst: int = Field(30, ge=1, description="Bucket size: requests a client may make at once.")
    max_clients: int = Field(
        10_000, ge=1, description="Buckets kept; the least recently seen are dropped beyond."
    )


class UpstreamSettings(_Section):
    """How the portal asks the validators' status APIs."""

    timeout_s: float = Field(3.0, gt=0, description="Timeout of one request to one validator.")
    list_limit_max: int = Field(
        200, ge=1, le=1000, description="Largest ?limit= accepted by /v1/transfers."
    )


class RpcRelaySettings(_Section):
    """The read-only JSON-RPC relay at POST /v1/rpc/{chain_id} (reads for the wallet page)."""

    timeout_s: float = Field(
        5.0, gt=0, description="Timeout of one relayed request to a chain's read node."
    )
    max_body_bytes: int = Field(
        16384, ge=256, le=1_048_576, description="Largest request body relayed (bytes)."
    )


class ValidatorEndpoint(_Section):
    """One validator whose status API the portal asks."""

    name: str = Field(min_length=1, description="Shown to users (e.g. the operator's name).")
    url: str = Field(pattern=_HTTP_URL, description="Base URL of its status API ([api]).")
    address: EvmAddress | None = Field(None, description="Its signing address, if published.")
    jurisdiction: str = Field(description="ISO 3166-1 alpha-2 code, e.g. HK.")

    @model_validator(mode="after")
    def _code(self) -> ValidatorEndpoint:
        if not _JURISDICTION.match(self.jurisdiction):
            raise ValueError(f"jurisdiction must be two capital letters, got {self.jurisdiction!r}")
        return self


class NativeCurrency(_Section):
    """The chain's gas currency, as wallet_addEthereumChain wants it."""

    name: str = Field(description="e.g. Conflux")
    symbol: str = Field(description="e.g. CFX")
    decimals: int = Field(18, ge=0, le=36, description="Decimals (18 on both chains).")


class ChainEntry(_Section):
    """One chain the page connects a wallet to."""

    chain_id: int = Field(gt=0, description="EVM chain id (1030, 71, 1, 11155111, a devnet's).")
    name: str = Field(description="Shown to users and to the wallet.")
    kind: Literal["conflux-espace", "ethereum"] = Field(
        description="'conflux-espace' or 'ethereum'."
    )
    rpc_url: str = Field(pattern=_HTTP_URL, description="Public JSON-RPC URL the browser uses.")
    read_rpc_url: str | None = Field(
        None,
        pattern=_HTTP_URL,
        description="JSON-RPC URL the portal relays /v1/rpc reads to (never shown to "
        "users; default: rpc_url).",
    )
    explorer_tx_url: str | None = Field(
        None, description="Explorer link of a transaction, with {hash} where the hash goes."
    )
    bridge: EvmAddress = Field(description="The bridge contract (vault or gateway).")
    native_currency: NativeCurrency = Field(description="The gas currency.")
    confirmation: ConfirmationRule = Field(
        "finalized", description="The validators' rule for a source event to be final."
    )
    confirmation_s: float = Field(
        60.0, ge=0, description="ETA: typical seconds from inclusion to meeting 'confirmation'."
    )
    release_s: float = Field(
        30.0, ge=0, description="ETA: typical seconds from confirmation to a release mined here."
    )

    @model_validator(mode="after")
    def _template(self) -> ChainEntry:
        if self.explorer_tx_url is not None and "{hash}" not in self.explorer_tx_url:
            raise ValueError("explorer_tx_url must contain {hash}")
        return self

    @property
    def read_url(self) -> str:
        """Where the portal relays this chain's reads."""
        return self.read_rpc_url or self.rpc_url


class TokenEntry(_Section):
    """One token the bridge carries, with its address on each chain."""

    symbol: str = Field(min_length=1, description="Its symbol on the Conflux side.")
    decimals: int = Field(ge=0, le=36, description="Decimals (the same on both chains).")
    addresses: dict[str, EvmAddress] = Field(
        description="Chain id (a TOML key, quoted) -> address; 0x000…0 is the native coin."
    )
    max_per_transfer: str | None = Field(
        None,
        pattern=r"^[0-9]{1,78}$",
        description="The lowest per-transfer maximum of the validators' policy packs, in the "
        "token's smallest unit: the page refuses more before sending (unset: none).",
    )


class PortalSettings(BaseSettings):
    """Everything the portal needs. Load with :func:`load_portal_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="PORTAL_", env_nested_delimiter="__", extra="forbid", frozen=True
    )
    toml_path: ClassVar[Path | None] = None

    server: ServerSettings = Field(default_factory=lambda: ServerSettings())
    rate_limit: RateLimitSettings = Field(default_factory=lambda: RateLimitSettings())
    upstream: UpstreamSettings = Field(default_factory=lambda: UpstreamSettings())
    rpc_relay: RpcRelaySettings = Field(
        default_factory=lambda: RpcRelaySettings(), description="The read-only RPC relay."
    )
    validators: list[ValidatorEndpoint] = Field(min_length=1, description="Every validator.")
    chains: list[ChainEntry] = Field(min_length=2, max_length=2, description="Both sides.")
    tokens: list[TokenEntry] = Field(default_factory=list, description="The routed tokens.")
    log_format: Literal["json", "console"] = Field("json", description="Log format.")

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
    def _consistent(self) -> PortalSettings:
        kinds = sorted(c.kind for c in self.chains)
        if kinds != ["conflux-espace", "ethereum"]:
            raise ValueError("chains: one 'conflux-espace' and one 'ethereum' chain")
        ids = {str(c.chain_id) for c in self.chains}
        for token in self.tokens:
            unknown = sorted(set(token.addresses) - ids)
            if unknown:
                raise ValueError(f"tokens.{token.symbol}.addresses: unknown chain ids {unknown}")
        urls = [v.url.rstrip("/") for v in self.validators]
        if len(set(urls)) != len(urls):
            raise ValueError("validators: each url once")
        return self

    def chain(self, chain_id: int) -> ChainEntry | None:
        return next((c for c in self.chains if c.chain_id == chain_id), None)

    @property
    def static_path(self) -> Path:
        return Path(self.server.static_dir) if self.server.static_dir else STATIC_DIR


def load_portal_settings(path: Path) -> PortalSettings:
    """Read the portal's TOML (and ``PORTAL_*``); raise ConfigError naming the key."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")

    class _FromFile(PortalSettings):
        toml_path: ClassVar[Path | None] = path

    try:
        settings: PortalSettings = _FromFile()
    except ValidationError as err:
        raise ConfigError(f"invalid portal settings: {describe_validation_error(err)}") from err
    except (OSError, ValueError) as err:  # unreadable file, TOML syntax error
        raise ConfigError(f"cannot read config {path}: {err}") from err
    if not settings.static_path.is_dir():
        raise ConfigError(f"server.static_dir: not a folder: {settings.static_path}")
    return settings


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    from relayer.settings_doc import _default

    rows = []
    for name, info in model.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            rows += _rows(info.annotation, f"{prefix}{name}.")
            continue
        meaning = (info.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name}` | {_default(info)} | {meaning} |")
    return rows


def settings_table() -> str:
    """The settings part of docs/portal.md, rendered from this model (a test keeps the
    committed page in step): one table per section, ``[[array]]`` sections included."""
    from typing import get_args

    from relayer.settings_doc import _default

    parts = []
    for section, info in PortalSettings.model_fields.items():
        annotation = info.annotation
        models = [a for a in (annotation, *get_args(annotation)) if isinstance(a, type)]
        model = next((m for m in models if issubclass(m, BaseModel)), None)
        if model is None:
            parts.append(f"Top level: `{section}` ({_default(info)}): {info.description}\n")
            continue
        title = f"[[{section}]]" if annotation is not model else f"[{section}]"
        doc = (model.__doc__ or "").strip().splitlines()[0]
        rows = "\n".join(_rows(model, ""))
        header = "| setting | default | meaning |\n|---|---|---|"
        parts.append(f"### {title}\n\n{doc}\n\n{header}\n{rows}\n")
    return "\n".join(parts)
