"""Every error the relayer raises on purpose is in exactly one of the three branches:
retry (``RetryableError``), skip this input (``RejectedInputError``) or stop
(``FatalError``), so a loop decides by branch, never by an ad-hoc list of classes."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import relayer
from relayer.errors import FatalError, RejectedInputError, RelayerError, RetryableError

BRANCHES = (RetryableError, RejectedInputError, FatalError)


def _import_every_module() -> None:
    for info in pkgutil.walk_packages(relayer.__path__, "relayer."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_relayer_error_is_in_exactly_one_branch() -> None:
    _import_every_module()
    found = {cls for cls in _subclasses(RelayerError) if cls not in BRANCHES}
    assert len(found) > 20  # the walk really imported the layers
    misplaced = {
        f"{cls.__module__}.{cls.__qualname__}": [b.__name__ for b in BRANCHES if issubclass(cls, b)]
        for cls in found
        if sum(issubclass(cls, b) for b in BRANCHES) != 1
    }
    assert misplaced == {}


def test_the_branches_are_disjoint_and_keep_their_builtin_meaning() -> None:
    for a in BRANCHES:
        for b in BRANCHES:
            assert a is b or not issubclass(a, b)
    assert issubclass(RejectedInputError, ValueError)
