"""One validator of the session's devnet (validator 2) attests with a key in a SoftHSM2
token (relayer/devnet/softhsm.py, made with `relayer keys new --pkcs11`): its signature
counts towards the quorum like the others', and its PIN appears in no log."""

from __future__ import annotations

import pytest
from bridge_client import lock, status, wait_executed, wait_until
from eth_account import Account

from relayer.devnet.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
HSM_VALIDATOR = 2


def test_a_validator_signs_from_its_hsm(bridge: Stack) -> None:
    key = bridge.hsm_keys[HSM_VALIDATOR]
    validator = bridge.validators[HSM_VALIDATOR]
    assert validator.address == key.address
    assert key.address in bridge.vset.members
    config = validator.config_path.read_text()
    assert "pkcs11_module" in config and "dev_private_key =" not in config
    # the dev account in the config pays for transactions only; the set knows the token's key
    assert Account.from_key(validator.private_key).address not in bridge.vset.members

    sent = lock(bridge, bridge.users[1], "AxHKD", 3_000_000, Account.create().address)
    wait_executed(bridge, sent)

    def hsm_signature_counted() -> bool:
        view = status(bridge, 0, sent)
        signers = {s["address"] for s in (view or {}).get("attestations", {}).get("signers", [])}
        return key.address in signers

    wait_until(hsm_signature_counted, timeout=60)
    pin = key.pin_file.read_text().strip()
    for v in bridge.validators:
        assert pin not in v.log_path.read_text(), f"the HSM PIN is in validator {v.index}'s log"
