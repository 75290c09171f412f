"""The one ClickHouse adapter: clickhouse-connect, for a server and for embedded chDB alike.

The factory hands it a DSN, `http(s)://user:password@host:port` for a server or
`chdb:///absolute/data/dir` for chDB in-process (clickhouse-connect's chdb backend, 1.12+);
nothing else differs between the two modes. Parameters are bound by clickhouse-connect as
ClickHouse server-side parameters (`{name:Type}`), and rows are inserted in the Native format,
so no value is ever formatted into SQL text here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from streams.errors import StorageError
from streams.storage.base import Row, quote_identifier


def redact_dsn(dsn: str) -> str:
    """The DSN without its user and password, for messages and logs."""
    parts = urlsplit(dsn)
    if "@" not in parts.netloc:
        return dsn
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class ClickHouseStore:
    """Store backed by one clickhouse-connect client on `dsn`, using database `database`.

    chDB allows one data directory per process (opening a second one while a client is open
    fails) but any number of clients on the same directory; the worker process owns it.
    """

    def __init__(self, dsn: str, database: str) -> None:
        self.dsn = dsn
        self.database = database
        self._client: Any = None
        # Column types per table, so an insert costs one statement, not DESCRIBE + INSERT.
        # Dropped on every command (DDL) and after a failed insert.
        self._column_types: dict[str, dict[str, str]] = {}

    @property
    def embedded(self) -> bool:
        """True for chDB in this process, False for a ClickHouse server."""
        return self.dsn.startswith("chdb:")

    def _where(self) -> str:
        return redact_dsn(self.dsn)

    def open(self) -> None:
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import Error

        if self._client is not None:
            return
        try:
            # No database in the DSN: like a server, clickhouse-connect requires it to exist.
            client = clickhouse_connect.get_client(dsn=self.dsn)
        except (Error, OSError) as e:
            raise StorageError(
                f"cannot reach ClickHouse at {self._where()}: {e}. {self._hint()}"
            ) from e
        try:
            client.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(self.database)}")
        except (Error, OSError) as e:
            client.close()
            raise StorageError(
                f"cannot create database {self.database} at {self._where()}: {e}. {self._hint()}"
            ) from e
        client.database = self.database
        self._client = client

    def _hint(self) -> str:
        if self.embedded:
            return (
                "Only one process may use a chDB directory at a time: stop the other one "
                "(a worker or a report) or pick another --data-dir."
            )
        return "Check CLICKHOUSE_URL, CLICKHOUSE_USER and CLICKHOUSE_PASSWORD, and that it is up."

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            self._column_types.clear()
            client.close()

    def _client_or_raise(self) -> Any:
        if self._client is None:
            raise StorageError("the ClickHouse store is not open; call open() first")
        return self._client

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        from clickhouse_connect.driver.exceptions import Error

        client = self._client_or_raise()
        self._column_types.clear()
        try:
            client.command(sql, parameters=dict(parameters or {}))
        except (Error, OSError) as e:
            raise StorageError(
                f"ClickHouse at {self._where()} rejected a statement: {e}. "
                "Fix the statement, or run `welfare-monitor migrate` if a table is missing."
            ) from e

    def insert(self, table: str, rows: Sequence[Row]) -> None:
        from clickhouse_connect.driver.exceptions import Error

        if not rows:
            return
        client = self._client_or_raise()
        columns = list(rows[0].keys())
        try:
            data = [[row[c] for c in columns] for row in rows]
        except KeyError as e:
            raise StorageError(
                f"rows for {table} do not all have the same columns (missing {e}); "
                "build every row of one insert with the same keys"
            ) from e
        types = self._types_of(table)
        unknown = [c for c in columns if c not in types]
        if unknown:
            raise StorageError(
                f"table {table} has no column {', '.join(unknown)}; "
                "run `welfare-monitor migrate` or fix the rows"
            )
        try:
            client.insert(
                table, data, column_names=columns, column_type_names=[types[c] for c in columns]
            )
        except (Error, OSError, TypeError, ValueError) as e:
            self._column_types.pop(table, None)
            raise StorageError(
                f"ClickHouse at {self._where()} refused an insert into {table}: {e}. "
                "Check the rows match the table's columns and types "
                "(run `welfare-monitor migrate`)."
            ) from e

    def _types_of(self, table: str) -> dict[str, str]:
        """The table's insertable columns and their type names (cached)."""
        if table not in self._column_types:
            described = self.query(f"DESCRIBE TABLE {quote_identifier(table)}")
            self._column_types[table] = {
                r["name"]: r["type"]
                for r in described
                if r["default_type"] not in ("ALIAS", "MATERIALIZED")
            }
        return self._column_types[table]

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[Row]:
        from clickhouse_connect.driver.exceptions import Error

        client = self._client_or_raise()
        try:
            result = client.query(sql, parameters=dict(parameters or {}))
        except (Error, OSError) as e:
            raise StorageError(
                f"ClickHouse query at {self._where()} failed: {e}. "
                "Fix the query, or run `welfare-monitor migrate` if a table is missing."
            ) from e
        names = result.column_names
        return [dict(zip(names, row, strict=True)) for row in result.result_rows]
