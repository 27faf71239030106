"""A whole local bridge: both chains, a broker, the contracts, N relayer processes.

Used by ``relayer devnet``, the end-to-end tests and ``make bench-pipeline``. Blocking
(it deploys with synchronous web3 and manages OS processes); ``stop()`` leaves no
process behind. Everything it makes lives under ``workdir``.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from relayer.chain import transactions
from relayer.devnet import deploy
from relayer.devnet.anvil import AnvilNode
from relayer.devnet.broker import Broker, start_broker
from relayer.devnet.conflux import ConfluxDevNode
from relayer.devnet.packs import DevnetPack, pack_text, write_pack
from relayer.devnet.processes import DevnetError, ManagedProcess, free_ports
from relayer.devnet.softhsm import HsmKey, make_hsm_key
from relayer.devnet.supervisors import dev_token, supervisors_toml

ZERO = "0x0000000000000000000000000000000000000000"
REGULATED = "AxHKD"  # the devnet's regulated stablecoin: a BlacklistToken, issuer-checked
UNLIMITED = 10**30


@dataclass
class StackOptions:
    """What to build. Defaults suit a laptop demo; tests shrink the times."""

    validators: int = 5
    threshold: int | None = None  # default floor(2n/3)+1
    min_jurisdictions: int = 2
    jurisdictions: tuple[str, ...] = ("HK", "SG", "AE")
    users: int = 3
    block_time_ms: int = 250  # Conflux devBlockIntervalMs; anvil mines every 2x this
    eth_block_time_s: float | None = None  # anvil's block time; None: 2 x block_time_ms
    conflux_confirmation: str = "depth:5"
    ethereum_confirmation: str = "depth:2"
    poll_interval_s: float = 0.25
    grace_period_s: float = 3.0
    database_urls: Sequence[str] | None = None  # one per validator; default SQLite files
    deny_lists: dict[int, Sequence[str]] = field(default_factory=dict)  # validator -> addrs
    topic_prefix: str = "conflux-bridge"
    log_format: str = "json"
    start_relayers: bool = True
    broker: str = "auto"  # "mosquitto", "embedded" or "auto"
    delay_s: int = 5  # the contracts' delay of large or over-limit transfers (24 h in production)
    governors: bool = True  # set DEVNET_GOVERNORS on every token, both directions
    root_wait_s: float = 0.0  # [pipeline] root_wait_s: committed roots (0: off)
    root_window: int = 64  # [pipeline] root_window
    packs: bool = True  # each jurisdiction's validators run under a signed policy pack
    sanctioned: dict[str, Sequence[str]] = field(default_factory=dict)  # jurisdiction -> addrs
    review_above: dict[str, int] = field(default_factory=dict)  # jurisdiction -> smallest units
    veto_hold_s: float = 10.0  # [policy] veto_hold_s: a never-quorate transfer waits this long
    audit_head_interval_s: float = 5.0  # [audit] head_interval_s (60 s in production)
    hsm_validators: tuple[int, ...] = ()  # these attest with a key in a SoftHSM2 token


# Per token, in whole tokens: bucket capacity, refill per second, large-transfer threshold.
# The same limits apply on the gateway (releases of the mirror) and on the vault (unlocks).
DEVNET_GOVERNORS: dict[str, tuple[int, int, int]] = {
    "AxHKD": (1_000, 1, 500),
    "CFXT": (10_000, 10, 5_000),
    "FOT": (10_000, 10, 5_000),
    "CFX": (1_000, 1, 500),
}


@dataclass(frozen=True)
class TokenInfo:
    symbol: str
    decimals: int
    conflux: str  # address on Conflux eSpace (ZERO = native CFX)
    ethereum: str  # its mirror on Ethereum


@dataclass(frozen=True)
class ValidatorInfo:
    index: int
    address: str
    jurisdiction: str
    private_key: str
    http_url: str
    database_url: str
    config_path: Path
    log_path: Path
    supervisor_url: str = ""  # the supervisor API and page (/supervisor/)


def _key_hex(account: LocalAccount) -> str:
    return "0x" + account.key.hex().removeprefix("0x")


class Stack:
    """A running local bridge. Build with :meth:`up`; always :meth:`stop` it."""

    def __init__(self, options: StackOptions, workdir: Path) -> None:
        self.options = options
        self.workdir = workdir
        self.conflux: ConfluxDevNode | None = None
        self.anvil: AnvilNode | None = None
        self.broker: Broker | None = None
        self.relayers: dict[int, ManagedProcess] = {}
        self.validators: list[ValidatorInfo] = []
        self.tokens: list[TokenInfo] = []
        self.users: list[LocalAccount] = []
        self.vault: Contract | None = None
        self.gateway: Contract | None = None
        self.w3c: Web3 | None = None
        self.w3e: Web3 | None = None
        self.deployer_c: LocalAccount | None = None
        self.deployer_e: LocalAccount | None = None
        self.packs: dict[str, DevnetPack] = {}  # jurisdiction -> its pack
        self._supervisors_toml = ""  # the [supervisors] tables every validator gets
        self.hsm_keys: dict[int, HsmKey] = {}  # validator index -> its key in a token
        self.validator_accounts: list[LocalAccount] = []  # each pays its own transactions

    # ------------------------------------------------------------------ building

    @classmethod
    def up(
        cls, options: StackOptions, workdir: Path, say: Callable[[str], None] = lambda _: None
    ) -> Stack:
        workdir = workdir.resolve()  # relayers run with their own folder as cwd
        workdir.mkdir(parents=True, exist_ok=True)
        stack = cls(options, workdir)
        try:
            say("starting a Conflux dev node (eSpace + Core RPC) and anvil")
            stack._start_chains()
            say("deploying the vault, the gateway and the demo tokens")
            stack._deploy()
            stack.broker = start_broker(workdir / "broker", options.broker)
            say(f"MQTT broker ({stack.broker.kind}) on {stack.broker.url}")
            stack._write_configs()
            if options.start_relayers:
                say(f"starting {options.validators} validator relayers")
                for v in stack.validators:
                    stack.start_relayer(v.index)
                stack.wait_ready()
        except BaseException:
            stack.stop()
            raise
        return stack

    def _start_chains(self) -> None:
        o = self.options
        accounts = 1 + o.users + o.validators
        self.conflux = ConfluxDevNode.launch(
            dev_block_interval_ms=o.block_time_ms, evm_accounts=accounts
        )
        eth_block_time = o.eth_block_time_s or max(0.1, 2 * o.block_time_ms / 1000)
        self.anvil = AnvilNode.launch(block_time=eth_block_time, accounts=2)
        self.w3c = Web3(Web3.HTTPProvider(self.conflux.rpc_url, request_kwargs={"timeout": 30}))
        self.w3e = Web3(Web3.HTTPProvider(self.anvil.rpc_url, request_kwargs={"timeout": 30}))

    def _deploy(self) -> None:
        o = self.options
        assert self.conflux and self.anvil and self.w3c and self.w3e
        keys = list(self.conflux.funded_keys)
        self.deployer_c = Account.from_key(keys[0])
        self.deployer_e = Account.from_key(self.anvil.funded_keys[0])
        self.users = [Account.from_key(k) for k in keys[1 : 1 + o.users]]
        validator_keys = keys[1 + o.users : 1 + o.users + o.validators]
        accounts = [Account.from_key(k) for k in validator_keys]
        self.validator_accounts = accounts
        codes = [o.jurisdictions[i % len(o.jurisdictions)] for i in range(o.validators)]
        for i in o.hsm_validators:  # its dev account still pays for its transactions
            home = self.workdir / f"validator-{i}" / "hsm"
            self.hsm_keys[i] = make_hsm_key(home, f"devnet-{i}")
        vset = deploy.ValidatorSetSpec.from_addresses(
            [self.member_address(i) for i in range(o.validators)],
            codes,
            o.threshold,
            o.min_jurisdictions,
        )
        for account in [*accounts, *self.users]:  # gas on Ethereum for submitters and users
            self.anvil_rpc("anvil_setBalance", [account.address, hex(10**22)])
        w3c, w3e, dc, de = self.w3c, self.w3e, self.deployer_c, self.deployer_e
        self.vault = deploy.deploy_vault(w3c, dc, dc.address, vset)
        self.gateway = deploy.deploy_gateway(w3e, de, de.address, vset)
        deploy.connect_bridges(
            w3c, dc, self.vault, w3c.eth.chain_id, w3e, de, self.gateway, w3e.eth.chain_id
        )
        specs = [
            ("AxHKD", "HKD Stablecoin (demo)", 6, None),
            ("CFXT", "Conflux Test Token", 18, None),
            ("FOT", "Fee-on-transfer Token", 18, 100),
        ]
        cfx_chain = w3c.eth.chain_id
        for symbol, name, decimals, fee_bps in specs:
            if symbol == REGULATED:  # its issuer (the deployer here) blacklists addresses
                token = deploy.deploy_blacklist_token(w3c, dc, name, symbol, decimals, dc.address)
            elif fee_bps is None:
                token = deploy.deploy_test_token(w3c, dc, name, symbol, decimals)
            else:
                token = deploy.deploy_fee_token(w3c, dc, name, symbol, decimals, fee_bps)
            deploy.register_vault_token(w3c, dc, self.vault, token.address)
            mirror = deploy.register_gateway_token(
                w3e,
                de,
                self.gateway,
                cfx_chain,
                token.address,
                f"Bridged {name}",
                f"b{symbol}",
                decimals,
                issuer=de.address if symbol == REGULATED else None,  # may freeze its holders
            )
            self.tokens.append(TokenInfo(symbol, decimals, token.address, mirror.address))
            for user in self.users:
                transactions.send(w3c, dc, token.functions.mint(user.address, 10**6 * 10**decimals))
        deploy.register_vault_token(w3c, dc, self.vault, ZERO)
        mirror = deploy.register_gateway_token(
            w3e, de, self.gateway, cfx_chain, ZERO, "Bridged CFX", "bCFX", 18
        )
        self.tokens.append(TokenInfo("CFX", 18, ZERO, mirror.address))
        self.vset = vset
        self._configure_limits()

    def _configure_limits(self) -> None:
        """The contracts' delay, and a governor on every token it delivers."""
        assert self.w3c and self.w3e and self.vault and self.gateway
        assert self.deployer_c and self.deployer_e
        sides = [
            (self.w3c, self.deployer_c, self.vault, "conflux"),
            (self.w3e, self.deployer_e, self.gateway, "ethereum"),
        ]
        for w3, admin, bridge, _ in sides:
            if not deploy.configure_delay(w3, admin, bridge, self.options.delay_s):
                raise DevnetError(f"delay {self.options.delay_s}s not in force on {bridge.address}")
        if not self.options.governors:
            return
        for info in self.tokens:
            capacity, refill, threshold = (
                v * 10**info.decimals for v in DEVNET_GOVERNORS[info.symbol]
            )
            for w3, admin, bridge, side in sides:
                token = info.conflux if side == "conflux" else info.ethereum
                if not deploy.configure_governor(
                    w3, admin, bridge, token, capacity, refill, threshold
                ):
                    raise DevnetError(f"governor of {info.symbol} not in force on {side}")

    def anvil_rpc(self, method: str, params: list[Any]) -> Any:
        assert self.w3e is not None
        return self.w3e.provider.make_request(method, params)  # type: ignore[arg-type]

    def _write_configs(self) -> None:
        o = self.options
        assert self.conflux and self.anvil and self.broker and self.vault and self.gateway
        ports = free_ports(o.validators)
        supervisor_ports = free_ports(o.validators)
        supervisors = supervisors_toml(sorted(set(self.vset.jurisdictions)))
        cfx_chain, eth_chain = self.conflux.chain_id, self.anvil.chain_id
        if o.packs:
            supervision = self.workdir / "supervisors"
            supervision.mkdir(exist_ok=True)
            listed = [
                (chain, address, t.symbol)
                for t in self.tokens
                for chain, address in ((cfx_chain, t.conflux), (eth_chain, t.ethereum))
            ]
            for j in sorted(set(self.vset.jurisdictions)):
                text = pack_text(j, listed, o.sanctioned.get(j, ()), o.review_above.get(j))
                self.packs[j] = write_pack(supervision, j, text)
        self._supervisors_toml = supervisors
        for i, account in enumerate(self.validator_accounts):
            member = self.member_address(i)
            jurisdiction = self.vset.jurisdictions[self.vset.members.index(member)]
            db_url = (
                o.database_urls[i]
                if o.database_urls is not None
                else f"sqlite+aiosqlite:///{self.workdir / f'validator-{i}' / 'relayer.db'}"
            )
            self.validators.append(
                self._write_config(i, account, jurisdiction, ports[i], supervisor_ports[i], db_url)
            )

    def _write_config(
        self,
        i: int,
        account: LocalAccount,
        jurisdiction: str,
        port: int,
        supervisor_port: int,
        db_url: str,
    ) -> ValidatorInfo:
        """Write validator ``i``'s settings file (its folder, deny list and config)."""
        o = self.options
        assert self.conflux and self.anvil and self.broker and self.vault and self.gateway
        cfx_chain, eth_chain = self.conflux.chain_id, self.anvil.chain_id
        supervisors = self._supervisors_toml
        hsm = self.hsm_keys.get(i)
        key_lines = (
            f'dev_private_key = "{_key_hex(account)}"\n'
            if hsm is None
            else hsm.settings_toml() + f'dev_submitter_private_key = "{_key_hex(account)}"\n'
        )
        home = self.workdir / f"validator-{i}"
        home.mkdir(exist_ok=True)
        deny = home / "deny-list.txt"
        deny.write_text("".join(f"{a}\n" for a in o.deny_lists.get(i, ())))
        tokens = "".join(
            f'[[policy.tokens]]\nchain_id = {chain}\ntoken = "{address}"\n'
            f"max_amount = {UNLIMITED}\n\n"
            for t in self.tokens
            for chain, address in ((cfx_chain, t.conflux), (eth_chain, t.ethereum))
        )
        regulated = next(t for t in self.tokens if t.symbol == REGULATED)
        issuer_check = "".join(  # the stablecoin's issuers are asked about both parties
            f'[[policy.issuer_checks]]\nchain_id = {chain}\ntoken = "{address}"\n'
            f'function = "{function}"\nblocked_when = true\n\n'
            for chain, address, function in (
                (cfx_chain, regulated.conflux, "isBlacklisted(address)"),
                (eth_chain, regulated.ethereum, "isFrozen(address)"),
            )
        )
        pack = self.packs.get(jurisdiction)
        pack_lines = (
            "" if pack is None else f'pack_file = "{pack.path}"\nsupervisor = "{pack.supervisor}"\n'
        )
        config = f"""# Devnet validator {i} ({jurisdiction}). DEV KEYS: never reuse them.
[validator]
name = "devnet-{i}"
jurisdiction = "{jurisdiction}"
{key_lines}
[conflux]
rpc_url = "{self.conflux.rpc_url}"
ws_url = "{self.conflux.ws_url}"
head_stale_s = 10
chain_id = {cfx_chain}
vault = "{self.vault.address}"
confirmation = "{o.conflux_confirmation}"
max_log_window = 1000
poll_interval_s = {o.poll_interval_s}
replace_after_s = 20
max_fee_gwei = 1000

[ethereum]
rpc_url = "{self.anvil.rpc_url}"
ws_url = "{self.anvil.ws_url}"
head_stale_s = 10
chain_id = {eth_chain}
gateway = "{self.gateway.address}"
confirmation = "{o.ethereum_confirmation}"
poll_interval_s = {o.poll_interval_s}
replace_after_s = 20
max_fee_gwei = 1000

[database]
url = "{db_url}"

[broker]
url = "mqtt://127.0.0.1:{self.broker.port}"
topic_prefix = "{o.topic_prefix}"

[submitter]
grace_period_s = {o.grace_period_s}

[pipeline]
set_sweep_s = 0.5
root_wait_s = {o.root_wait_s}
root_window = {o.root_window}

[api]
host = "127.0.0.1"
port = {port}
# loopback nodes answer in milliseconds; a short probe leaves /readyz its 1 s answer
# budget on a loaded machine (five relayers and both chains on two cores)
probe_timeout_s = 0.25

[supervisor_api]
enabled = true
host = "127.0.0.1"
port = {supervisor_port}
freeze_lookback_blocks = 20000

{supervisors}[audit]
head_interval_s = {o.audit_head_interval_s}

[log]
format = "{o.log_format}"
level = "info"

[policy]
deny_list_file = "{deny}"
reload_interval_s = 0.5
veto_hold_s = {o.veto_hold_s}
veto_sweep_s = 0.5
{pack_lines}
{tokens}{issuer_check}"""
        path = home / "relayer.toml"
        path.write_text(config)
        path.chmod(0o600)
        return ValidatorInfo(
            index=i,
            address=self.member_address(i),
            jurisdiction=jurisdiction,
            private_key=_key_hex(account),
            http_url=f"http://127.0.0.1:{port}",
            database_url=db_url,
            config_path=path,
            log_path=home / "relayer.log",
            supervisor_url=f"http://127.0.0.1:{supervisor_port}/supervisor/",
        )

    def add_validator(self, jurisdiction: str, *, start: bool = True) -> ValidatorInfo:
        """A new validator outside the set: a fresh key funded on both chains, its folder
        and settings, and (``start``) its relayer, running and ready. Its signatures count
        once a rotation (``relayer set``) makes it a member."""
        assert self.w3c and self.deployer_c
        account: LocalAccount = Account.create()
        self.anvil_rpc("anvil_setBalance", [account.address, hex(10**22)])
        w3c, funder = self.w3c, self.deployer_c
        tx: Any = {
            "from": funder.address,
            "to": account.address,
            "value": 10**21,
            "gas": 21000,
            "nonce": w3c.eth.get_transaction_count(funder.address, "pending"),
            "chainId": w3c.eth.chain_id,
            **transactions.explicit_fees(w3c),
        }
        sent = w3c.eth.send_raw_transaction(funder.sign_transaction(tx).raw_transaction)
        if w3c.eth.wait_for_transaction_receipt(sent, timeout=60)["status"] != 1:
            raise DevnetError(f"funding {account.address} on Conflux failed")
        i = len(self.validators)
        self.validator_accounts.append(account)
        port, supervisor_port = free_ports(2)
        db_url = f"sqlite+aiosqlite:///{self.workdir / f'validator-{i}' / 'relayer.db'}"
        info = self._write_config(i, account, jurisdiction, port, supervisor_port, db_url)
        self.validators.append(info)
        if start:
            self.start_relayer(i)
            self.wait_ready(indexes=[i])
        return info

    # ------------------------------------------------------------------ relayers

    def member_address(self, index: int) -> str:
        """Validator ``index``'s address in the set: its attesting key's."""
        hsm = self.hsm_keys.get(index)
        return hsm.address if hsm is not None else self.validator_accounts[index].address

    def start_relayer(self, index: int, env: Mapping[str, str] | None = None) -> ManagedProcess:
        """Start relayer ``index``; ``env`` adds settings (``RELAYER_…`` variables)."""
        v = self.validators[index]
        argv = [sys.executable, "-m", "relayer", "run", "--config", str(v.config_path)]
        hsm = self.hsm_keys.get(index)
        env = {**(hsm.env() if hsm is not None else {}), **(env or {})}
        process = ManagedProcess(argv, v.log_path, cwd=v.config_path.parent, env=env)
        self.relayers[index] = process
        return process

    def kill_relayer(self, index: int) -> None:
        """SIGKILL, as a crash would."""
        process = self.relayers.pop(index)
        process._signal_group(signal.SIGKILL)
        process.stop(grace=5.0)

    def stop_relayer(self, index: int) -> int | None:
        return self.relayers.pop(index).stop(grace=15.0)

    def wait_ready(self, timeout: float = 90.0, indexes: Sequence[int] | None = None) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.relayers if indexes is None else indexes)
        while pending:
            for i in list(pending):
                process = self.relayers[i]
                if process.exit_code() is not None:
                    raise DevnetError(
                        f"relayer {i} exited with {process.exit_code()}:\n{process.log_tail()}"
                    )
                if self.http_get(i, "/readyz") is not None:
                    pending.discard(i)
            if pending and time.monotonic() > deadline:
                tails = "\n".join(self.relayers[i].log_tail(1500) for i in pending)
                raise DevnetError(f"relayers {sorted(pending)} not ready in {timeout}s:\n{tails}")
            time.sleep(0.2)

    def http_get(self, index: int, path: str) -> Any | None:
        """GET a relayer's API; JSON answer, or None if it is not (yet) 200."""
        url = self.validators[index].http_url + path
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                body = response.read()
        except (urllib.error.URLError, OSError, TimeoutError):
            return None
        try:
            return json.loads(body)
        except ValueError:
            return body.decode(errors="replace")

    def restart_broker(self) -> None:
        """Start the broker again on the same port (after ``broker.stop()``)."""
        assert self.broker is not None
        self.broker = start_broker(self.workdir / "broker", self.broker.kind, port=self.broker.port)

    # ------------------------------------------------------------------ manifest

    def manifest(self) -> dict[str, Any]:
        assert self.conflux and self.anvil and self.broker and self.vault and self.gateway
        return {
            "conflux": {
                "rpc_url": self.conflux.rpc_url,
                "core_rpc_url": self.conflux.core_rpc_url,
                "chain_id": self.conflux.chain_id,
                "core_chain_id": self.conflux.core_chain_id,
                "vault": self.vault.address,
            },
            "ethereum": {
                "rpc_url": self.anvil.rpc_url,
                "chain_id": self.anvil.chain_id,
                "gateway": self.gateway.address,
            },
            "tokens": [t.__dict__ for t in self.tokens],
            "validators": [
                {
                    "address": v.address,
                    "jurisdiction": v.jurisdiction,
                    "private_key": v.private_key,
                    "dev_key": True,
                    "http_url": v.http_url,
                    "database_url": v.database_url,
                    "config": str(v.config_path),
                    "log": str(v.log_path),
                    "supervisor_url": v.supervisor_url,
                }
                for v in self.validators
            ],
            "users": [
                {
                    "address": u.address,
                    "private_key": "0x" + u.key.hex().removeprefix("0x"),
                    "dev_key": True,
                }
                for u in self.users
            ],
            "broker": {
                "url": f"mqtt://127.0.0.1:{self.broker.port}",
                "topic_prefix": self.options.topic_prefix,
            },
            "supervisors": {
                j: {"address": p.supervisor, "pack": str(p.path), "pack_hash": p.hash}
                for j, p in self.packs.items()
            },
            "supervisor_api": {
                "note": "DEV tokens: each sees its own jurisdiction on every relayer's "
                "supervisor_url (Authorization: Bearer TOKEN)",
                "tokens": {j: dev_token(j) for j in sorted(set(self.vset.jurisdictions))},
            },
            "threshold": self.vset.threshold,
            "min_jurisdictions": self.vset.min_jurisdictions,
        }

    def write_manifest(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.manifest(), indent=2) + "\n")
        tmp.chmod(0o600)
        tmp.replace(path)

    # ------------------------------------------------------------------ teardown

    def stop(self) -> None:
        for index in list(self.relayers):
            self.relayers.pop(index).stop(grace=15.0)
        for part in (self.broker, self.anvil, self.conflux):
            if part is not None:
                part.stop()
        self.broker = self.anvil = self.conflux = None

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
