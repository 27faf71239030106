"""Set rotation against a real BridgeGateway on anvil: the proposal's digest is the
contract's ``hashValidatorSetUpdate``, the service sends ``rotateValidatorSet`` with the
current quorum's bundle and records it applied, and ``expirePreviousSet`` closes the
grace window (the calls ``relayer set`` makes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from relayer.chain.bridge import BridgeContract
from relayer.chain.fees import FeePolicy
from relayer.chain.rotation import (
    DEFAULT_ADMIN_ROLE,
    PAUSER_ROLE,
    expire_calldata,
    has_role,
    validator_set_hash,
)
from relayer.chain.rpc import RpcClient
from relayer.chain.submission import Mined, SubmitRequest
from relayer.chain.submitter import Submitter, SubmitterConfig
from relayer.devnet import deploy
from relayer.devnet.anvil import AnvilNode
from relayer.domain.rotation import (
    Applied,
    ChainTarget,
    ReadyToSubmit,
    SetProposal,
    SetSignature,
    propose,
)
from relayer.domain.types import Hash32, parse_address
from relayer.gossip.sets import ChainSignature, SetApprovalMessage
from relayer.keys import signer_from_hex
from relayer.service.books import SetBook
from relayer.service.rotation import Rotations
from relayer.service.submit import Destination, StoreNonceSource, StoreSendJournal
from relayer.service.writer import Writer
from relayer.store import SetOutcomeState, Store, upgrade

pytestmark = pytest.mark.asyncio(loop_scope="session")
GWEI = 10**9


async def test_rotate_then_expire_the_previous_set_on_a_real_gateway(
    anvil_node: AnvilNode, anvil_rpc: RpcClient, tmp_path: Path
) -> None:
    w3 = Web3(Web3.HTTPProvider(anvil_node.rpc_url))
    admin = Account.from_key(anvil_node.funded_keys[6])
    validators = [Account.from_key(keccak(f"rotation-validator-{i}".encode())) for i in range(4)]
    spec = deploy.ValidatorSetSpec.from_accounts(
        validators, ["HK", "SG", "CH", "US"], min_jurisdictions=2
    )
    gateway = deploy.deploy_gateway(w3, admin, admin.address, spec)
    address = parse_address(gateway.address)
    contract = BridgeContract(anvil_rpc, address, 31337)

    current = await contract.validator_set()
    replaced = await validator_set_hash(contract)
    assert replaced == bytes(gateway.functions.validatorSetHash().call())
    block = await anvil_rpc.get_block("latest")
    assert block is not None
    newcomer = parse_address(Account.from_key(keccak(b"rotation-newcomer")).address)
    made = propose(
        current,
        [ChainTarget(31337, address, replaced)],
        [(newcomer, "TH")],
        [],
        4,
        3,
        block.timestamp + 3600,
        block.timestamp,
    )
    assert isinstance(made, SetProposal)
    target = made.chains[0]
    onchain = gateway.functions.hashValidatorSetUpdate(
        2,
        replaced,
        made.deadline,
        [Web3.to_checksum_address(m.address) for m in made.members],
        [m.jurisdiction.encode() for m in made.members],
        4,
        3,
    ).call()
    assert bytes(onchain) == made.digest(target)

    url = f"sqlite+aiosqlite:///{tmp_path / 'relayer.db'}"
    await upgrade(url)
    store = await Store.open(url)
    try:
        writer = Writer(store)
        config = SubmitterConfig(
            chain_id=31337, fees=FeePolicy(max_fee_cap=200 * GWEI, tip=GWEI), poll_interval=0.05
        )
        submitter = Submitter(
            anvil_rpc,
            signer_from_hex(anvil_node.funded_keys[6]),
            StoreNonceSource(writer),
            config,
            StoreSendJournal(writer),
        )
        destination = Destination(31337, address, "release", submitter, contract, 100)
        sets = SetBook({31337: contract})
        await sets.refresh()
        keys = [signer_from_hex("0x" + bytes(v.key).hex()) for v in validators]
        me = keys[0]
        rotations = Rotations(
            writer,
            me.address,
            sets,
            {31337: destination},
            sweep_s=0.1,
            grace_period_s=0.0,
            republish_interval_s=3600.0,
        )
        digest = made.digest(target)
        async with store.transaction() as tx:
            await tx.record_set_proposal(made, proposed_here=True)
            sig = SetSignature(made.proposal_id, 31337, me.address, digest, me.sign_digest(digest))
            await tx.record_set_signature(sig)
        for key in keys[1:3]:  # three of four: the threshold, three jurisdictions
            message = SetApprovalMessage(
                proposal=made,
                signer=key.address,
                signatures=(ChainSignature(31337, digest, key.sign_digest(digest)),),
            )
            assert await rotations.receive(message) == "accepted"

        async def publish(message: object) -> None:
            return None

        states = await rotations.sweep(publish)
        assert isinstance(states[(made.proposal_id, 31337)], ReadyToSubmit)
        assert gateway.functions.validatorSet().call()[0] == 2
        states = await rotations.sweep(publish)
        assert isinstance(states[(made.proposal_id, 31337)], Applied)
        assert sets.current[31337] == made.validator_set  # refreshed at once
        async with store.reader() as tx:
            outcome = (await tx.set_outcomes(made.proposal_id))[31337]
        assert outcome.state is SetOutcomeState.APPLIED

        previous = await contract.previous_validator_set()
        assert previous is not None and previous.validator_set == current
        assert previous.valid_until > block.timestamp
        assert await has_role(contract, DEFAULT_ADMIN_ROLE, parse_address(admin.address))
        assert not await has_role(contract, PAUSER_ROLE, me.address)
        expire_id = Hash32(keccak(b"expire"))
        request = SubmitRequest(
            expire_id, address, expire_calldata(), batch=(expire_id,), journaled=False
        )
        assert isinstance(await submitter.submit(request), Mined)
        expired = await contract.previous_validator_set()
        latest = await anvil_rpc.get_block("latest")
        assert expired is not None and latest is not None
        assert expired.valid_until < latest.timestamp < previous.valid_until
    finally:
        await store.close()
