"""Column types that behave the same on SQLite and PostgreSQL.

* ``Uint``: an exact unsigned integer of up to ``digits`` decimal digits. PostgreSQL
  stores ``NUMERIC(digits, 0)``; SQLite stores the decimal digits zero-padded to
  ``digits`` characters, so text order equals numeric order and nothing is rounded.
  ``Uint(78)`` holds any uint256, ``Uint(20)`` any uint64.
* ``UtcDateTime``: always hands back timezone-aware UTC datetimes (SQLite keeps no
  zone); naive datetimes are refused on the way in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

UINT256_DIGITS = 78  # len(str(2**256 - 1))
UINT64_DIGITS = 20  # len(str(2**64 - 1))


class Uint(TypeDecorator[int]):
    """Exact non-negative integer; see the module docstring."""

    impl = Numeric
    cache_ok = True

    def __init__(self, digits: int = UINT256_DIGITS) -> None:
        super().__init__()
        self.digits = digits

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.digits))
        return dialect.type_descriptor(Numeric(self.digits, 0, asdecimal=True))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"Uint column needs an int, got {type(value).__name__}")
        text = str(value)
        if value < 0 or len(text) > self.digits:
            raise ValueError(f"{value} does not fit an unsigned {self.digits}-digit column")
        if dialect.name == "sqlite":
            return text.zfill(self.digits)
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return int(value)
        return int(str(value))

    @property
    def python_type(self) -> type[int]:
        return int


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime
