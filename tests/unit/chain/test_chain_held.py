"""A release the destination refuses for now (a pause) is Held, not Failed: nothing is
recorded and the runner waits quietly. The revert payloads are the contracts' own errors."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from relayer.chain.bridge import HELD_ERRORS
from relayer.chain.fees import FeePolicy
from relayer.chain.rpc import RpcClient, RpcNodeError
from relayer.chain.submission import (
    AlreadyProcessed,
    Failed,
    Held,
    InMemoryNonceSource,
    SubmitRequest,
)
from relayer.chain.submitter import Submitter, SubmitterConfig
from relayer.domain.types import Address, Hash32
from relayer.keys import signer_from_hex

TID = Hash32(keccak(text="held"))
KEY = "0x" + "11" * 32


def _revert(signature: str, types: list[str], values: list[object]) -> RpcNodeError:
    data = keccak(text=signature)[:4] + encode(types, values)
    return RpcNodeError("eth_estimateGas", 3, "execution reverted", {"data": "0x" + data.hex()})


@pytest.fixture
def submitter() -> Submitter:
    # never connects: _rejection only reads the error it is given
    rpc = RpcClient("http://127.0.0.1:1")
    return Submitter(
        rpc, signer_from_hex(KEY), InMemoryNonceSource(), SubmitterConfig(31337, FeePolicy(10**9))
    )


@pytest.mark.parametrize(
    ("signature", "types", "values", "reason"),
    [
        ("EnforcedPause()", [], [], "the destination contract is paused"),
        ("TokenPaused(address)", ["address"], ["0x" + "22" * 20], "the token is paused"),
        ("RoutePaused(uint64)", ["uint64"], [1030], "the route is paused"),
    ],
)
def test_a_paused_destination_holds_the_release(
    submitter: Submitter, signature: str, types: list[str], values: list[object], reason: str
) -> None:
    request = SubmitRequest(TID, Address(bytes(20)), b"")
    outcome = submitter._rejection(request, _revert(signature, types, values), "estimateGas")
    assert isinstance(outcome, Held)
    assert outcome.transfer_id == TID
    assert outcome.reason.startswith(reason)


def test_done_and_other_reverts_are_not_held(submitter: Submitter) -> None:
    request = SubmitRequest(TID, Address(bytes(20)), b"")
    done = _revert("AlreadyProcessed(bytes32)", ["bytes32"], [bytes(TID)])
    assert submitter._rejection(request, done, "estimateGas") == AlreadyProcessed(TID)
    other = _revert(
        "InsufficientLockedBalance(address,uint256,uint256)",
        ["address", "uint256", "uint256"],
        ["0x" + "22" * 20, 2, 1],
    )
    assert isinstance(submitter._rejection(request, other, "estimateGas"), Failed)
    assert len(HELD_ERRORS) == 3


def test_held_errors_are_errors_of_both_bridge_contracts() -> None:
    from relayer.chain.artifacts import load_artifact

    for name in ("BridgeGateway", "BridgeVault"):
        selectors = {
            keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})")[:4]
            for e in load_artifact(name).abi
            if e["type"] == "error"
        }
        assert set(HELD_ERRORS) <= selectors, name
