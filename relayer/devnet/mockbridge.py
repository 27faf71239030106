"""A hand-assembled stand-in for the bridge's release side, for submitter tests.

Runtime behaviour:
- ``isProcessed(bytes32 id)`` returns ``sload(id) != 0`` as a 32-byte bool;
- any other call with ``id = calldata[4:36]`` reverts ``AlreadyProcessed(id)`` if
  ``sload(id) != 0``, else stores 1 at ``id`` (the "release").
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from relayer.chain.bridge import ALREADY_PROCESSED_SELECTOR, IS_PROCESSED_SELECTOR

RELEASE_SELECTOR = keccak(text="release((bytes32,uint64,uint64,address,address,uint256),bytes)")[:4]


def _assemble() -> bytes:
    def push4(value: bytes) -> bytes:
        return b"\x63" + value

    head = (
        bytes.fromhex("600435")  # PUSH1 4 CALLDATALOAD            -> id
        + bytes.fromhex("8054")  # DUP1 SLOAD                       -> done, id
        + bytes.fromhex("60003560e01c")  # PUSH1 0 CALLDATALOAD PUSH1 0xe0 SHR -> sel
        + push4(IS_PROCESSED_SELECTOR)
        + bytes.fromhex("14")  # EQ
    )
    # layout: head, PUSH1 ret JUMPI, PUSH1 rev JUMPI, PUSH1 1 SWAP1 SSTORE STOP, ret:, rev:
    release = bytes.fromhex("6001905500")  # PUSH1 1 SWAP1 SSTORE STOP
    ret = bytes.fromhex("5b") + bytes.fromhex("60005260206000f3")  # JUMPDEST MSTORE RETURN
    rev = (
        bytes.fromhex("5b")
        + push4(ALREADY_PROCESSED_SELECTOR)
        + bytes.fromhex("60e01b600052")  # PUSH1 0xe0 SHL PUSH1 0 MSTORE
        + bytes.fromhex("600452")  # PUSH1 4 MSTORE                  (id at 4..36)
        + bytes.fromhex("60246000fd")  # PUSH1 0x24 PUSH1 0 REVERT
    )
    ret_at = len(head) + 3 + 3 + len(release)
    rev_at = ret_at + len(ret)
    return head + bytes([0x60, ret_at, 0x57, 0x60, rev_at, 0x57]) + release + ret + rev


MOCK_BRIDGE_RUNTIME = _assemble()
MOCK_BRIDGE_INITCODE = (
    bytes([0x60, len(MOCK_BRIDGE_RUNTIME), 0x60, 12, 0x60, 0, 0x39])
    + bytes([0x60, len(MOCK_BRIDGE_RUNTIME), 0x60, 0, 0xF3])
    + MOCK_BRIDGE_RUNTIME
)


def release_calldata(transfer_id: bytes, padding: int = 256) -> bytes:
    """Calldata the mock treats as a release of ``transfer_id`` (padded like a real call)."""
    return RELEASE_SELECTOR + transfer_id + bytes(padding)
