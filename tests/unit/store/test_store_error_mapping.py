"""Which driver errors count as transient (``StoreError``) and which do not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError

from relayer.errors import RetryableError, StoreError
from relayer.store.engine import is_retryable, make_engine, mapped_errors
from relayer.store.errors import StoreIntegrityError


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "err",
    [
        OperationalError("x", None, Exception("database is locked")),
        InterfaceError("x", None, Exception("connection is closed")),
        ProgrammingError("x", None, _PgError("57P01")),  # admin shutdown
        ProgrammingError("x", None, _PgError("40001")),  # serialization failure
        ConnectionResetError(),
        TimeoutError(),
    ],
)
def test_is_retryable_transient(err: BaseException) -> None:
    assert is_retryable(err)


@pytest.mark.parametrize(
    "err",
    [
        IntegrityError("x", None, Exception("unique")),
        ProgrammingError("x", None, _PgError("42P01")),  # undefined table
        ValueError("not a driver error"),
    ],
)
def test_is_retryable_permanent(err: BaseException) -> None:
    assert not is_retryable(err)


def test_mapped_errors_raises_store_error_from_cause() -> None:
    cause = OperationalError("x", None, Exception("disk I/O error"))
    with pytest.raises(StoreError) as caught, mapped_errors("test"):
        raise cause
    assert isinstance(caught.value, RetryableError)
    assert caught.value.__cause__ is cause


def test_mapped_errors_integrity_is_fatal() -> None:
    with pytest.raises(StoreIntegrityError), mapped_errors("test"):
        raise IntegrityError("x", None, Exception("fk"))


def test_mapped_errors_lets_other_errors_through() -> None:
    with pytest.raises(ProgrammingError), mapped_errors("test"):
        raise ProgrammingError("x", None, _PgError("42601"))


@pytest.mark.parametrize(
    "url", ["sqlite:///x.db", "postgresql+psycopg://localhost/x", "mysql://localhost/x"]
)
def test_make_engine_refuses_other_drivers(url: str) -> None:
    with pytest.raises(ValueError, match=r"aiosqlite|asyncpg|unsupported"):
        make_engine(url)
