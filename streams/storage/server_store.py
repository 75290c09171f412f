"""ClickHouse server adapter through clickhouse-connect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streams.errors import StorageError
from streams.storage.base import Row, quote_identifier


class ServerStore:
    """Store backed by a ClickHouse server reached over HTTP."""

    def __init__(self, url: str, user: str, password: str, database: str) -> None:
        self.url = url
        self.user = user
        self._password = password
        self.database = database
        self._client: Any = None

    def open(self) -> None:
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import ClickHouseError

        try:
            admin = clickhouse_connect.get_client(
                dsn=self.url, username=self.user, password=self._password
            )
            admin.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(self.database)}")
            admin.close()
            self._client = clickhouse_connect.get_client(
                dsn=self.url, username=self.user, password=self._password, database=self.database
            )
        except (ClickHouseError, OSError) as e:
            raise StorageError(
                f"cannot reach ClickHouse at {self.url}: {e}. "
                "Check CLICKHOUSE_URL, CLICKHOUSE_USER and CLICKHOUSE_PASSWORD."
            ) from e

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _client_or_raise(self) -> Any:
        if self._client is None:
            raise StorageError("ClickHouse store is not open; call open() first")
        return self._client

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        from clickhouse_connect.driver.exceptions import ClickHouseError

        try:
            self._client_or_raise().command(sql, parameters=dict(parameters or {}))
        except (ClickHouseError, OSError) as e:
            raise StorageError(f"ClickHouse rejected a statement: {e}") from e

    def insert(self, table: str, rows: Sequence[Row]) -> None:
        from clickhouse_connect.driver.exceptions import ClickHouseError

        if not rows:
            return
        columns = list(rows[0].keys())
        data = [[row[c] for c in columns] for row in rows]
        try:
            self._client_or_raise().insert(table, data, column_names=columns)
        except (ClickHouseError, OSError) as e:
            raise StorageError(f"ClickHouse refused an insert into {table}: {e}") from e

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[Row]:
        from clickhouse_connect.driver.exceptions import ClickHouseError

        try:
            result = self._client_or_raise().query(sql, parameters=dict(parameters or {}))
        except (ClickHouseError, OSError) as e:
            raise StorageError(f"ClickHouse query failed: {e}") from e
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
