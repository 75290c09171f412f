"""The storage protocol every adapter implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

Row = dict[str, Any]


class Store(Protocol):
    """Commands, inserts and parameterised queries against one ClickHouse database.

    Parameters use ClickHouse's server-side syntax, `{name:Type}`, in both modes,
    so no user value is ever formatted into SQL text.
    """

    database: str

    def open(self) -> None:
        """Connect (and create the database if missing). Called once before use."""

    def close(self) -> None:
        """Release the connection; safe to call twice."""

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows (DDL, OPTIMIZE, ...)."""

    def insert(self, table: str, rows: Sequence[Row]) -> None:
        """Insert rows (dicts keyed by column name) into a table of this database."""

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a SELECT and return its rows as dicts."""


def quote_identifier(name: str) -> str:
    """Quote a ClickHouse identifier with backquotes."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"
