"""Outage drills: a store that fails while a switch file exists (off unless configured).

Set STORE_OUTAGE_FILE to a path; while a file exists there, every call raises StorageError,
as a ClickHouse server that is down would. The worker must hold its batch, retry with
backoff, and lose nothing. Used by the reliability tests and for game days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from streams.errors import StorageError
from streams.storage.base import Row, Store


class OutageSwitchStore:
    """Wraps a store; fails every call while `switch` exists."""

    def __init__(self, inner: Store, switch: Path) -> None:
        self.inner = inner
        self.switch = switch
        self.database = inner.database

    def _check(self) -> None:
        if self.switch.exists():
            raise StorageError(f"injected outage: {self.switch} exists")

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        self._check()
        self.inner.command(sql, parameters)

    def insert(self, table: str, rows: Sequence[Row]) -> None:
        self._check()
        self.inner.insert(table, rows)

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[Row]:
        self._check()
        return self.inner.query(sql, parameters)
