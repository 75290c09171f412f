"""chDB lifetime rules as the product relies on them, through clickhouse-connect's chdb://
backend (1.12.0 `driver/_backend/chdb_backend.py` `_open_handle`, `ChdbClient.__init__`
docstring): any number of clients on one directory in a process, one directory per process,
one process per directory (chDB's `status` file lock), data kept across clients.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.errors import StorageError
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from tests.integration.streams.storage.test_chdb_client import AT, stats_row
from tests.support.names import unique

pytestmark = pytest.mark.integration


@pytest.fixture
def store(chdb_store: ClickHouseStore) -> ClickHouseStore:
    migrate(chdb_store)
    return chdb_store


def test_two_stores_on_one_directory_share_it_and_close_independently(
    store: ClickHouseStore,
) -> None:
    other = ClickHouseStore(store.dsn, store.database)
    other.open()
    try:
        other.insert("alerts", [{"kind": "k", "subject": "s", "version": 1, "raised_at": AT}])
        assert store.query("SELECT kind FROM alerts") == [{"kind": "k"}]
    finally:
        other.close()
        other.close()  # safe twice
    assert store.query("SELECT count() AS n FROM alerts") == [{"n": 1}]
    with pytest.raises(StorageError, match="not open"):
        other.query("SELECT 1")


def test_a_second_directory_in_one_process_is_refused_until_the_first_is_closed(
    tmp_path: Path,
) -> None:
    first = ClickHouseStore(chdb_dsn(tmp_path / "first"), unique("db"))
    second = ClickHouseStore(chdb_dsn(tmp_path / "second"), unique("db"))
    first.open()
    try:
        with pytest.raises(StorageError, match="Only one process may use a chDB directory"):
            second.open()
    finally:
        first.close()
    second.open()  # the engine moves once every client of the first directory is closed
    try:
        assert second.query("SELECT currentDatabase() AS db") == [{"db": second.database}]
    finally:
        second.close()


def test_another_process_cannot_open_a_directory_the_worker_holds(
    store: ClickHouseStore, tmp_path: Path
) -> None:
    child = (
        "import sys\n"
        "from streams.errors import StorageError\n"
        "from streams.storage.clickhouse_store import ClickHouseStore\n"
        "s = ClickHouseStore(sys.argv[1], sys.argv[2])\n"
        "try:\n"
        "    s.open()\n"
        "except StorageError as e:\n"
        "    print(e)\n"
        "    raise SystemExit(3)\n"
        "s.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, store.dsn, store.database],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert "Only one process may use a chDB directory" in done.stdout
    assert "Cannot lock file" in done.stderr  # chDB's own status-file lock, printed by it
    assert store.query("SELECT 1 AS one") == [{"one": 1}]


def test_the_data_outlives_the_client(tmp_path: Path) -> None:
    dsn, database = chdb_dsn(tmp_path / "kept"), unique("db")
    writer = ClickHouseStore(dsn, database)
    writer.open()
    migrate(writer)
    writer.insert("commune_programme_stats", [stats_row(1, 120)])
    writer.close()
    reader = ClickHouseStore(dsn, database)
    reader.open()
    try:
        rows = reader.query("SELECT beneficiaries_due FROM commune_programme_stats FINAL")
        assert rows == [{"beneficiaries_due": 120}]
    finally:
        reader.close()


def test_a_dsn_that_cannot_hold_the_path_is_refused(tmp_path: Path) -> None:
    from streams.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="contains"):
        chdb_dsn(tmp_path / "odd?dir")
    assert chdb_dsn(tmp_path / "with space") == f"chdb://{tmp_path.resolve()}/with space"


def test_timestamps_are_utc_whatever_the_process_time_zone(tmp_path: Path) -> None:
    """chDB reports the host process's time zone as the server's (clickhouse-connect 1.12.0
    `driver/_chdbclient.py` docstring); a worker in Vietnam must still store and read UTC."""
    child = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from streams.storage.clickhouse_store import ClickHouseStore\n"
        "s = ClickHouseStore(sys.argv[1], 'tz')\n"
        "s.open()\n"
        "s.command('CREATE TABLE t (at DateTime64(3, \\'UTC\\')) ENGINE = Memory')\n"
        "s.insert('t', [{'at': datetime(2023, 6, 20, 23, 30, tzinfo=UTC)}])\n"
        "[r] = s.query('SELECT toString(at) AS text, at FROM t')\n"
        "print(r['text'], r['at'].isoformat())\n"
        "s.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, chdb_dsn(tmp_path / "tz")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TZ": "Asia/Ho_Chi_Minh"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["2023-06-20", "23:30:00.000", "2023-06-20T23:30:00"]
