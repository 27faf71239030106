"""Generate ``tests/vectors/eip712.json``: EIP-712 vectors shared by forge and pytest.

Deliberately independent of ``relayer.domain``: every hash and signature here comes
from ``eth_account`` (``encode_typed_data`` + ``Account.sign_message``), so the vectors
check our digest code and the contracts against a third implementation. Output is
deterministic (fixed inputs, anvil's well-known dev keys, RFC 6979 signatures).

    .venv/bin/python tests/vectors/make_vectors.py          # rewrite the JSON
    .venv/bin/python tests/vectors/make_vectors.py --check  # exit 1 if stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

OUTPUT = Path(__file__).with_name("eip712.json")

DOMAIN_NAME = "ConfluxBridge"
DOMAIN_VERSION = "1"
RELEASE_TYPE = (
    "Release(bytes32 transferId,uint64 srcChainId,uint64 nonce,address token,"
    "address recipient,uint256 amount)"
)

# anvil / hardhat well-known development keys (public knowledge, never use on mainnet)
ANVIL_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
)

EIP712_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
RELEASE_FIELDS = [
    {"name": "transferId", "type": "bytes32"},
    {"name": "srcChainId", "type": "uint64"},
    {"name": "nonce", "type": "uint64"},
    {"name": "token", "type": "address"},
    {"name": "recipient", "type": "address"},
    {"name": "amount", "type": "uint256"},
]
CANCEL_FIELDS = [{"name": "transferId", "type": "bytes32"}]
REFUND_TYPE = (
    "Refund(bytes32 transferId,uint64 dstChainId,address token,address recipient,uint256 amount)"
)
REFUND_FIELDS = [
    {"name": "transferId", "type": "bytes32"},
    {"name": "dstChainId", "type": "uint64"},
    {"name": "token", "type": "address"},
    {"name": "recipient", "type": "address"},
    {"name": "amount", "type": "uint256"},
]
RELEASE_ROOT_TYPE = "ReleaseRoot(bytes32 root,uint64 srcChainId,uint64 firstNonce,uint64 lastNonce)"
RELEASE_ROOT_FIELDS = [
    {"name": "root", "type": "bytes32"},
    {"name": "srcChainId", "type": "uint64"},
    {"name": "firstNonce", "type": "uint64"},
    {"name": "lastNonce", "type": "uint64"},
]
UPDATE_FIELDS = [
    {"name": "setId", "type": "uint64"},
    {"name": "replacedSetHash", "type": "bytes32"},
    {"name": "deadline", "type": "uint64"},
    {"name": "members", "type": "address[]"},
    {"name": "jurisdictions", "type": "bytes2[]"},
    {"name": "threshold", "type": "uint8"},
    {"name": "minJurisdictions", "type": "uint8"},
]

ZERO = "0x" + "00" * 20
VAULT = to_checksum_address("0x" + "c0" * 19 + "01")  # a Conflux-side vault
GATEWAY = to_checksum_address("0x5fbdb2315678afecb367f032d93f642f64180aa3")  # anvil deploy #0
USDT = to_checksum_address("0xdac17f958d2ee523a2206206994597c13d831ec7")
ALICE = to_checksum_address("0x" + "a1" * 20)
BOB = to_checksum_address("0x" + "b0" * 20)
MAX_ADDR = to_checksum_address("0x" + "ff" * 20)

U64_MAX = 2**64 - 1
U256_MAX = 2**256 - 1


def _tid(label: str) -> str:
    return "0x" + keccak(text=label).hex()


# (name, chainId, verifyingContract, transferId, srcChainId, nonce, token, recipient,
#  amount, key index)
RELEASES: tuple[tuple[str, int, str, str, int, int, str, str, int, int], ...] = (
    ("typical_to_ethereum", 1, GATEWAY, _tid("t1"), 1030, 7, USDT, ALICE, 10**18, 0),
    ("amount_zero", 1, GATEWAY, _tid("t2"), 1030, 0, USDT, ALICE, 0, 1),
    ("amount_one_conflux_testnet", 71, VAULT, _tid("t3"), 11155111, 1, USDT, BOB, 1, 2),
    ("amount_max_conflux_mainnet", 1030, VAULT, _tid("t4"), 1, 42, USDT, BOB, U256_MAX, 3),
    ("nonce_max_sepolia", 11155111, GATEWAY, _tid("t5"), 71, U64_MAX, USDT, ALICE, 5, 4),
    ("native_cfx_conflux", 1030, VAULT, _tid("t6"), 1, 9, ZERO, ALICE, 123456789, 5),
    ("native_token_anvil", 31337, GATEWAY, _tid("t7"), 2030, 3, ZERO, BOB, 10**6, 6),
    (
        "extremes_all",
        1030,
        MAX_ADDR,
        "0x" + "ff" * 32,
        U64_MAX,
        U64_MAX,
        MAX_ADDR,
        MAX_ADDR,
        U256_MAX,
        0,
    ),
    ("zero_everything", 31337, GATEWAY, "0x" + "00" * 32, 0, 0, ZERO, ZERO, 0, 1),
)

# (name, chainId, verifyingContract, setId, key indexes, jurisdictions, threshold, minJ)
ROTATIONS: tuple[tuple[str, int, str, int, tuple[int, ...], tuple[str, ...], int, int], ...] = (
    ("single_member", 31337, GATEWAY, 1, (0,), ("HK",), 1, 1),
    (
        "four_members_three_jurisdictions",
        1,
        GATEWAY,
        2,
        (0, 1, 2, 3),
        ("HK", "SG", "CH", "HK"),
        3,
        2,
    ),
    (
        "seven_members_conflux",
        1030,
        VAULT,
        7,
        (0, 1, 2, 3, 4, 5, 6),
        ("HK", "SG", "CH", "US", "DE", "JP", "GB"),
        5,
        4,
    ),
    ("max_set_id_sepolia", 11155111, MAX_ADDR, U64_MAX, (4, 5, 6), ("US", "US", "DE"), 3, 2),
)


# (name, chainId, verifyingContract, transferId, key index)
CANCELS: tuple[tuple[str, int, str, str, int], ...] = (
    ("cancel_on_ethereum", 1, GATEWAY, _tid("t1"), 0),
    ("cancel_on_conflux", 1030, VAULT, _tid("t4"), 1),
    ("cancel_extremes", 11155111, MAX_ADDR, "0x" + "ff" * 32, 2),
)

# (name, chainId, verifyingContract (where the transfer began), transferId, dstChainId, token,
#  recipient, amount, key index)
REFUNDS: tuple[tuple[str, int, str, str, int, str, str, int, int], ...] = (
    ("refund_lock_on_conflux", 1030, VAULT, _tid("lock-1"), 1, USDT, ALICE, 10**6, 3),
    ("refund_native_lock", 71, VAULT, _tid("lock-2"), 11155111, ZERO, BOB, 1, 4),
    ("refund_burn_on_ethereum", 1, GATEWAY, _tid("burn-1"), 1030, USDT, ALICE, U256_MAX, 5),
    (
        "refund_extremes",
        11155111,
        MAX_ADDR,
        "0x" + "ff" * 32,
        2**64 - 1,
        MAX_ADDR,
        MAX_ADDR,
        U256_MAX,
        6,
    ),
)


# (name, chainId, verifyingContract, root, srcChainId, firstNonce, lastNonce, key index)
ROOTS: tuple[tuple[str, int, str, str, int, int, int, int], ...] = (
    ("root_on_ethereum", 1, GATEWAY, _tid("root-1"), 1030, 1, 64, 0),
    ("root_of_one_on_conflux", 1030, VAULT, _tid("root-2"), 1, 7, 7, 1),
    ("root_extremes", 11155111, MAX_ADDR, "0x" + "ff" * 32, U64_MAX, U64_MAX, U64_MAX, 2),
)


def _address(key: str) -> str:
    return str(Account.from_key(key).address)


def _domain(chain_id: int, verifying_contract: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": verifying_contract,
    }


def _signable(
    primary: str, fields: list[dict[str, str]], domain: dict[str, Any], message: dict[str, Any]
) -> SignableMessage:
    return encode_typed_data(
        full_message={
            "types": {"EIP712Domain": EIP712_DOMAIN_FIELDS, primary: fields},
            "primaryType": primary,
            "domain": domain,
            "message": message,
        }
    )


def release_case(spec: tuple[str, int, str, str, int, int, str, str, int, int]) -> dict[str, Any]:
    name, chain_id, contract, tid, src_chain, nonce, token, recipient, amount, key_ix = spec
    domain = _domain(chain_id, contract)
    message = {
        "transferId": tid,
        "srcChainId": src_chain,
        "nonce": nonce,
        "token": token,
        "recipient": recipient,
        "amount": amount,
    }
    signable = _signable("Release", RELEASE_FIELDS, domain, message)
    key = ANVIL_KEYS[key_ix]
    signed = Account.sign_message(signable, key)
    return {
        "name": name,
        "domain": domain,
        "release": {**message, "amount": str(amount)},
        "domainSeparator": "0x" + signable.header.hex(),
        "structHash": "0x" + signable.body.hex(),
        "digest": "0x" + bytes(signed.message_hash).hex(),
        "privateKey": key,
        "signer": _address(key),
        "signature": "0x" + bytes(signed.signature).hex(),
    }


def rotation_case(
    spec: tuple[str, int, str, int, tuple[int, ...], tuple[str, ...], int, int],
) -> dict[str, Any]:
    name, chain_id, contract, set_id, key_ixs, jurisdictions, threshold, min_j = spec
    members = sorted((_address(ANVIL_KEYS[i]) for i in key_ixs), key=lambda a: int(a, 16))
    domain = _domain(chain_id, contract)
    update = {
        "setId": set_id,
        # what the contract's validatorSetHash() returned for the set being replaced
        "replacedSetHash": "0x" + keccak(text=f"the set before {name}").hex(),
        "deadline": U64_MAX if set_id == U64_MAX else 1_800_000_000 + set_id,
        "members": members,
        "jurisdictions": ["0x" + j.encode("ascii").hex() for j in jurisdictions],
        "threshold": threshold,
        "minJurisdictions": min_j,
    }
    signable = _signable("ValidatorSetUpdate", UPDATE_FIELDS, domain, update)
    signed = Account.sign_message(signable, ANVIL_KEYS[0])  # only for its message_hash
    return {
        "name": name,
        "domain": domain,
        "update": update,
        "digest": "0x" + bytes(signed.message_hash).hex(),
    }


def _signed_case(
    primary: str,
    fields: list[dict[str, str]],
    domain: dict[str, Any],
    message: dict[str, Any],
    key_ix: int,
) -> dict[str, Any]:
    signable = _signable(primary, fields, domain, message)
    key = ANVIL_KEYS[key_ix]
    signed = Account.sign_message(signable, key)
    return {
        "domain": domain,
        "structHash": "0x" + signable.body.hex(),
        "digest": "0x" + bytes(signed.message_hash).hex(),
        "privateKey": key,
        "signer": _address(key),
        "signature": "0x" + bytes(signed.signature).hex(),
    }


def cancel_case(spec: tuple[str, int, str, str, int]) -> dict[str, Any]:
    name, chain_id, contract, tid, key_ix = spec
    message = {"transferId": tid}
    case = _signed_case("Cancel", CANCEL_FIELDS, _domain(chain_id, contract), message, key_ix)
    return {"name": name, "cancel": message, **case}


def refund_case(spec: tuple[str, int, str, str, int, str, str, int, int]) -> dict[str, Any]:
    name, chain_id, contract, tid, dst_chain_id, token, recipient, amount, key_ix = spec
    message = {
        "transferId": tid,
        "dstChainId": dst_chain_id,
        "token": token,
        "recipient": recipient,
        "amount": amount,
    }
    case = _signed_case("Refund", REFUND_FIELDS, _domain(chain_id, contract), message, key_ix)
    return {"name": name, "refund": {**message, "amount": str(amount)}, **case}


def root_case(spec: tuple[str, int, str, str, int, int, int, int]) -> dict[str, Any]:
    name, chain_id, contract, root, src_chain, first, last, key_ix = spec
    message = {"root": root, "srcChainId": src_chain, "firstNonce": first, "lastNonce": last}
    domain = _domain(chain_id, contract)
    case = _signed_case("ReleaseRoot", RELEASE_ROOT_FIELDS, domain, message, key_ix)
    return {"name": name, "releaseRoot": message, **case}


def build() -> dict[str, Any]:
    return {
        "typehash": "0x" + keccak(text=RELEASE_TYPE).hex(),
        "cancelTypehash": "0x" + keccak(text="Cancel(bytes32 transferId)").hex(),
        "refundTypehash": "0x" + keccak(text=REFUND_TYPE).hex(),
        "cases": [release_case(spec) for spec in RELEASES],
        "rotation_cases": [rotation_case(spec) for spec in ROTATIONS],
        "cancel_cases": [cancel_case(spec) for spec in CANCELS],
        "refund_cases": [refund_case(spec) for spec in REFUNDS],
        "releaseRootTypehash": "0x" + keccak(text=RELEASE_ROOT_TYPE).hex(),
        "root_cases": [root_case(spec) for spec in ROOTS],
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
