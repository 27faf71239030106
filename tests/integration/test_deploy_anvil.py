"""Deploy helpers on real anvils: lock -> signed release -> burn -> signed unlock, round trip.

Two anvils play the two chains (2030 for Conflux eSpace, 31337 for Ethereum), so each
contract's EIP-712 domain and peer-chain registration are the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD

from relayer.chain import transactions
from relayer.devnet import deploy, signing
from relayer.devnet.anvil import AnvilNode
from relayer.domain.types import Address, Hash32, Release

CONFLUX_ID = 2030
ETHEREUM_ID = 31337


def _addr(text: str) -> Address:
    return Address(bytes.fromhex(text[2:]))


@dataclass
class Bridge:
    w3_cfx: Web3
    w3_eth: Web3
    admin_cfx: LocalAccount
    admin_eth: LocalAccount
    user: LocalAccount
    validators: list[LocalAccount]
    vset: deploy.ValidatorSetSpec
    vault: Contract
    gateway: Contract
    token: Contract
    mirror: Contract


@pytest.fixture(scope="module")
def bridge() -> Iterator[Bridge]:
    with (
        AnvilNode.start_sync(chain_id=CONFLUX_ID) as cfx,
        AnvilNode.start_sync(chain_id=ETHEREUM_ID) as eth,
    ):
        w3_cfx = Web3(Web3.HTTPProvider(cfx.rpc_url))
        w3_eth = Web3(Web3.HTTPProvider(eth.rpc_url))
        admin_cfx = Account.from_key(cfx.funded_keys[0])
        admin_eth = Account.from_key(eth.funded_keys[0])
        user = Account.from_key(cfx.funded_keys[1])  # same key is funded on both anvils
        validators = [Account.from_key(keccak(f"it-validator-{i}".encode())) for i in range(4)]
        vset = deploy.ValidatorSetSpec.from_accounts(
            validators, ["HK", "SG", "CH", "US"], min_jurisdictions=2
        )
        vault = deploy.deploy_vault(w3_cfx, admin_cfx, admin_cfx.address, vset)
        gateway = deploy.deploy_gateway(w3_eth, admin_eth, admin_eth.address, vset)
        deploy.connect_bridges(
            w3_cfx, admin_cfx, vault, CONFLUX_ID, w3_eth, admin_eth, gateway, ETHEREUM_ID
        )
        token = deploy.deploy_test_token(w3_cfx, admin_cfx, "Tether USD", "USDT", 6)
        deploy.register_vault_token(w3_cfx, admin_cfx, vault, token.address)
        mirror = deploy.register_gateway_token(
            w3_eth, admin_eth, gateway, CONFLUX_ID, token.address, "Bridged USDT", "USDT.cfx", 6
        )
        yield Bridge(
            w3_cfx,
            w3_eth,
            admin_cfx,
            admin_eth,
            user,
            validators,
            vset,
            vault,
            gateway,
            token,
            mirror,
        )


def test_validator_set_view_matches_spec(bridge: Bridge) -> None:
    set_id, members, codes, threshold, min_j = bridge.gateway.functions.validatorSet().call()
    assert set_id == 1
    assert tuple(members) == bridge.vset.members
    assert tuple(c.decode() for c in codes) == bridge.vset.jurisdictions
    assert (threshold, min_j) == (3, 2)
    assert list(bridge.vset.members) == sorted(bridge.vset.members, key=lambda a: int(a, 16))


def test_release_digest_matches_eth_account(bridge: Bridge) -> None:
    rel = Release(
        Hash32(b"\x11" * 32),
        CONFLUX_ID,
        5,
        _addr(bridge.mirror.address),
        _addr(bridge.user.address),
        7,
    )
    typed = signing.release_typed_data(rel, ETHEREUM_ID, bridge.gateway.address)
    expected = encode_typed_data(full_message=typed)
    digest = bridge.gateway.functions.hashRelease(signing.release_args(rel)).call()
    assert digest == keccak(b"\x19" + expected.version + expected.header + expected.body)


def test_lock_release_burn_unlock_round_trip(bridge: Bridge) -> None:
    b = bridge
    w3c, w3e, user = b.w3_cfx, b.w3_eth, b.user
    recipient_eth = Account.from_key(keccak(b"it-recipient-eth")).address
    recipient_cfx = Account.from_key(keccak(b"it-recipient-cfx")).address

    # lock on "Conflux"
    transactions.send(w3c, user, b.token.functions.mint(user.address, 10_000))
    transactions.send(w3c, user, b.token.functions.approve(b.vault.address, 10_000))
    receipt = transactions.send(
        w3c, user, b.vault.functions.lock(b.token.address, 1_000, recipient_eth, ETHEREUM_ID)
    )
    (locked,) = b.vault.events.Locked().process_receipt(receipt, errors=DISCARD)
    assert locked.args.amount == 1_000
    assert locked.args.transferId == signing.transfer_id(
        CONFLUX_ID, b.vault.address, locked.args.nonce
    )
    assert b.vault.functions.lockedBalance(b.token.address).call() == 1_000

    # validators attest; anyone submits the release on "Ethereum"
    rel = Release(
        Hash32(locked.args.transferId),
        CONFLUX_ID,
        locked.args.nonce,
        _addr(b.mirror.address),
        _addr(recipient_eth),
        locked.args.amount,
    )
    sigs = signing.sign_release(
        rel, ETHEREUM_ID, b.gateway.address, b.validators[: b.vset.threshold]
    )
    assert len(sigs) == 65 * b.vset.threshold
    receipt = transactions.send(
        w3e, b.admin_eth, b.gateway.functions.release(signing.release_args(rel), sigs)
    )
    (released,) = b.gateway.events.Released().process_receipt(receipt, errors=DISCARD)
    assert released.args.recipient == recipient_eth
    assert b.mirror.functions.balanceOf(recipient_eth).call() == 1_000
    assert b.gateway.functions.isProcessed(rel.transfer_id).call()
    with pytest.raises((ContractCustomError, ContractLogicError)):
        b.gateway.functions.release(signing.release_args(rel), sigs).call()

    # burn back from the recipient (fund it with gas first)
    burner = Account.from_key(keccak(b"it-recipient-eth"))
    w3e.provider.make_request("anvil_setBalance", [burner.address, hex(10**18)])  # type: ignore[arg-type]
    receipt = transactions.send(
        w3e, burner, b.gateway.functions.burn(b.mirror.address, 400, recipient_cfx, CONFLUX_ID)
    )
    (burned,) = b.gateway.events.Burned().process_receipt(receipt, errors=DISCARD)
    assert burned.args.token == b.mirror.address
    assert b.gateway.functions.sourceOf(b.mirror.address).call() == [CONFLUX_ID, b.token.address]
    assert b.mirror.functions.totalSupply().call() == 600

    # validators attest the burn; unlock on "Conflux"
    back = Release(
        Hash32(burned.args.transferId),
        ETHEREUM_ID,
        burned.args.nonce,
        _addr(b.token.address),
        _addr(recipient_cfx),
        burned.args.amount,
    )
    sigs = signing.sign_release(back, CONFLUX_ID, b.vault.address, b.validators[1:])
    transactions.send(w3c, b.admin_cfx, b.vault.functions.unlock(signing.release_args(back), sigs))
    assert b.token.functions.balanceOf(recipient_cfx).call() == 400
    assert b.vault.functions.lockedBalance(b.token.address).call() == 600
    assert b.vault.functions.isProcessed(back.transfer_id).call()
    # conservation: what is minted on Ethereum is still locked on Conflux
    assert (
        b.mirror.functions.totalSupply().call()
        <= b.vault.functions.lockedBalance(b.token.address).call()
    )


def test_release_with_too_few_signatures_reverts(bridge: Bridge) -> None:
    b = bridge
    rel = Release(
        Hash32(b"\x22" * 32), CONFLUX_ID, 99, _addr(b.mirror.address), _addr(b.user.address), 1
    )
    sigs = signing.sign_release(rel, ETHEREUM_ID, b.gateway.address, b.validators[:2])
    with pytest.raises((ContractCustomError, ContractLogicError)):
        b.gateway.functions.release(signing.release_args(rel), sigs).call()


def test_rotation_signed_with_helper(bridge: Bridge) -> None:
    b = bridge
    new_validators = [Account.from_key(keccak(f"it-next-{i}".encode())) for i in range(4)]
    new_set = deploy.ValidatorSetSpec.from_accounts(
        new_validators, ["HK", "SG", "JP", "DE"], min_jurisdictions=3
    )
    replaced = b.vault.functions.validatorSetHash().call()
    deadline = b.w3_cfx.eth.get_block("latest")["timestamp"] + 3600
    typed = signing.set_update_typed_data(
        2, new_set, CONFLUX_ID, b.vault.address, replaced, deadline
    )
    sigs = signing.sign_bundle(typed, b.validators[:3])
    members, codes, threshold, min_j = new_set.constructor_args()
    transactions.send(
        w3 := b.w3_cfx,
        b.admin_cfx,
        b.vault.functions.rotateValidatorSet(members, codes, threshold, min_j, deadline, sigs),
    )
    assert b.vault.functions.validatorSetHash().call() != replaced
    set_id, got_members, *_ = b.vault.functions.validatorSet().call()
    assert set_id == 2
    assert tuple(got_members) == new_set.members
    prev = b.vault.functions.previousValidatorSet().call()
    assert prev[0] == 1
    assert prev[5] > w3.eth.get_block("latest")["timestamp"]
