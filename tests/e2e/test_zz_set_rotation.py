"""End to end: the running five-validator set (HK, SG, AE; threshold 4, two jurisdictions)
is rotated to six validators with a new jurisdiction, TH (threshold 5, three
jurisdictions), through ``relayer set`` while transfers flow.

* a sixth relayer is started outside the set (``Stack.add_validator``);
* validator 0's operator proposes (bad input first: exit 2, one line, nothing recorded),
  the proposal reaches every relayer by gossip, four operators approve, and one relayer
  sends ``rotateValidatorSet`` on each chain;
* during the grace window a release signed by four members of the old set (its
  threshold, below the new one) is still accepted; after ``relayer set expire-previous``
  (which prints the admin's call, the validators holding no role) and the admin's
  ``expirePreviousSet``, the same bundle is refused;
* every transfer sent before, during and after the rotation executes exactly once, and
  the new validator signs the transfers after it (its attestation is counted by a peer).

Named ``test_zz_…`` on purpose: the e2e ``bridge`` stack is shared by every test of this
folder in one session, and pytest runs files alphabetically; a rotation changes the set
(and adds a relayer) for every test after it, so this one runs last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from bridge_client import Sent, assert_exactly_once, burn, lock, wait_status, wait_until
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from relayer.chain import transactions
from relayer.devnet.signing import release_args, sign_release, transfer_id
from relayer.devnet.stack import Stack
from relayer.domain.types import Hash32, Release, parse_address

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

BELOW_THRESHOLD = bytes(Web3.keccak(text="BelowThreshold(uint256,uint256)"))[:4].hex()


def relayer_set(stack: Stack, validator: int, *args: str) -> subprocess.CompletedProcess[str]:
    """``relayer set …`` with ``validator``'s settings (and its HSM's environment, if its
    key is in a token: ``approve`` signs with it)."""
    config = str(stack.validators[validator].config_path)
    hsm = stack.hsm_keys.get(validator)
    return subprocess.run(
        [sys.executable, "-m", "relayer", "set", *args, "--config", config],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            **(hsm.env() if hsm is not None else {}),
            "RELAYER_LOG__LEVEL": "warning",
        },
    )


def set_of(contract: Any) -> tuple[int, list[str], int, int]:
    set_id, members, _codes, threshold, min_j = contract.functions.validatorSet().call()
    return int(set_id), [str(m) for m in members], int(threshold), int(min_j)


def old_set_probe(stack: Stack, nonce: int) -> tuple[tuple[Any, ...], bytes]:
    """A release (never sent: only eth_call'd) signed by four members of the old set
    whose keys are not in a token, spanning two jurisdictions or more: the old set's
    threshold, one short of the new one's."""
    assert stack.conflux and stack.anvil and stack.vault and stack.gateway
    cfxt = next(t for t in stack.tokens if t.symbol == "CFXT")
    release = Release(
        transfer_id=Hash32(transfer_id(stack.conflux.chain_id, stack.vault.address, nonce)),
        src_chain_id=stack.conflux.chain_id,
        nonce=nonce,
        token=parse_address(cfxt.ethereum),
        recipient=parse_address(stack.users[2].address),
        amount=1,
    )
    local = [v for v in stack.validators[:5] if v.index not in stack.hsm_keys]  # keys at hand
    signers = [Account.from_key(v.private_key) for v in local[:4]]
    assert len({v.jurisdiction for v in local[:4]}) >= 2  # the old set's min jurisdictions
    bundle = sign_release(release, stack.anvil.chain_id, stack.gateway.address, signers)
    return release_args(release), bundle


def probe_accepted(stack: Stack, probe: tuple[tuple[Any, ...], bytes]) -> str:
    """ "accepted" if the gateway would execute the probe; else the revert data."""
    assert stack.gateway is not None
    args, bundle = probe
    try:
        stack.gateway.functions.release(args, bundle).call({"from": stack.users[2].address})
    except (ContractLogicError, ContractCustomError) as err:
        return str(err.data if err.data is not None else err)
    return "accepted"


def test_rotate_to_six_validators_with_a_new_jurisdiction_while_transfers_flow(
    bridge: Stack,
) -> None:
    started = time.monotonic()
    assert bridge.vault is not None and bridge.gateway is not None
    assert bridge.w3c is not None and bridge.w3e is not None
    assert bridge.deployer_c is not None and bridge.deployer_e is not None
    user = bridge.users[0]
    unit = 10**18
    assert set_of(bridge.gateway)[2:] == (4, 2)
    old_members = set_of(bridge.gateway)[1]
    assert set_of(bridge.vault)[1] == old_members

    sent: list[Sent] = [lock(bridge, user, "CFXT", 3 * unit, user.address)]

    new = bridge.add_validator("TH")
    assert new.index == 5 and new.address not in old_members

    # bad input: one line, exit 2, nothing recorded
    bad = relayer_set(
        bridge,
        0,
        "propose",
        "--add",
        "0xnot-an-address:TH",
        "--threshold",
        "5",
        "--min-jurisdictions",
        "3",
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    low = relayer_set(
        bridge,
        0,
        "propose",
        "--add",
        f"{new.address}:TH",
        "--threshold",
        "4",
        "--min-jurisdictions",
        "3",
    )
    assert low.returncode == 2 and "ThresholdTooLow" in low.stderr, low.stderr
    listed = relayer_set(bridge, 0, "status", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr

    made = relayer_set(
        bridge,
        0,
        "propose",
        "--add",
        f"{new.address}:TH",
        "--threshold",
        "5",
        "--min-jurisdictions",
        "3",
        "--deadline-s",
        "3600",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    proposal = json.loads(made.stdout)
    pid = proposal["proposal_id"]
    assert proposal["set_id"] == 2 and proposal["replaces_set_id"] == 1
    assert proposal["added"] == [new.address] and proposal["removed"] == []
    assert sorted(set(proposal["jurisdictions"])) == ["AE", "HK", "SG", "TH"]
    assert len(proposal["members"]) == 6

    sent.append(lock(bridge, user, "CFXT", 5 * unit, user.address))

    # four operators approve (HK, SG, AE, HK): the old threshold, three jurisdictions;
    # each retries until the proposal reached its relayer by gossip
    for v in range(4):

        def approved(v: int = v) -> dict[str, Any] | None:
            done = relayer_set(bridge, v, "approve", pid)
            if done.returncode == 0:
                answer: dict[str, Any] = json.loads(done.stdout)
                return answer
            assert "no proposal" in done.stderr, done.stderr
            return None

        answer = wait_until(approved, timeout=60)
        assert answer["already_approved"] is False
        sent.append(lock(bridge, bridge.users[1], "CFXT", (v + 1) * unit, user.address))

    # one relayer sends rotateValidatorSet on each chain
    wait_until(lambda: set_of(bridge.gateway)[0] == 2 and set_of(bridge.vault)[0] == 2, 120)
    for contract in (bridge.gateway, bridge.vault):
        set_id, members, threshold, min_j = set_of(contract)
        assert set_id == 2 and threshold == 5 and min_j == 3
        assert sorted(members, key=str.lower) == sorted([*old_members, new.address], key=str.lower)
    prev = bridge.gateway.functions.previousValidatorSet().call()
    assert prev[0] == 1 and prev[5] > bridge.w3e.eth.get_block("latest")["timestamp"]

    def applied() -> dict[str, Any] | None:
        done = relayer_set(bridge, 2, "status", pid, "--json")
        assert done.returncode == 0, done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer if all(c["state"] == "applied" for c in answer["chains"]) else None

    status = wait_until(applied, timeout=60)
    assert all(c["quorum_reached"] for c in status["chains"])
    assert all(len(c["signers"]) >= 4 for c in status["chains"])

    # the grace window: the old set's signatures (its threshold of four) still count
    probe = old_set_probe(bridge, nonce=2**60)
    assert probe_accepted(bridge, probe) == "accepted"

    # transfers signed by the old set before the rotation completed, and those sent during
    # it, each execute exactly once
    for each in sent:
        assert_exactly_once(bridge, each)

    # the incident procedure: validators hold no role, so the admin's call is printed
    expire = relayer_set(bridge, 0, "expire-previous", "--chain", "ethereum")
    assert expire.returncode == 0, expire.stderr
    told = json.loads(expire.stdout)
    assert told["sent"] is False and told["previous_set_id"] == 1
    assert (
        told["admin_call"]["data"]
        == "0x" + bytes(Web3.keccak(text="expirePreviousSet()"))[:4].hex()
    )
    transactions.send(bridge.w3e, bridge.deployer_e, bridge.gateway.functions.expirePreviousSet())
    transactions.send(bridge.w3c, bridge.deployer_c, bridge.vault.functions.expirePreviousSet())
    refused = probe_accepted(bridge, probe)
    assert refused != "accepted" and BELOW_THRESHOLD in refused.removeprefix("0x"), refused
    gone = relayer_set(bridge, 0, "expire-previous", "--chain", "conflux")
    assert gone.returncode == 2 and "nothing to expire" in gone.stderr, gone.stderr

    # after the rotation: the new validator signs, its signature counts, nothing is lost
    after = lock(bridge, user, "CFXT", 7 * unit, user.address)
    assert_exactly_once(bridge, after)
    wait_status(bridge, new.index, after, "released", timeout=120)

    def counted_by_peer() -> bool:
        answer = bridge.http_get(0, "/transfers/0x" + after.transfer_id.hex())
        signers = [] if not isinstance(answer, dict) else answer["attestations"]["signers"]
        return any(s["address"] == new.address and s["jurisdiction"] == "TH" for s in signers)

    wait_until(counted_by_peer, timeout=90)
    back = burn(bridge, user, "CFXT", 2 * unit, user.address)  # the vault's new set too
    assert_exactly_once(bridge, back)
    print(f"rotation e2e: {time.monotonic() - started:.0f}s")
