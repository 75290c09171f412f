"""chDB queried the way Grafana's data source queries ClickHouse: as a `readonly = 1` user,
with the settings the pinned plugin sends on each request.

ClickHouse applies the settings a client sends with a request after the user's profile, and
refuses any that readonly = 1 forbids (Code 164, READONLY). Here the profile is `SET readonly =
1` on a chDB session of its own, and each request's settings are `SET` before its query, so a
setting the profile forbids fails the query as it would on a server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from streams.storage.base import quote_identifier

_SETTING = re.compile(r"^[a-z_][a-z0-9_]*$")


class ReadonlyChdb:
    """A read-only session on an existing chDB directory."""

    def __init__(self, session: Any, database: str, settings: Mapping[str, int | str]) -> None:
        self._session = session
        self._prefix = f"USE {quote_identifier(database)}; "
        for name, value in settings.items():
            if not _SETTING.match(name) or not isinstance(value, int):
                raise ValueError(f"unsupported plugin setting {name}={value!r}")
            self._prefix += f"SET {name} = {value}; "

    def query(self, sql: str) -> list[dict[str, Any]]:
        """The rows of `sql`; raises the driver's error (with ClickHouse's message)."""
        result = self._session.query(self._prefix + sql, "JSONEachRow")
        text = result.bytes() if hasattr(result, "bytes") else bytes(result)
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]


@contextmanager
def readonly_chdb(
    path: Path, database: str, settings: Mapping[str, int | str]
) -> Iterator[ReadonlyChdb]:
    """A read-only session on `path` (no other chDB session may be open in this process)."""
    from chdb import session as chdb_session

    session = chdb_session.Session(str(path))
    try:
        session.query("SET readonly = 1")
        yield ReadonlyChdb(session, database, settings)
    finally:
        session.close()
