"""A thin async JSON-RPC client over one pooled aiohttp session per node, strict about answers.

Every call runs under ``asyncio.timeout``. Failures are sorted into two kinds:

- transient (``RpcError``, retryable): connection refused or reset, timeouts, HTTP 429
  and 5xx, JSON-RPC rate limits (-32005, "rate limit", "too many requests") and
  internal errors (-32603);
- not retried blindly (``RpcResponseError``): malformed answers (truncated JSON,
  missing fields, wrong types) and other JSON-RPC error objects (``RpcNodeError``,
  which carries ``code``, ``message`` and ``data`` so callers can tell a revert, a
  "nonce too low" or a "range too large" apart).

The client posts raw JSON-RPC itself and parses the answers with ``rpc_types``: web3's
provider and formatters are skipped, so nothing half-parsed slips through, and a request
costs 0.19 ms of CPU instead of 0.50 ms through ``AsyncHTTPProvider`` (its caching
wrapper, lock and session manager ran on every call; an idle relayer spent most of its
CPU there; measured with ``eth_getBlockByNumber`` on anvil, docs/performance.md).

Connections: one pooled HTTP session per node with keep-alive and at most
``max_connections`` connections to it (requests beyond that wait for a free one, within
their timeout). web3 8's default session sets ``force_close``: a new TCP connection per
request, which under a burst left hundreds of sockets in TIME-WAIT / CLOSE-WAIT on the
node (``tests/integration/chain/test_chain_rpc.py`` counts the connections).
``RetryPolicy`` retries ``RpcError`` with exponential backoff and jitter (tenacity); a call
that succeeds at once never builds the retry machinery.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from relayer.chain.rpc_types import (
    BlockId,
    BlockRef,
    LogEntry,
    Receipt,
    SentTransaction,
    as_bytes,
    as_hash,
    as_int,
    block_param,
    parse_block,
    parse_log,
    parse_receipt,
    parse_transaction,
)
from relayer.domain.types import Hash32, checksum, hex32
from relayer.errors import RpcError, RpcResponseError
from relayer.log import get_logger

T = TypeVar("T")
log = get_logger("rpc")

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_CONNECTIONS = 8  # per client (one node): a burst queues here, not on the node
KEEPALIVE_SECONDS = 30.0  # an idle pooled connection is closed after this
RATE_LIMIT_CODES = frozenset({-32005, -32029})
INTERNAL_ERROR_CODES = frozenset({-32603})
RATE_LIMIT_WORDS = ("rate limit", "too many requests", "exceeded the quota", "rate exceeded")
# What nodes say when an eth_getLogs window is too wide or returns too many logs
# (geth, Infura, Alchemy, Conflux "exceeds max limit", public endpoints' "smaller range").
RANGE_ERROR_WORDS = (
    "range",
    "too many",
    "more than",
    "exceed",
    "too large",
    "response size",
    "smaller",
    "max limit",
    "limit of",
)


def is_range_error(message: str) -> bool:
    """Whether an error message says the log query was too wide or returned too much."""
    lowered = message.lower()
    return any(word in lowered for word in RANGE_ERROR_WORDS) and not any(
        word in lowered for word in RATE_LIMIT_WORDS
    )


class RpcUnavailableError(RpcError):
    """The node could not be reached, timed out, or answered HTTP 429 / 5xx."""


class RpcRateLimitedError(RpcError):
    """The node answered a JSON-RPC rate-limit error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"rate limited ({code}): {message}")
        self.code = code
        self.message = message


class RpcNodeError(RpcResponseError):
    """The node answered a JSON-RPC error object (a revert, a rejected request)."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method} failed ({code}): {message}")
        self.method = method
        self.code = code
        self.message = message
        self.data = data

    def revert_data(self) -> bytes | None:
        """The revert payload of an ``eth_call`` / ``eth_estimateGas`` error, if any."""
        data = self.data
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            try:
                return bytes.fromhex(data[2:])
            except ValueError:
                return None
        return None


class RpcInternalError(RpcError):
    """The node reported an internal error (-32603); often transient on Conflux."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter for ``RpcError``; give up after either limit."""

    attempts: int = 5
    initial_seconds: float = 0.2
    max_seconds: float = 5.0
    deadline_seconds: float = 30.0

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation``, retrying it on ``RpcError``; re-raises the last error.

        The first attempt runs bare (the common case); after its failure tenacity runs the
        rest of the schedule: waits of ``initial * 2**k`` plus jitter, capped at
        ``max_seconds``, at most ``attempts`` in all and within ``deadline_seconds`` of
        the start."""
        started = time.monotonic()
        try:
            return await operation()
        except RpcError:
            if self.attempts <= 1 or time.monotonic() - started >= self.deadline_seconds:
                raise
        first_wait = min(self.max_seconds, self.initial_seconds)
        jitter = random.uniform(0, self.initial_seconds)  # noqa: S311 (backoff, not a secret)
        await asyncio.sleep(first_wait + jitter)
        remaining = self.deadline_seconds - (time.monotonic() - started)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(RpcError),
            wait=wait_exponential_jitter(
                multiplier=2 * self.initial_seconds,
                max=self.max_seconds,
                jitter=self.initial_seconds,
            ),
            stop=stop_after_attempt(self.attempts - 1) | stop_after_delay(max(0.0, remaining)),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await operation()
        raise AssertionError("unreachable: tenacity re-raises")  # pragma: no cover


NO_RETRY = RetryPolicy(attempts=1)


def classify_error(method: str, error: Any) -> Exception:
    """The exception for a JSON-RPC ``error`` object."""
    if not isinstance(error, dict):
        return RpcResponseError(f"{method}: malformed error object {error!r}")
    code, message = error.get("code"), error.get("message", "")
    if not isinstance(code, int) or not isinstance(message, str):
        return RpcResponseError(f"{method}: malformed error object {error!r}")
    lowered = message.lower()
    if code in RATE_LIMIT_CODES and not is_range_error(message):
        return RpcRateLimitedError(code, message)
    if any(word in lowered for word in RATE_LIMIT_WORDS):
        return RpcRateLimitedError(code, message)
    if code in INTERNAL_ERROR_CODES:
        return RpcInternalError(f"{method} internal error ({code}): {message}")
    return RpcNodeError(method, code, message, error.get("data"))


class _Endpoint:
    """One node's URL and its pooled keep-alive session (one per event loop)."""

    _ids = itertools.count(1)

    def __init__(self, url: str, timeout: float, max_connections: int) -> None:
        self.url = url
        self.timeout = timeout
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        """The pooled session, created on first use in the running event loop."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            self._session = aiohttp.ClientSession(
                raise_for_status=True,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(
                    limit=self.max_connections, keepalive_timeout=KEEPALIVE_SECONDS
                ),
            )
            self._loop = loop
        return self._session

    async def post(self, method: str, params: Sequence[Any]) -> Any:
        """POST one JSON-RPC request; the decoded JSON answer (any JSON value)."""
        body = json.dumps(
            {"jsonrpc": "2.0", "method": method, "params": list(params), "id": next(self._ids)},
            separators=(",", ":"),
        ).encode()
        async with self.session().post(self.url, data=body, headers=_JSON_HEADERS) as response:
            raw = await response.read()
        return json.loads(raw)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


_JSON_HEADERS = {"Content-Type": "application/json"}


class RpcClient:
    """One chain's endpoint (and its fallbacks). Use as ``async with RpcClient(url) as rpc:``
    or call ``close``."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        retry: RetryPolicy | None = None,
        on_error: Callable[[str, RpcError | RpcResponseError], None] | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        fallback_urls: Sequence[str] = (),
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        urls = [url, *fallback_urls]
        if len({u.rstrip("/") for u in urls}) != len(urls):
            raise ValueError("the RPC endpoints of one client must differ")
        self.timeout = timeout
        self.max_connections = max_connections
        self.retry = retry or RetryPolicy()
        self.on_error = on_error  # told of every failed call (metrics), retried or not
        self._endpoints = [_Endpoint(u, timeout, max_connections) for u in urls]
        self._current = 0  # the endpoint in use; moves on when it stops answering

    @property
    def url(self) -> str:
        """The endpoint in use (``url``, or a fallback after it stopped answering)."""
        return self._endpoints[self._current].url

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP sessions."""
        async with asyncio.timeout(self.timeout):
            for endpoint in self._endpoints:
                await endpoint.close()

    async def request_once(self, method: str, params: Sequence[Any]) -> Any:
        """One JSON-RPC call, no retry: the ``result`` or a classified exception. When the
        endpoint in use is unavailable (refused, timed out, HTTP 429/5xx) the next call goes
        to the next endpoint (fallbacks in order, then round again)."""
        index = self._current
        try:
            return await self._request_once(self._endpoints[index], method, params)
        except (RpcError, RpcResponseError) as err:
            # concurrent failures of the same endpoint move on once
            if isinstance(err, RpcUnavailableError) and self._current == index:
                self._current = (index + 1) % len(self._endpoints)
                if self._current != index:
                    log.warning(
                        "rpc endpoint unavailable; switching",
                        failed=self._endpoints[index].url,
                        now=self.url,
                        error=str(err),
                    )
            if self.on_error is not None:
                self.on_error(method, err)
            raise

    async def _request_once(self, endpoint: _Endpoint, method: str, params: Sequence[Any]) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                answer = await endpoint.post(method, params)
        except TimeoutError as err:
            raise RpcUnavailableError(f"{method}: timed out after {self.timeout}s") from err
        except aiohttp.ClientResponseError as err:
            if err.status == 429 or err.status >= 500:
                raise RpcUnavailableError(f"{method}: HTTP {err.status}") from err
            raise RpcResponseError(f"{method}: HTTP {err.status} {err.message}") from err
        except (aiohttp.ClientError, OSError) as err:
            raise RpcUnavailableError(f"{method}: {type(err).__name__}: {err}") from err
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
            raise RpcResponseError(f"{method}: answer is not JSON: {err!s:.200}") from err
        if not isinstance(answer, dict):
            raise RpcResponseError(f"{method}: answer is not a JSON object: {answer!r}")
        if "error" in answer and answer["error"] is not None:
            raise classify_error(method, answer["error"])
        if "result" not in answer:
            raise RpcResponseError(f"{method}: answer has neither result nor error")
        return answer["result"]

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """``request_once`` under the client's retry policy."""
        return await self.retry.run(lambda: self.request_once(method, params))

    # --- typed calls ------------------------------------------------------------------

    async def chain_id(self) -> int:
        """``eth_chainId``."""
        return as_int(await self.request("eth_chainId"), "chainId")

    async def block_number(self) -> int:
        """``eth_blockNumber``."""
        return as_int(await self.request("eth_blockNumber"), "blockNumber")

    async def get_block(self, block: BlockId) -> BlockRef | None:
        """The header of a block by number or tag; ``None`` if the node has no such block."""
        raw = await self.request("eth_getBlockByNumber", [block_param(block), False])
        return None if raw is None else parse_block(raw)

    async def get_logs(
        self,
        address: bytes | Sequence[bytes] | None,
        topics: Sequence[bytes | Sequence[bytes] | None],
        from_block: int,
        to_block: int,
    ) -> list[LogEntry]:
        """``eth_getLogs`` over ``[from_block, to_block]`` (inclusive)."""
        filt: dict[str, Any] = {"fromBlock": hex(from_block), "toBlock": hex(to_block)}
        if isinstance(address, bytes):
            filt["address"] = checksum(address)
        elif address is not None:
            filt["address"] = [checksum(a) for a in address]
        filt["topics"] = [_topic_param(t) for t in topics]
        raw = await self.request("eth_getLogs", [filt])
        if not isinstance(raw, list):
            raise RpcResponseError(f"eth_getLogs: expected a list, got {type(raw).__name__}")
        return [parse_log(entry) for entry in raw]

    async def get_code(self, address: bytes, block: BlockId = "latest") -> bytes:
        """``eth_getCode``."""
        raw = await self.request("eth_getCode", [checksum(address), block_param(block)])
        return as_bytes(raw, "code")

    async def call(self, to: bytes, data: bytes, block: BlockId = "latest") -> bytes:
        """``eth_call``; a revert raises ``RpcNodeError`` (see ``revert_data``)."""
        tx = {"to": checksum(to), "data": "0x" + data.hex()}
        return as_bytes(await self.request("eth_call", [tx, block_param(block)]), "call")

    async def estimate_gas(self, tx: dict[str, Any]) -> int:
        """``eth_estimateGas`` for a JSON-RPC transaction object."""
        return as_int(await self.request("eth_estimateGas", [tx]), "estimateGas")

    async def send_raw_transaction(self, raw_tx: bytes) -> Hash32:
        """``eth_sendRawTransaction``, never retried here: the submitter decides."""
        result = await self.request_once("eth_sendRawTransaction", ["0x" + raw_tx.hex()])
        return as_hash(result, "transaction hash")

    async def get_transaction_receipt(self, tx_hash: bytes) -> Receipt | None:
        """The receipt, or ``None`` while the transaction is not mined."""
        raw = await self.request("eth_getTransactionReceipt", [hex32(tx_hash)])
        return None if raw is None else parse_receipt(raw)

    async def get_transaction(self, tx_hash: bytes) -> SentTransaction | None:
        """The transaction as the node holds it (in its pool or mined), or ``None`` when it
        does not know it (``eth_getTransactionByHash``)."""
        raw = await self.request("eth_getTransactionByHash", [hex32(tx_hash)])
        return None if raw is None else parse_transaction(raw)

    async def get_transaction_count(self, address: bytes, block: BlockId = "pending") -> int:
        """The account nonce (``pending`` counts the mempool)."""
        raw = await self.request("eth_getTransactionCount", [checksum(address), block_param(block)])
        return as_int(raw, "transactionCount")

    async def get_balance(self, address: bytes, block: BlockId = "latest") -> int:
        """``eth_getBalance`` in wei."""
        raw = await self.request("eth_getBalance", [checksum(address), block_param(block)])
        return as_int(raw, "balance")

    async def base_fee(self) -> int:
        """The latest block's base fee (``baseFeePerGas``).

        Read from the block: this client has no ``eth_feeHistory``, which hangs
        conflux-rust (see ``relayer.chain.fees``).
        """
        block = await self.get_block("latest")
        if block is None or block.base_fee is None:
            raise RpcResponseError("latest block has no baseFeePerGas")
        return block.base_fee

    async def gas_price(self) -> int:
        """``eth_gasPrice``: the node's legacy gas price (base fee plus a tip)."""
        return as_int(await self.request("eth_gasPrice"), "gasPrice")

    async def max_priority_fee(self) -> int:
        """``eth_maxPriorityFeePerGas``: the node's tip suggestion.

        Never on Conflux (it hangs conflux-rust): called only where
        ``relayer.chain.fees.tip_source`` says ``TipFromNode``.
        """
        return as_int(await self.request("eth_maxPriorityFeePerGas"), "maxPriorityFeePerGas")


def _topic_param(topic: bytes | Sequence[bytes] | None) -> str | list[str] | None:
    if topic is None:
        return None
    if isinstance(topic, bytes):
        return hex32(topic)
    return [hex32(t) for t in topic]
