"""The ledger's id look-up (`ledger.known_digests`) on real chDB: the ids bound as one heredoc
string (clickhouse-connect's binary `$name$` parameters, clickhouse_connect/driver/binding.py
1.12.0 `bind_query`) find exactly the stored digests, and ids that a heredoc or a newline split
cannot carry take the escaped `Array(String)` query with the same result."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from streams.storage import ledger
from streams.storage.base import Row
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from streams.storage.sink import ClickHouseSink, now_utc
from tests.support.names import unique

pytestmark = pytest.mark.integration

PLAIN = [f"ev-{i:05d}" for i in range(3000)]
ODD = ["a'b", "back\\slash", "tab\there", "đã trả", "", "x$ids", "$ids$", "y$ids$z", "line\nbreak"]


class RecordingStore(ClickHouseStore):
    def __init__(self, dsn: str, database: str) -> None:
        super().__init__(dsn, database)
        self.sql: list[str] = []

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[Row]:
        self.sql.append(sql)
        return super().query(sql, parameters)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordingStore]:
    s = RecordingStore(chdb_dsn(tmp_path / "chdb"), unique("test"))
    s.open()
    migrate(s)
    at = now_utc()
    rows = [{"event_id": i, "digest": f"d-{i}", "received_at": at} for i in PLAIN[::2] + ODD]
    rows.append({"event_id": PLAIN[0], "digest": "other", "received_at": at})
    s.insert(ledger.IDS_TABLE, rows)
    s.sql.clear()
    yield s
    s.close()


def expected(ids: list[str]) -> dict[str, set[str]]:
    stored = set(PLAIN[::2] + ODD)
    out = {i: {f"d-{i}"} for i in ids if i in stored}
    if PLAIN[0] in out:
        out[PLAIN[0]].add("other")
    return out


def test_plain_ids_are_bound_as_one_heredoc_and_found_exactly(store: RecordingStore) -> None:
    ids = PLAIN + ["ev-unknown"]
    found = asyncio.run(ledger.known_digests(ClickHouseSink(store), ids))
    assert found == expected(ids)
    assert len(found) == 1500
    assert store.sql == [ledger.KNOWN_IDS_SQL]


@pytest.mark.parametrize("odd", ODD)
def test_ids_with_quotes_dollars_or_newlines_are_found_exactly(
    store: RecordingStore, odd: str
) -> None:
    ids = [odd, PLAIN[0], PLAIN[1], "ev-unknown"]
    found = asyncio.run(ledger.known_digests(ClickHouseSink(store), ids))
    assert found == expected(ids)
    heredoc_safe = "$" not in odd and "\n" not in odd
    assert store.sql == [ledger.KNOWN_IDS_SQL if heredoc_safe else ledger.KNOWN_IDS_ESCAPED_SQL]


def test_a_heredoc_terminator_in_an_id_cannot_end_the_string(store: RecordingStore) -> None:
    ids = ["ev-00000$ids$) OR 1=1 --", PLAIN[2]]
    found = asyncio.run(ledger.known_digests(ClickHouseSink(store), ids))
    assert found == expected(ids) == {PLAIN[2]: {f"d-{PLAIN[2]}"}}


def test_a_batch_beyond_max_query_size_is_looked_up_in_pieces(store: RecordingStore) -> None:
    """The heredoc is query text, capped by max_query_size (262,144 bytes by default): 480 kB
    of ids in one query failed with `Max query size exceeded` and the worker retried forever."""
    ids = [f"{i:036d}-padding" for i in range(11000)] + PLAIN[:4]
    found = asyncio.run(asyncio.wait_for(ledger.known_digests(ClickHouseSink(store), ids), 120))
    assert found == expected(ids) and len(found) == 2
    assert store.sql == [ledger.KNOWN_IDS_SQL] * 3


@pytest.mark.parametrize("limit", [1, 7, 8, 9, 12, 24, 25, 1000])
def test_the_pieces_hold_every_id_once_and_stay_under_the_limit(limit: int) -> None:
    ids = ["abc", "đ", "x" * 7, "12345678", "z"]  # "đ" is two bytes; the longest id is 8
    chunks = ledger.heredoc_chunks(ids, limit)
    if limit < 8:
        assert chunks is None  # an id longer than a piece: the escaped query
        return
    assert chunks is not None
    assert all(len(c) <= limit for c in chunks)
    assert (len(chunks) > 1) == (limit < 25)  # the ids joined are 25 bytes
    assert b"\n".join(chunks).decode().split("\n") == ids
