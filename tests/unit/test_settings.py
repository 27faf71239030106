"""Settings: TOML + environment, and one-line errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from relayer.errors import ConfigError
from relayer.settings import load_settings

GOOD = """
[validator]
name = "hk-1"
jurisdiction = "HK"
dev_private_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

[conflux]
rpc_url = "http://127.0.0.1:8545"
chain_id = 2030
vault = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
confirmation = "depth:5"

[ethereum]
rpc_url = "http://127.0.0.1:8546"
chain_id = 31337
gateway = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relayer.toml"
    path.write_text(text)
    return path


def test_load_settings_reads_toml_and_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.validator.jurisdiction == "HK"
    assert settings.conflux.confirmation == "depth:5"
    assert settings.ethereum.confirmation == "finalized"
    assert settings.conflux.max_log_window == 1000
    assert settings.database.url.startswith("sqlite+aiosqlite://")


def test_environment_overrides_nested_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAYER_ETHEREUM__RPC_URL", "http://10.0.0.9:8545")
    monkeypatch.setenv("RELAYER_CONFLUX__MAX_LOG_WINDOW", "250")
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.ethereum.rpc_url == "http://10.0.0.9:8545"
    assert settings.conflux.max_log_window == 250


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda t: t + "\nbogus = 1\n", "ethereum.bogus: unknown setting"),
        (lambda t: t.replace("chain_id = 31337", 'chain_id = "x"'), "ethereum.chain_id"),
        (
            lambda t: t.replace(
                "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "0x5FbDB2315678afecb367f032d93F642f64180aA3",
            ),
            "conflux.vault: address has a bad EIP-55 checksum",
        ),
        (lambda t: t.replace('"depth:5"', '"depth:0"'), "conflux.confirmation"),
        (lambda t: t.replace('"HK"', '"hk"'), "validator: jurisdiction"),
        (lambda t: t.replace("chain_id = 31337", "chain_id = 2030"), "must differ"),
        (
            lambda t: t.replace(
                'rpc_url = "http://127.0.0.1:8546"',
                'rpc_url = "http://127.0.0.1:8546"\ncross_check_rpc_url = "http://127.0.0.1:8546/"',
            ),
            "cross_check_rpc_url must be another node than rpc_url",
        ),
        (
            lambda t: t.replace(
                'rpc_url = "http://127.0.0.1:8546"',
                'rpc_url = "http://127.0.0.1:8546"\nrpc_urls = ["http://127.0.0.1:8546/"]',
            ),
            "rpc_urls must differ from rpc_url",
        ),
        (
            lambda t: t.replace(
                'rpc_url = "http://127.0.0.1:8546"',
                'rpc_url = "http://127.0.0.1:8546"\nrpc_urls = ["http://127.0.0.1:9999"]\n'
                'cross_check_rpc_url = "http://127.0.0.1:9999"',
            ),
            "cross_check_rpc_url must be another node than rpc_url and rpc_urls",
        ),
        (
            lambda t: t.replace('name = "hk-1"', 'name = "hk-1"\nkeystore = "k.json"'),
            "password_file",
        ),
        (
            lambda t: t.replace(
                'rpc_url = "http://127.0.0.1:8546"',
                'rpc_url = "http://127.0.0.1:8546"\nws_url = "http://127.0.0.1:8546"',
            ),
            "ethereum.ws_url",
        ),
        (
            lambda t: t.replace("chain_id = 31337", "chain_id = 31337\nhead_stale_s = 0"),
            "head_stale_s",
        ),
    ],
)
def test_bad_setting_is_named_in_one_line(tmp_path: Path, edit, named: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, edit(GOOD)))
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_bad_environment_value_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYER_API__PORT", "99999")
    with pytest.raises(ConfigError, match=r"api\.port"):
        load_settings(write(tmp_path, GOOD))


def test_missing_file_and_bad_toml_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(write(tmp_path, "[validator\n"))


def test_secret_is_not_in_repr(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert "59c6995e" not in repr(settings)
    assert "59c6995e" not in str(settings.model_dump())


def _hsm_settings(tmp_path: Path, extra: str, *, dev_key: bool = False) -> Path:
    module = tmp_path / "libhsm.so"
    module.write_bytes(b"")  # only its existence is checked here
    text = GOOD if dev_key else GOOD.replace(GOOD.splitlines()[4], "")
    hsm = (
        f'pkcs11_module = "{module}"\npkcs11_token_label = "relayer"\n'
        f'pkcs11_key_label = "hk-1"\npkcs11_pin_file = "{tmp_path / "pin"}"\n'
    )
    extra = extra.replace("MODULE", str(module))
    return write(
        tmp_path, text.replace('jurisdiction = "HK"\n', f'jurisdiction = "HK"\n{hsm}{extra}')
    )


def test_an_hsm_key_is_a_complete_attesting_key(tmp_path: Path) -> None:
    settings = load_settings(_hsm_settings(tmp_path, ""))
    assert settings.validator.pkcs11_key_label == "hk-1"
    assert settings.validator.dev_private_key is None


@pytest.mark.parametrize(
    ("extra", "dev_key", "named"),
    [
        ("", True, "validator: set pkcs11_module or dev_private_key, not both"),
        ('keystore = "k.json"\npassword_file = "pw"\n', False, "set pkcs11_module or keystore"),
        ('submitter_pkcs11_key_label = "pay"\n', False, "submitter_pkcs11_key_label needs"),
        (
            'submitter_keystore = "s.json"\nsubmitter_password_file = "pw"\n'
            'submitter_pkcs11_module = "MODULE"\n',
            False,
            "set submitter_pkcs11_module or submitter_keystore, not both",
        ),
    ],
)
def test_hsm_settings_that_contradict_are_named(
    tmp_path: Path, extra: str, dev_key: bool, named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_hsm_settings(tmp_path, extra, dev_key=dev_key))
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_hsm_module_that_is_missing_is_named(tmp_path: Path) -> None:
    path = _hsm_settings(tmp_path, "")
    (tmp_path / "libhsm.so").unlink()
    with pytest.raises(ConfigError, match=r"validator\.pkcs11_module: no such file .*libhsm\.so"):
        load_settings(path)


def test_an_incomplete_hsm_key_names_what_is_missing(tmp_path: Path) -> None:
    path = _hsm_settings(tmp_path, "")
    path.write_text(path.read_text().replace('pkcs11_key_label = "hk-1"\n', ""))
    with pytest.raises(ConfigError, match="pkcs11_module needs pkcs11_key_label"):
        load_settings(path)


KMS = 'kms_key_id = "alias/hk-1"\nkms_region = "eu-west-1"\n'


def _kms_settings(tmp_path: Path, extra: str, *, dev_key: bool = False) -> Path:
    text = GOOD if dev_key else GOOD.replace(GOOD.splitlines()[4] + "\n", "")
    return write(tmp_path, text.replace('jurisdiction = "HK"\n', f'jurisdiction = "HK"\n{extra}'))


def test_a_kms_key_is_a_complete_attesting_key(tmp_path: Path) -> None:
    settings = load_settings(_kms_settings(tmp_path, KMS))
    assert settings.validator.kms_key_id == "alias/hk-1"
    assert settings.validator.kms_endpoint_url is None


@pytest.mark.parametrize(
    ("extra", "dev_key", "named"),
    [
        (KMS, True, "validator: set kms_key_id or dev_private_key, not both"),
        (KMS + 'keystore = "k.json"\npassword_file = "pw"\n', False, "set kms_key_id or keystore"),
        ('kms_key_id = "alias/hk-1"\n', False, "validator: kms_key_id needs kms_region"),
        ('kms_region = "eu-west-1"\n', True, "validator: kms_region needs kms_key_id"),
        (
            'submitter_kms_endpoint_url = "https://vpce"\n',
            True,
            "submitter_kms_endpoint_url needs submitter_kms_key_id",
        ),
        (
            KMS + 'submitter_kms_key_id = "alias/pay"\nsubmitter_keystore = "s.json"\n'
            'submitter_password_file = "pw"\n',
            False,
            "set submitter_kms_key_id or submitter_keystore, not both",
        ),
        (
            KMS + 'pkcs11_token_label = "t"\n',
            False,
            "validator: pkcs11_token_label needs pkcs11_module",
        ),
        (
            KMS + 'dev_private_key = "0x01"\nkeystore = "k.json"\npassword_file = "pw"\n',
            False,
            "set kms_key_id or keystore or dev_private_key, only one",
        ),
    ],
)
def test_kms_settings_that_contradict_are_named(
    tmp_path: Path, extra: str, dev_key: bool, named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_kms_settings(tmp_path, extra, dev_key=dev_key))
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_no_key_at_all_names_every_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="or kms_key_id \\+ kms_region"):
        load_settings(_kms_settings(tmp_path, ""))
