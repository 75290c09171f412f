"""chDB adapter: ClickHouse in-process on a persistent data directory (one process each)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from streams.errors import StorageError
from streams.storage.base import Row, quote_identifier


def quoted(value: Any) -> str:
    """One array element as ClickHouse text: an integer as it is, anything else as a quoted
    string literal."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return "'" + text.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'"


def escape_parameter(value: Any) -> Any:
    """A string query parameter in ClickHouse's escaped (TSV) form, as the HTTP interface
    expects it; a list or tuple (an Array parameter) as an array literal of quoted strings;
    other values pass as they are."""
    if isinstance(value, list | tuple):
        return "[" + ",".join(quoted(v) for v in value) + "]"
    if not isinstance(value, str):
        return value
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


class ChdbStore:
    """Store backed by a chDB session on `path`."""

    def __init__(self, path: Path, database: str) -> None:
        self.path = path
        self.database = database
        self._session: Any = None

    def open(self) -> None:
        from chdb import session as chdb_session

        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._session = chdb_session.Session(str(self.path))
            self._session.query(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(self.database)}")
        except Exception as e:
            raise StorageError(
                f"cannot open chDB at {self.path}: {e}. "
                "Only one process may use a chDB directory; stop the other one or pick another "
                "--data-dir."
            ) from e

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _run(self, sql: str, fmt: str, parameters: Mapping[str, Any] | None) -> Any:
        if self._session is None:
            raise StorageError("chDB store is not open; call open() first")
        full_sql = f"USE {quote_identifier(self.database)}; {sql}"
        params = {k: escape_parameter(v) for k, v in (parameters or {}).items()}
        try:
            return self._session.query(full_sql, fmt, params=params)
        except Exception as e:
            raise StorageError(f"chDB rejected a statement: {e}") from e

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        self._run(sql, "CSV", parameters)

    def insert(self, table: str, rows: Sequence[Row]) -> None:
        if not rows:
            return
        # Rows travel as a JSONEachRow body: data, never SQL text.
        body = b"\n".join(orjson.dumps(row) for row in rows).decode()
        self._run(
            f"INSERT INTO {quote_identifier(table)} "
            "SETTINGS date_time_input_format = 'best_effort' "
            f"FORMAT JSONEachRow\n{body}",
            "CSV",
            None,
        )

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[Row]:
        result = self._run(sql, "JSONEachRow", parameters)
        text = result.bytes() if hasattr(result, "bytes") else bytes(result)
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]
