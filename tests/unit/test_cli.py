"""Bad command lines: one line naming the argument, exit code 2, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from relayer.cli import main


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["devnet", "--validators", "5", "--threshold", "6"], "--threshold"),
        (["devnet", "--validators", "7", "--threshold", "4"], "--threshold"),  # < 2n/3+1
        (["devnet", "--validators", "4", "--min-jurisdictions", "4"], "--min-jurisdictions"),
        (["devnet", "--jurisdictions", "HK,usa"], "--jurisdictions"),
        (["devnet", "--validators", "33"], "--validators"),
        (["devnet", "--block-time-ms", "5"], "--block-time-ms"),
        (["devnet", "--delay-s", "0"], "--delay-s"),
        (["devnet", "--delay-s", "604801"], "--delay-s"),  # above the contracts' 7 days
        (["devnet", "--database-url-template", "sqlite+aiosqlite:///x.db"], "--database-url"),
        (["status", "0x1234"], "TRANSFER_ID_OR_TX_HASH"),
        (["keys", "new", "--out", "k.json"], "--jurisdiction"),
        (["keys", "new", "--pkcs11", "--module", "/x.so"], "--token-label, --key-label"),
        (["keys", "new", "--pkcs11", "--out", "k.json"], "--out: not with --pkcs11"),
        (["keys", "new", "--jurisdiction", "HK", "--token-label", "t"], "--token-label: only"),
        (
            [
                *("keys", "new", "--pkcs11", "--module", "/nowhere/libhsm.so"),
                *("--token-label", "t", "--key-label", "k", "--pin-file", "pin"),
            ],
            "--module: no such file /nowhere/libhsm.so",
        ),
    ],
)
def test_bad_arguments_are_named_with_exit_code_2(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if argv[0] == "devnet":
        argv = [*argv, "--workdir", str(tmp_path / "devnet")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("relayer: error:") and named in err, err
    assert not (tmp_path / "devnet").exists()  # nothing was started


def test_unknown_and_mistyped_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["run", "--confg", "x.toml"], ["devnet", "--validators", "five"], ["nope"]):
        with pytest.raises(SystemExit) as raised:
            main(argv)
        assert raised.value.code == 2
        assert "error:" in capsys.readouterr().err
