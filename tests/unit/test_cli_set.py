"""``relayer set``: bad input is one line and exit 2, before any chain or database is read."""

from __future__ import annotations

import pytest

from relayer.cli import main

ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["propose", "--add", "0x1234:TH"], "--add address"),
        (["propose", "--add", ADDRESS], "expected ADDRESS:JURISDICTION"),
        (
            ["propose", "--add", ADDRESS.lower() + ":TH", "--remove", "x"],
            "--remove address",
        ),
        (["propose", "--add", ADDRESS[:-1] + "c:TH"], "checksum"),
        (["propose", "--add", f"{ADDRESS}:TH", "--deadline-s", "0"], "--deadline-s"),
        (["approve", "0x12"], "PROPOSAL_ID"),
        (["status", "not-an-id"], "PROPOSAL_ID"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "propose":
        argv = [*argv, "--threshold", "5", "--min-jurisdictions", "3"]
    code = main(["set", *argv, "--config", "/nonexistent/relayer.toml"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and says in err[0], err


def test_expire_previous_names_a_chain(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["set", "expire-previous", "--chain", "bsc", "--config", "x.toml"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
