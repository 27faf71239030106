"""The AWS KMS backend against a fake KMS on 127.0.0.1 (``fake_kms.py``) that answers as
KMS does, with real secp256k1 keys: signatures recover to the key's address with low s
whether KMS answered high or low s, recorded answers give the recorded signatures byte for
byte, the requests are what KMS expects, and every failure is one line naming the setting,
bounded in time, with no secret and no AWS message in it."""

from __future__ import annotations

import base64
import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import structlog
from coincurve import PrivateKey
from eth_utils.address import to_canonical_address
from fake_kms import CALLER, SPKI_P256_PREFIX, FakeKey, FakeKms, kms_sign

from relayer.cli import main
from relayer.domain.signature import SECP256K1_HALF_N, address_of_public_key, recover_signer
from relayer.domain.types import Address, checksum
from relayer.errors import ConfigError, RetryableError, SignerError, SignerUnavailableError
from relayer.keys.kms import (
    KmsKey,
    KmsLimits,
    KmsSigner,
    kms_address,
    kms_client,
    open_kms_signer,
)
from relayer.log import configure_logging
from relayer.node import load_keys
from relayer.settings import load_settings

VECTORS = Path(__file__).parents[2] / "vectors" / "kms" / "sign.json"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
REGION = "eu-west-1"
FAST = KmsLimits(connect_timeout_s=0.5, read_timeout_s=0.3, max_attempts=2)


def add_key(kms: FakeKms, key_id: str = KEY_ID, **kwargs: object) -> Address:
    key = PrivateKey()
    kms.keys[key_id] = FakeKey(key, **kwargs)  # type: ignore[arg-type]
    return address_of_public_key(key.public_key)


def where(kms: FakeKms, key_id: str = KEY_ID) -> KmsKey:
    return KmsKey(key_id, REGION, kms.url, prefix="validator.kms_")


def opened(kms: FakeKms, limits: KmsLimits | None = None) -> KmsSigner:
    return open_kms_signer(where(kms), limits)


def one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and CALLER not in text and "is not allowed" not in text
    return text


@pytest.mark.parametrize("high_s", [None, True, False], ids=["alternating", "high", "low"])
def test_signatures_recover_to_the_key_address_with_low_s(
    kms: FakeKms, high_s: bool | None
) -> None:
    address = add_key(kms)
    kms.high_s = high_s
    signer = opened(kms)
    try:
        assert signer.address == address
        for i in range(40):
            digest = i.to_bytes(32, "big")
            signature = signer.sign_digest(digest)
            assert len(signature) == 65 and signature[64] in (27, 28)
            assert int.from_bytes(signature[32:64], "big") <= SECP256K1_HALF_N
            assert recover_signer(digest, signature) == address
    finally:
        signer.close()


def test_requests_are_what_kms_expects(kms: FakeKms, aws_env: dict[str, str]) -> None:
    add_key(kms)
    signer = opened(kms)
    digest = bytes(range(32))
    signer.sign_digest(digest)
    signer.close()
    get, *signs = kms.requests
    assert get.target == "TrentService.GetPublicKey" and get.body == {"KeyId": KEY_ID}
    assert len(signs) == 2  # the proof at start, then ours
    sign = signs[-1]
    assert sign.target == "TrentService.Sign"
    assert sign.body == {
        "KeyId": KEY_ID,
        "Message": base64.b64encode(digest).decode(),
        "MessageType": "DIGEST",
        "SigningAlgorithm": "ECDSA_SHA_256",
    }
    headers = {k.lower(): v for k, v in sign.headers.items()}
    assert headers["content-type"] == "application/x-amz-json-1.1"
    credential = f"Credential={aws_env['AWS_ACCESS_KEY_ID']}/"
    assert credential in headers["authorization"]
    assert f"/{REGION}/kms/aws4_request" in headers["authorization"]
    assert headers["x-amz-security-token"] == aws_env["AWS_SESSION_TOKEN"]


def test_recorded_answers_give_the_recorded_signatures_byte_for_byte(kms: FakeKms) -> None:
    """The recorded GetPublicKey and Sign answers, replayed verbatim (no start-up proof:
    it signs a random digest, which has no recorded answer)."""
    vectors = json.loads(VECTORS.read_text())
    kms.keys[vectors["key_id"]] = FakeKey(PrivateKey())  # unused: every answer is recorded
    kms.failures.append(("GetPublicKey", 200, vectors["get_public_key"]))
    for case in vectors["sign"]:
        kms.recorded[case["digest"].removeprefix("0x")] = case["answer"]
    key, limits = where(kms, vectors["key_id"]), KmsLimits()
    client = kms_client(key, limits)
    signer = KmsSigner(client, kms_address(client, key, limits), key, limits)
    try:
        assert "0x" + signer.address.hex() == vectors["address"]
        for case in vectors["sign"]:
            digest = bytes.fromhex(case["digest"].removeprefix("0x"))
            assert "0x" + signer.sign_digest(digest).hex() == case["expected"], case["about"]
    finally:
        signer.close()
    assert len(kms.sign_requests()) == len(vectors["sign"])


@pytest.mark.parametrize(
    ("operation", "code", "says"),
    [
        ("GetPublicKey", "AccessDeniedException", "needs kms:GetPublicKey and kms:Sign"),
        ("Sign", "AccessDeniedException", "denied kms:Sign"),
        ("GetPublicKey", "DisabledException", "disabled or pending deletion"),
        ("Sign", "KMSInvalidStateException", "disabled or pending deletion"),
        ("Sign", "InvalidKeyUsageException", "must be an ECC_SECG_P256K1 SIGN_VERIFY key"),
        ("GetPublicKey", "UnrecognizedClientException", "refused the AWS credentials"),
    ],
)
def test_a_refusal_at_start_is_one_line_naming_the_setting(
    kms: FakeKms, operation: str, code: str, says: str
) -> None:
    add_key(kms)
    kms.fail(operation, code)
    with pytest.raises(ConfigError) as caught:
        opened(kms)
    text = one_line(caught.value)
    assert text.startswith("validator.kms_key_id: ") and says in text and code in text


def test_a_missing_key_is_named_with_its_region(kms: FakeKms) -> None:
    with pytest.raises(ConfigError) as caught:
        opened(kms)
    assert one_line(caught.value) == (
        f"validator.kms_key_id: no KMS key {KEY_ID!r} in region {REGION!r}"
    )


@pytest.mark.parametrize(
    ("spec", "usage", "public_der", "says"),
    [
        ("ECC_NIST_P256", "SIGN_VERIFY", None, "is ECC_NIST_P256 SIGN_VERIFY, not ECC_SECG_P256K1"),
        ("ECC_SECG_P256K1", "KEY_AGREEMENT", None, "KEY_AGREEMENT, not"),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", SPKI_P256_PREFIX + b"\x04" + b"\x01" * 64, "NIST P-256"),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", b"\x30\x03\x02\x01\x01", "no usable public key"),
    ],
    ids=["nist-spec", "usage", "nist-public-key", "not-a-public-key"],
)
def test_a_key_of_the_wrong_kind_is_refused_at_start(
    kms: FakeKms, spec: str, usage: str, public_der: bytes | None, says: str
) -> None:
    add_key(kms, spec=spec, usage=usage, public_der=public_der)
    with pytest.raises(ConfigError) as caught:
        opened(kms)
    text = one_line(caught.value)
    assert text.startswith("validator.kms_key_id: ") and says in text
    assert kms.sign_requests() == []


def test_throttling_is_retried_a_bounded_number_of_times(kms: FakeKms) -> None:
    add_key(kms)
    signer = opened(kms)
    try:
        kms.fail("Sign", "ThrottlingException", times=2)
        before = len(kms.sign_requests())
        assert len(signer.sign_digest(b"\x01" * 32)) == 65  # third try answers
        assert len(kms.sign_requests()) - before == 3
        kms.fail("Sign", "ThrottlingException", times=5)
        with pytest.raises(SignerUnavailableError) as caught:
            signer.sign_digest(b"\x02" * 32)
        assert len(kms.sign_requests()) - before == 6  # three more, then it gave up
    finally:
        signer.close()
    text = one_line(caught.value)
    assert isinstance(caught.value, RetryableError)  # nothing signed: the sweep retries
    assert text.startswith("validator.kms_key_id: KMS throttled or failed kms:Sign")
    assert "ThrottlingException" in text and "3 tries" in text


def test_a_server_error_is_retryable_too(kms: FakeKms) -> None:
    add_key(kms)
    signer = opened(kms, FAST)
    kms.fail("Sign", "KMSInternalException", times=2, status=500)
    try:
        with pytest.raises(SignerUnavailableError, match="KMSInternalException"):
            signer.sign_digest(b"\x03" * 32)
    finally:
        signer.close()


def test_a_slow_kms_times_out_within_the_limits(kms: FakeKms) -> None:
    add_key(kms)
    signer = opened(kms, FAST)
    kms.delay_s = 1.0
    before = len(kms.sign_requests())
    started = time.monotonic()
    try:
        with pytest.raises(SignerUnavailableError) as caught:
            signer.sign_digest(b"\x04" * 32)
    finally:
        elapsed = time.monotonic() - started
        kms.delay_s = 0.0
        signer.close()
    assert len(kms.sign_requests()) - before == FAST.max_attempts
    assert elapsed < FAST.max_attempts * (FAST.read_timeout_s + 1.0)  # 1 s: retry backoff
    text = one_line(caught.value)
    assert text.startswith(f"validator.kms_endpoint_url: KMS at {kms.url} did not answer")
    assert "2 tries" in text


def test_a_slow_kms_at_start_stops_the_relayer(kms: FakeKms) -> None:
    add_key(kms)
    kms.delay_s = 1.0
    with pytest.raises(SignerError, match=r"did not answer kms:GetPublicKey .* at start$"):
        opened(kms, FAST)


def test_an_unreachable_endpoint_is_named(aws_env: dict[str, str]) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = KmsKey(KEY_ID, REGION, f"http://127.0.0.1:{port}", prefix="validator.kms_")
    with pytest.raises(SignerError) as caught:
        open_kms_signer(key, FAST)
    assert one_line(caught.value).startswith(
        f"validator.kms_endpoint_url: cannot reach KMS at http://127.0.0.1:{port}"
    )


def test_no_credentials_is_one_line(kms: FakeKms, monkeypatch: pytest.MonkeyPatch) -> None:
    add_key(kms)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with pytest.raises(ConfigError) as caught:
        opened(kms)
    assert one_line(caught.value).startswith("validator.kms_key_id: no AWS credentials found")
    assert kms.requests == []


def test_a_signature_by_another_key_is_refused(kms: FakeKms) -> None:
    add_key(kms)
    signer = opened(kms)
    other = PrivateKey()
    digest = b"\x05" * 32
    answer = {
        "KeyId": KEY_ID,
        "Signature": base64.b64encode(kms_sign(other, digest, high_s=False)).decode(),
        "SigningAlgorithm": "ECDSA_SHA_256",
    }
    kms.failures.append(("Sign", 200, answer))
    try:
        with pytest.raises(SignerError, match="does not verify"):
            signer.sign_digest(digest)
        kms.failures.append(("Sign", 200, {**answer, "Signature": "MAIDAgEB"}))  # DER junk
        with pytest.raises(SignerError, match="does not verify"):
            signer.sign_digest(digest)
    finally:
        signer.close()


def test_credentials_never_leak(
    kms: FakeKms, aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The key-leak check of tests/unit/test_keys.py, for the KMS backend: no key to leak,
    but the AWS secret key and session token found at start are scrubbed from logs."""
    add_key(kms)
    kms.fail("Sign", "AccessDeniedException")
    with pytest.raises(ConfigError) as caught:
        opened(kms)
    signer = opened(kms)
    secrets = [aws_env["AWS_SECRET_ACCESS_KEY"], aws_env["AWS_SESSION_TOKEN"]]
    saved = structlog.get_config()
    try:
        configure_logging("json", "info")
        log = structlog.get_logger("t")
        log.info("oops", detail=f"signed with {secrets[0]}", nested={"k": [secrets[1].upper()]})
        logging.getLogger("botocore").warning("token %s", secrets[1])
        err = capsys.readouterr().err
    finally:
        structlog.configure(**saved)
        signer.close()
    for secret in secrets:
        assert secret.lower() not in err.lower()
        assert secret not in repr(signer) and secret not in str(caught.value)
    assert "[REDACTED]" in err
    assert repr(signer) == (
        f"KmsSigner(address=0x{signer.address.hex()}, key={KEY_ID!r}, region={REGION!r})"
    )


CHAINS = """
[conflux]
rpc_url = "http://127.0.0.1:8545"
chain_id = 2030
vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

[ethereum]
rpc_url = "http://127.0.0.1:8546"
chain_id = 31337
gateway = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"
"""


def test_settings_with_kms_keys_load_a_signer_per_key(kms: FakeKms, tmp_path: Path) -> None:
    attester = add_key(kms)
    submitter = add_key(kms, "alias/relayer-pay")
    config = tmp_path / "relayer.toml"
    validator = (
        f'[validator]\njurisdiction = "HK"\nkms_key_id = "{KEY_ID}"\nkms_region = "{REGION}"\n'
        f'kms_endpoint_url = "{kms.url}"\n'
    )
    config.write_text(validator + CHAINS)
    keys = load_keys(load_settings(config))
    assert isinstance(keys.attester, KmsSigner) and keys.attester.address == attester
    assert keys.submitter is keys.attester
    keys.attester.close()
    config.write_text(
        validator + 'submitter_kms_key_id = "alias/relayer-pay"\n'
        f'submitter_kms_region = "{REGION}"\nsubmitter_kms_endpoint_url = "{kms.url}"\n' + CHAINS
    )
    keys = load_keys(load_settings(config))
    assert keys.attester.address == attester and keys.submitter.address == submitter
    for signer in (keys.attester, keys.submitter):
        assert isinstance(signer, KmsSigner)
        signer.close()
    config.write_text(validator.replace(KEY_ID, "no-such-key") + CHAINS)
    with pytest.raises(ConfigError, match=r"^validator\.kms_key_id: no KMS key 'no-such-key'"):
        load_keys(load_settings(config))


def test_keys_address_prints_the_kms_key_address(
    kms: FakeKms, capsys: pytest.CaptureFixture[str]
) -> None:
    address = add_key(kms)
    args = ["keys", "address", "--kms", KEY_ID, "--region", REGION, "--endpoint-url", kms.url]
    assert main(args) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == checksum(address)
    assert to_canonical_address(printed) == address
    assert kms.sign_requests() == []  # reading the address signs nothing


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--kms", KEY_ID], "relayer: error: --kms needs --region\n"),
        (["--region", REGION, "k.json"], "relayer: error: --region: only with --kms\n"),
        (["k.json", "--kms", KEY_ID, "--region", REGION], "a keystore file or --kms, not both"),
        ([], "name a keystore file, or pass --kms KEY_ID --region REGION"),
        (["--kms", "no", "--region", REGION, "--endpoint-url", "URL"], "--kms: no KMS key 'no'"),
    ],
)
def test_keys_address_usage_errors_are_one_line(
    kms: FakeKms, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    args = [kms.url if arg == "URL" else arg for arg in args]
    assert main(["keys", "address", *args]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_the_recorded_answers_are_what_their_script_makes() -> None:
    """sign.json is reproducible (libsecp256k1 signs deterministically, RFC 6979)."""
    made = subprocess.run(
        [sys.executable, str(VECTORS.with_name("make_kms_vectors.py"))],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert json.loads(made) == json.loads(VECTORS.read_text())
