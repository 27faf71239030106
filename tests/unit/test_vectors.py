"""relayer.domain's digests and signature recovery against the shared EIP-712 vectors."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from relayer.domain.digest import (
    CANCEL_TYPEHASH,
    REFUND_TYPEHASH,
    RELEASE_ROOT_TYPEHASH,
    RELEASE_TYPEHASH,
    cancel_digest,
    domain_separator,
    refund_digest,
    release_digest,
    release_root_digest,
    release_struct_hash,
    validator_set_update_digest,
)
from relayer.domain.signature import address_of_private_key, recover_signer, sign_digest
from relayer.domain.types import EvmDomain, Release, parse_address, parse_hash32

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "eip712.json").read_text())


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_vectors", VECTORS_DIR / "make_vectors.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _domain(raw: dict[str, Any]) -> EvmDomain:
    assert raw["name"] == "ConfluxBridge"
    assert raw["version"] == "1"
    return EvmDomain(raw["chainId"], parse_address(raw["verifyingContract"]))


def _release(raw: dict[str, Any]) -> Release:
    return Release(
        transfer_id=parse_hash32(raw["transferId"]),
        src_chain_id=raw["srcChainId"],
        nonce=raw["nonce"],
        token=parse_address(raw["token"]),
        recipient=parse_address(raw["recipient"]),
        amount=int(raw["amount"]),
    )


def _hex(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def test_json_is_a_fresh_run_of_the_generator() -> None:
    generator = _load_generator()
    assert (VECTORS_DIR / "eip712.json").read_text() == generator.render()


def test_typehash_matches() -> None:
    assert _hex(VECTORS["typehash"]) == RELEASE_TYPEHASH


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_release_case(case: dict[str, Any]) -> None:
    domain, release = _domain(case["domain"]), _release(case["release"])
    assert domain_separator(domain) == _hex(case["domainSeparator"])
    assert release_struct_hash(release) == _hex(case["structHash"])
    digest = release_digest(domain, release)
    assert digest == _hex(case["digest"])
    signer = parse_address(case["signer"])
    assert recover_signer(digest, _hex(case["signature"])) == signer
    key = _hex(case["privateKey"])
    assert address_of_private_key(key) == signer
    assert sign_digest(key, digest) == _hex(case["signature"])  # both RFC 6979


@pytest.mark.parametrize("case", VECTORS["rotation_cases"], ids=lambda c: c["name"])
def test_rotation_case(case: dict[str, Any]) -> None:
    update = case["update"]
    digest = validator_set_update_digest(
        _domain(case["domain"]),
        update["setId"],
        parse_hash32(update["replacedSetHash"]),
        update["deadline"],
        [parse_address(m) for m in update["members"]],
        [_hex(j).decode("ascii") for j in update["jurisdictions"]],
        update["threshold"],
        update["minJurisdictions"],
    )
    assert digest == _hex(case["digest"])


def test_vectors_cover_the_edge_cases() -> None:
    releases = [c["release"] for c in VECTORS["cases"]]
    chain_ids = {c["domain"]["chainId"] for c in VECTORS["cases"]}
    assert {1, 71, 1030, 11155111, 31337} <= chain_ids
    assert {"0", "1", str(2**256 - 1)} <= {r["amount"] for r in releases}
    assert 2**64 - 1 in {r["nonce"] for r in releases}
    assert "0x" + "00" * 20 in {r["token"] for r in releases}
    assert len({c["domain"]["verifyingContract"] for c in VECTORS["cases"]}) >= 3


def test_cancel_and_refund_typehashes_match() -> None:
    assert _hex(VECTORS["cancelTypehash"]) == CANCEL_TYPEHASH
    assert _hex(VECTORS["refundTypehash"]) == REFUND_TYPEHASH


@pytest.mark.parametrize("case", VECTORS["cancel_cases"], ids=lambda c: c["name"])
def test_cancel_case(case: dict[str, Any]) -> None:
    digest = cancel_digest(_domain(case["domain"]), parse_hash32(case["cancel"]["transferId"]))
    assert digest == _hex(case["digest"])
    assert recover_signer(digest, _hex(case["signature"])) == parse_address(case["signer"])


@pytest.mark.parametrize("case", VECTORS["refund_cases"], ids=lambda c: c["name"])
def test_refund_case(case: dict[str, Any]) -> None:
    raw = case["refund"]
    digest = refund_digest(
        _domain(case["domain"]),
        parse_hash32(raw["transferId"]),
        int(raw["dstChainId"]),
        parse_address(raw["token"]),
        parse_address(raw["recipient"]),
        int(raw["amount"]),
    )
    assert digest == _hex(case["digest"])
    assert recover_signer(digest, _hex(case["signature"])) == parse_address(case["signer"])
    assert sign_digest(_hex(case["privateKey"]), digest) == _hex(case["signature"])


def test_release_root_typehash_matches() -> None:
    assert _hex(VECTORS["releaseRootTypehash"]) == RELEASE_ROOT_TYPEHASH


@pytest.mark.parametrize("case", VECTORS["root_cases"], ids=lambda c: c["name"])
def test_release_root_case(case: dict[str, Any]) -> None:
    raw = case["releaseRoot"]
    digest = release_root_digest(
        _domain(case["domain"]),
        parse_hash32(raw["root"]),
        int(raw["srcChainId"]),
        int(raw["firstNonce"]),
        int(raw["lastNonce"]),
    )
    assert digest == _hex(case["digest"])
    assert recover_signer(digest, _hex(case["signature"])) == parse_address(case["signer"])
    assert sign_digest(_hex(case["privateKey"]), digest) == _hex(case["signature"])
