"""What a user does against the local bridge, and the two facts every scenario checks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiomqtt
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3

from relayer.chain import transactions
from relayer.devnet import deploy
from relayer.devnet.stack import ZERO, Stack, TokenInfo

# recipients the validators' deny lists name (tests/e2e/conftest.py configures them)
DENIED_BY_ONE = to_checksum_address("0x" + "de" * 19 + "01")
DENIED_BY_TWO = to_checksum_address("0x" + "de" * 19 + "02")


@dataclass(frozen=True)
class Sent:
    """A lock or burn as the source chain recorded it."""

    transfer_id: bytes
    amount: int  # what the source contract credited (after a transfer fee)
    token: TokenInfo
    recipient: str
    direction: str  # "to_ethereum" or "to_conflux"


@contextlib.contextmanager
def gateway_delay(stack: Stack, seconds: int) -> Iterator[None]:
    """The gateway's delay set to ``seconds`` (a longer one applies at once), then back."""
    assert stack.w3e and stack.deployer_e and stack.gateway
    before = int(stack.gateway.functions.delay().call())
    assert deploy.configure_delay(stack.w3e, stack.deployer_e, stack.gateway, seconds)
    try:
        yield
    finally:
        assert deploy.configure_delay(stack.w3e, stack.deployer_e, stack.gateway, before)


@contextlib.contextmanager
def ethereum_mining_paused(stack: Stack) -> Iterator[None]:
    """Anvil mines nothing inside the block (``evm_mine`` by hand); interval mining after."""
    assert stack.anvil is not None
    stack.anvil_rpc("evm_setIntervalMining", [0])
    try:
        yield
    finally:
        interval = max(1, round(2 * stack.options.block_time_ms / 1000))
        stack.anvil_rpc("evm_setIntervalMining", [interval])


def token(stack: Stack, symbol: str) -> TokenInfo:
    return next(t for t in stack.tokens if t.symbol == symbol)


def lock(stack: Stack, user: LocalAccount, symbol: str, amount: int, recipient: str) -> Sent:
    """Lock on the vault (approve first); returns the transfer as the vault logged it."""
    assert stack.w3c and stack.vault and stack.anvil
    info = token(stack, symbol)
    vault = stack.vault
    dst = stack.anvil.chain_id
    if info.conflux == ZERO:
        receipt = transactions.send(
            stack.w3c, user, vault.functions.lockNative(recipient, dst), value=amount
        )
    else:
        erc20 = transactions.contract_at(stack.w3c, "TestToken", info.conflux)
        transactions.send(stack.w3c, user, erc20.functions.approve(vault.address, amount))
        receipt = transactions.send(
            stack.w3c, user, vault.functions.lock(info.conflux, amount, recipient, dst)
        )
    (event,) = vault.events.Locked().process_receipt(receipt, errors=_DISCARD)
    args = event["args"]
    return Sent(bytes(args["transferId"]), int(args["amount"]), info, recipient, "to_ethereum")


def lock_burst(stack: Stack, user: LocalAccount, symbol: str, amounts: list[int]) -> list[Sent]:
    """Sign and send one lock per amount at once (consecutive nonces, no wait between
    them), then wait for all: a burst as a busy wallet backend sends it."""
    assert stack.w3c and stack.vault and stack.anvil
    w3, vault, info = stack.w3c, stack.vault, token(stack, symbol)
    erc20 = transactions.contract_at(w3, "TestToken", info.conflux)
    transactions.send(w3, user, erc20.functions.approve(vault.address, sum(amounts)))
    nonce = int(w3.eth.get_transaction_count(user.address, "pending"))
    gas_price = int(w3.eth.gas_price)
    hashes = []
    for i, amount in enumerate(amounts):
        call = vault.functions.lock(info.conflux, amount, user.address, stack.anvil.chain_id)
        tx: Any = call.build_transaction(
            {
                "from": user.address,
                "nonce": nonce + i,
                "chainId": w3.eth.chain_id,
                "gas": 300_000,
                "maxFeePerGas": 2 * gas_price + 10**9,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        hashes.append(w3.eth.send_raw_transaction(user.sign_transaction(tx).raw_transaction))
    sent = []
    for tx_hash in hashes:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.2)
        assert receipt["status"] == 1, f"lock {tx_hash.hex()} reverted"
        (event,) = vault.events.Locked().process_receipt(receipt, errors=_DISCARD)
        args = event["args"]
        sent.append(
            Sent(bytes(args["transferId"]), int(args["amount"]), info, user.address, "to_ethereum")
        )
    return sent


def burn(stack: Stack, user: LocalAccount, symbol: str, amount: int, recipient: str) -> Sent:
    assert stack.w3e and stack.gateway and stack.conflux
    info = token(stack, symbol)
    gateway = stack.gateway
    receipt = transactions.send(
        stack.w3e,
        user,
        gateway.functions.burn(info.ethereum, amount, recipient, stack.conflux.chain_id),
    )
    (event,) = gateway.events.Burned().process_receipt(receipt, errors=_DISCARD)
    args = event["args"]
    return Sent(bytes(args["transferId"]), int(args["amount"]), info, recipient, "to_conflux")


def _discard() -> Any:
    from web3.logs import DISCARD

    return DISCARD


_DISCARD = _discard()


EXECUTED = {
    "to_ethereum": ("Released", "Released(bytes32,address,address,uint256)"),
    "to_conflux": ("Unlocked", "Unlocked(bytes32,address,address,uint256)"),
}


def executions(stack: Stack, sent: Sent) -> list[dict[str, Any]]:
    """Every Released/Unlocked log of this transfer id on its destination (must be one)."""
    contract = stack.gateway if sent.direction == "to_ethereum" else stack.vault
    assert contract is not None
    event = getattr(contract.events, EXECUTED[sent.direction][0])()
    return [dict(event.process_log(entry)["args"]) for entry in execution_logs(stack, sent)]


def execution_logs(stack: Stack, sent: Sent) -> list[Any]:
    """The raw Released/Unlocked logs of this transfer id (with their transaction hash)."""
    if sent.direction == "to_ethereum":
        assert stack.gateway and stack.w3e
        contract, w3 = stack.gateway, stack.w3e
    else:
        assert stack.vault and stack.w3c
        contract, w3 = stack.vault, stack.w3c
    signature = EXECUTED[sent.direction][1]
    return w3.eth.get_logs(
        {
            "address": contract.address,
            "fromBlock": max(0, w3.eth.block_number - 900),  # nodes cap getLogs ranges
            "toBlock": "latest",
            "topics": [Web3.keccak(text=signature).to_0x_hex(), "0x" + sent.transfer_id.hex()],
        }
    )


def wait_executed(stack: Stack, sent: Sent, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Wait until the destination has executed ``sent`` (``statusOf`` 1: not merely
    delayed); return its execution logs."""
    deadline = time.monotonic() + timeout
    contract = stack.gateway if sent.direction == "to_ethereum" else stack.vault
    assert contract is not None
    while contract.functions.statusOf(sent.transfer_id).call() != 1:
        if time.monotonic() > deadline:
            raise AssertionError(f"transfer 0x{sent.transfer_id.hex()} not executed in {timeout}s")
        time.sleep(0.25)
    return executions(stack, sent)


def assert_exactly_once(stack: Stack, sent: Sent, timeout: float = 180.0) -> None:
    """The two facts: ``sent`` executed on its destination once, with the exact amount."""
    logs = wait_executed(stack, sent, timeout)
    assert len(logs) == 1, f"0x{sent.transfer_id.hex()} executed {len(logs)} times"
    assert logs[0]["amount"] == sent.amount


def alerts(stack: Stack, validator: int) -> list[dict[str, Any]]:
    """The open alerts of a validator, from its API (``GET /alerts``); none while the API
    does not answer (a restarting relayer)."""
    answer = stack.http_get(validator, "/alerts")
    if answer is None:
        return []
    assert isinstance(answer, list), answer
    return answer


def alerts_cli(stack: Stack, validator: int) -> list[dict[str, Any]]:
    """The open alerts of a validator, as `relayer alerts list` prints them (JSON lines)."""
    config = stack.validators[validator].config_path
    listing = subprocess.run(
        [sys.executable, "-m", "relayer", "alerts", "list", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,  # a CLI start under a loaded machine
    )
    return [json.loads(line) for line in listing.stdout.splitlines() if line.startswith("{")]


def retained_signers(stack: Stack, sent: Sent, listen_s: float = 2.0) -> set[str]:
    """Signers whose attestation of ``sent`` the broker still retains (a fresh subscriber
    receives every retained message at once)."""
    assert stack.broker is not None
    topic = f"{stack.options.topic_prefix}/v1/att/+/0x{sent.transfer_id.hex()}/+"

    async def collect() -> set[str]:
        found: set[str] = set()
        async with aiomqtt.Client("127.0.0.1", stack.broker.port) as client:  # type: ignore[union-attr]
            await client.subscribe(topic, qos=1)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(listen_s):
                    async for message in client.messages:
                        if message.retain and message.payload:
                            found.add(message.topic.value.rsplit("/", 1)[1])
        return found

    return asyncio.run(collect())


def metric_lines(stack: Stack, validator: int) -> list[str]:
    """The validator's /metrics text, line by line."""
    url = stack.validators[validator].http_url + "/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return list(response.read().decode().splitlines())


def metric(stack: Stack, validator: int, name: str, labels: str = "") -> float:
    """One sample's value (0 when absent): ``name{labels}``, or ``name`` alone."""
    prefix = f"{name}{{{labels}}} " if labels else f"{name} "
    for line in metric_lines(stack, validator):
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


def metric_sum(stack: Stack, validator: int, name: str) -> float:
    """The sum of a labelled metric over all its label values."""
    lines = metric_lines(stack, validator)
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name + "{"))


def status(stack: Stack, validator: int, sent: Sent) -> dict[str, Any] | None:
    answer = stack.http_get(validator, "/transfers/0x" + sent.transfer_id.hex())
    return answer if isinstance(answer, dict) else None


def wait_status(
    stack: Stack, validator: int, sent: Sent, wanted: str, timeout: float = 120.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = status(stack, validator, sent)
        if last is not None and last["status"] == wanted:
            return last
        time.sleep(0.25)
    process = stack.relayers.get(validator)
    state = "not running" if process is None else f"exit code {process.exit_code()}"
    tail = "" if process is None else process.log_tail(3000)
    raise AssertionError(
        f"validator {validator}: wanted {wanted}, last status {last} "
        f"(process: {state}; its API {_api_state(stack, validator)})\n{tail}"
    )


def _api_state(stack: Stack, validator: int) -> str:
    """What the validator's API answers now: for a failure's message."""
    url = stack.validators[validator].http_url + "/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return f"answers /healthz {response.status}"
    except urllib.error.HTTPError as err:
        return f"answers /healthz {err.code}"
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        return f"does not answer ({err})"


def wait_until(probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll ``probe`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"condition not met within {timeout}s")


def veto(stack: Stack, validator: int, sent: Sent, reason: str) -> dict[str, Any]:
    """`relayer veto` by ``validator``'s operator; the JSON line it prints."""
    config = stack.validators[validator].config_path
    done = subprocess.run(
        [
            *(sys.executable, "-m", "relayer", "veto", "0x" + sent.transfer_id.hex()),
            *("--reason", reason, "--by", f"operator-{validator}", "--config", str(config)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert isinstance(answer, dict)
    return answer


def source_of(stack: Stack, sent: Sent) -> tuple[Any, Any]:
    """(web3, contract) of the chain and contract where ``sent`` began."""
    if sent.direction == "to_ethereum":
        assert stack.w3c and stack.vault
        return stack.w3c, stack.vault
    assert stack.w3e and stack.gateway
    return stack.w3e, stack.gateway


def refunds(stack: Stack, sent: Sent) -> list[dict[str, Any]]:
    """Every ``Refunded`` log of this transfer id on its source contract (at most one)."""
    w3, contract = source_of(stack, sent)
    signature = "Refunded(bytes32,address,address,uint256)"
    logs = w3.eth.get_logs(
        {
            "address": contract.address,
            "fromBlock": max(0, w3.eth.block_number - 900),
            "toBlock": "latest",
            "topics": [Web3.keccak(text=signature).to_0x_hex(), "0x" + sent.transfer_id.hex()],
        }
    )
    return [dict(contract.events.Refunded().process_log(entry)["args"]) for entry in logs]


def destination_status(stack: Stack, sent: Sent) -> int:
    """``statusOf`` on the destination: 0 unknown, 1 executed, 2 delayed, 3 cancelled."""
    contract = stack.gateway if sent.direction == "to_ethereum" else stack.vault
    assert contract is not None
    return int(contract.functions.statusOf(sent.transfer_id).call())


def assert_refunded_once(stack: Stack, sent: Sent, sender: str, timeout: float = 180.0) -> None:
    """The two facts of a veto: cancelled on the destination (never executed there), and
    refunded once on the source, the exact amount to the sender; every validator says so."""
    for v in range(len(stack.validators)):
        wait_status(stack, v, sent, "refunded", timeout)
    assert destination_status(stack, sent) == 3
    assert executions(stack, sent) == []
    _w3, source = source_of(stack, sent)
    assert int(source.functions.statusOf(sent.transfer_id).call()) == 4
    (refund,) = refunds(stack, sent)
    assert refund["recipient"] == sender
    assert refund["amount"] == sent.amount
