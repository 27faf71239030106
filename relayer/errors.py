"""The relayer's one exception root, split into "retry", "skip this input" and "stop".

`RetryableError` means the operation may succeed later (an RPC timeout, a broker
outage, a database restart): callers retry with backoff. `RejectedInputError` means this
one input is bad (a malformed node answer, an undecodable gossip message): the loop that
met it logs it, skips it and goes on with the next; retrying the same input cannot help,
and it must not stop the others. `FatalError` means retrying cannot help and going on is
unsafe (bad configuration, a safety halt): the supervisor stops the process with a
non-zero exit code. Subclasses also inherit the closest builtin where one fits, so
callers that know nothing of the relayer still catch them sensibly.

Always chain the cause: ``raise RpcUnavailableError(...) from err``.
"""

from __future__ import annotations


class RelayerError(Exception):
    """Root of every error the relayer raises on purpose."""


class RetryableError(RelayerError):
    """A transient failure: the same operation may succeed if tried again later."""


class FatalError(RelayerError):
    """A failure that retrying cannot fix; the process must stop and say why."""


class ConfigError(FatalError, ValueError):
    """A setting is missing, malformed or contradicts what the chain reports."""


class SafetyHaltError(FatalError):
    """The relayer refuses to go on signing: a reorg below a signed event, a key clash."""


class SignerError(FatalError):
    """The key's holder (an HSM) failed to sign or signed wrongly; a restart reopens it."""


class SignerUnavailableError(RetryableError):
    """A remote key holder (a cloud KMS) throttled or did not answer within its timeout,
    after its bounded retries: nothing was signed, so the same signing may be tried later."""


class RpcError(RetryableError):
    """A chain node failed to answer, answered an error, or timed out."""


class RejectedInputError(RelayerError, ValueError):
    """This input is rejected: skip it (see the module docstring)."""


class RpcResponseError(RejectedInputError):
    """A chain node answered something malformed or inconsistent (not retried blindly)."""


class BrokerError(RetryableError):
    """The MQTT broker is unreachable or dropped the connection."""


class StoreError(RetryableError):
    """The database is unreachable or a transaction failed for a transient reason."""


class WireError(RejectedInputError):
    """A gossip message could not be decoded or failed validation."""
