"""Writes agent output to ClickHouse, retrying with backoff while the store is down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from streams.errors import StorageError
from streams.storage.base import Row, Store

log = logging.getLogger(__name__)


class ClickHouseSink:
    """Inserts batches of rows; a failed insert is retried until it succeeds or the worker stops.

    The caller awaits `write` before acknowledging the batch's events, so offsets are only
    committed for rows that are in ClickHouse: back-pressure, never loss.
    """

    def __init__(self, store: Store, max_backoff_s: float = 10.0) -> None:
        self.store = store
        self.max_backoff_s = max_backoff_s

    async def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a read query, retrying with backoff while the store is down."""
        delay = 0.2
        while True:
            try:
                return self.store.query(sql, parameters)
            except StorageError as e:
                log.warning("query failed, retrying in %.1fs: %s", delay, e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)

    async def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement (an `INSERT ... SELECT`), retrying with backoff while the store is
        down."""
        delay = 0.2
        while True:
            try:
                self.store.command(sql, parameters)
            except StorageError as e:
                log.warning("statement failed, retrying in %.1fs: %s", delay, e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
                continue
            return

    async def write(self, table: str, rows: Sequence[Row]) -> None:
        """Insert `rows` into `table`, retrying with exponential backoff on StorageError."""
        if not rows:
            return
        delay = 0.2
        while True:
            try:
                self.store.insert(table, rows)
            except StorageError as e:
                log.warning("insert into %s failed, retrying in %.1fs: %s", table, delay, e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
                continue
            return


def now_utc() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
