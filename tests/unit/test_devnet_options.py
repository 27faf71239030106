"""`relayer devnet` options: --hsm-validators names validators by index, checked."""

from __future__ import annotations

import argparse

import pytest

from relayer.devnet.command import add_parser, options_from
from relayer.errors import ConfigError


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["devnet", *argv])


def test_hsm_validators_by_index() -> None:
    assert options_from(_args()).hsm_validators == ()
    assert options_from(_args("--hsm-validators", "2, 0,2")).hsm_validators == (0, 2)


@pytest.mark.parametrize("bad", ["5", "-1", "x", "1.5"])
def test_a_bad_index_names_the_flag(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"--hsm-validators: .* is not a validator index 0\.\.4"):
        options_from(_args("--hsm-validators", bad))
