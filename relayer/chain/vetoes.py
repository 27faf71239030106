"""Calldata and submit requests of ``cancel`` (on the destination) and ``refund`` (on the
source), for ``relayer.chain.submitter``."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.chain.bridge import STATUS_OF_SELECTOR, selector
from relayer.chain.submission import SubmitRequest
from relayer.domain.types import Address, Hash32
from relayer.domain.vetoes import RefundTerms

NOT_CANCELLABLE_SELECTOR = keccak(text="NotCancellable(bytes32,uint8)")[:4]
ALREADY_REFUNDED_SELECTOR = keccak(text="AlreadyRefunded(bytes32)")[:4]
_REFUND_TUPLE = "(bytes32,uint64,uint64,address,address,uint256)"

STATUS_UNKNOWN = 0  # statusOf: never executed (nor recorded) here
STATUS_EXECUTED = 1
STATUS_DELAYED = 2
STATUS_CANCELLED = 3
STATUS_REFUNDED = 4


def cancel_calldata(transfer_id: Hash32, bundle: bytes) -> bytes:
    """Calldata of ``cancel(bytes32,bytes)``."""
    return selector("cancel(bytes32,bytes)") + encode(["bytes32", "bytes"], [transfer_id, bundle])


def refund_calldata(terms: RefundTerms, bundle: bytes) -> bytes:
    """Calldata of ``refund(Refund,bytes)``."""
    args = (
        terms.transfer_id,
        terms.nonce,
        terms.dst_chain_id,
        terms.token,
        terms.recipient,
        terms.amount,
    )
    return selector(f"refund({_REFUND_TUPLE},bytes)") + encode(
        [_REFUND_TUPLE, "bytes"], [args, bundle]
    )


def cancel_request(transfer_id: Hash32, to: Address, bundle: bytes, status: int) -> SubmitRequest:
    """``cancel``: to do while ``statusOf`` stays ``status`` (unknown or delayed); the
    contract's ``NotCancellable`` means the id was executed or cancelled meanwhile. Not
    journaled: the journal follows releases, and a resent cancel reverts harmlessly."""
    return SubmitRequest(
        transfer_id,
        to,
        cancel_calldata(transfer_id, bundle),
        pending_check=STATUS_OF_SELECTOR,
        pending_answer=status,
        done_errors=(NOT_CANCELLABLE_SELECTOR,),
        journaled=False,
    )


def refund_request(terms: RefundTerms, to: Address, bundle: bytes) -> SubmitRequest:
    """``refund`` on the source: to do while ``statusOf`` is unknown; ``AlreadyRefunded``
    means it was done."""
    return SubmitRequest(
        terms.transfer_id,
        to,
        refund_calldata(terms, bundle),
        pending_check=STATUS_OF_SELECTOR,
        pending_answer=STATUS_UNKNOWN,
        done_errors=(ALREADY_REFUNDED_SELECTOR,),
        journaled=False,
    )
