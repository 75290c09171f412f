from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.errors import MigrationError
from streams.storage.base import quote_identifier
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.migrate import discover, migrate

pytestmark = pytest.mark.integration


def test_migrate_applies_every_file_once_and_seeds_units(chdb_store: ClickHouseStore) -> None:
    applied = migrate(chdb_store)
    assert applied == [m.name for m in discover()]
    assert migrate(chdb_store) == []
    units = chdb_store.query("SELECT uniqExact(province_code) AS p, count() AS c FROM admin_units")[
        0
    ]
    assert (int(units["p"]), int(units["c"])) == (34, 3321)


def test_queries_take_parameters_not_formatted_values(chdb_store: ClickHouseStore) -> None:
    migrate(chdb_store)
    hostile = "52' OR 1=1 --"
    rows = chdb_store.query(
        "SELECT count() AS n FROM admin_units WHERE province_name = {name:String}",
        {"name": hostile},
    )
    assert int(rows[0]["n"]) == 0
    rows = chdb_store.query(
        "SELECT commune_name FROM admin_units WHERE commune_code = {code:UInt32}",
        {"code": 21553},
    )
    assert rows == [{"commune_name": "Phường Quy Nhơn Bắc"}]


def test_identifiers_are_quoted() -> None:
    assert quote_identifier("a`b") == "`a\\`b`"


def test_badly_named_ddl_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_x.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="NNN_snake_case"):
        discover(tmp_path)


def test_a_failing_statement_names_its_file(tmp_path: Path, chdb_store: ClickHouseStore) -> None:
    (tmp_path / "001_broken.sql").write_text("CREATE TABLE nonsense (")
    with pytest.raises(MigrationError, match="001_broken.sql"):
        migrate(chdb_store, tmp_path)


def test_string_parameters_round_trip_whatever_they_hold(chdb_store: ClickHouseStore) -> None:
    for value in ("a\nb", "x\\y", "q'z", "tab\there", "back\\nslash", "\r\n"):
        rows = chdb_store.query("SELECT {v:String} AS v", {"v": value})
        assert rows == [{"v": value}]


def _ids_layout(store: ClickHouseStore) -> tuple[list[str], list[tuple[str, str]]]:
    tables = store.query(
        "SELECT name, engine_full FROM system.tables"
        " WHERE database = currentDatabase() AND name LIKE 'ledger_ids%' ORDER BY name"
    )
    rows = store.query("SELECT event_id, digest FROM ledger_ids ORDER BY event_id, digest")
    return [f"{t['name']}: {t['engine_full']}" for t in tables], [
        (r["event_id"], r["digest"]) for r in rows
    ]


def test_012_rebuilds_ledger_ids_with_small_granules_keeping_every_row_and_reruns_safely(
    tmp_path: Path, chdb_store: ClickHouseStore
) -> None:
    """A store migrated before 012 keeps every id through the rebuild, ends with one
    `ledger_ids` in the new layout, and a re-run after a crash at the EXCHANGE (the old layout
    left behind as `ledger_ids_012`, 012 not yet recorded) ends the same."""
    before = tmp_path / "before"
    before.mkdir()
    for m in discover():
        if m.version < 12:
            (before / m.path.name).write_text(m.path.read_text())
    migrate(chdb_store, before)
    ids = [
        {
            "event_id": f"ev-{i:05d}",
            "digest": f"d{i % 3}",
            "received_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
        for i in range(3000)
    ]
    chdb_store.insert("ledger_ids", ids)
    want = sorted((r["event_id"], r["digest"]) for r in ids)
    assert "index_granularity = 256" not in _ids_layout(chdb_store)[0][0]

    assert migrate(chdb_store) == ["012_ledger_ids_granules"]
    tables, rows = _ids_layout(chdb_store)
    assert rows == want
    assert len(tables) == 1
    assert tables[0].startswith("ledger_ids: ReplacingMergeTree ORDER BY (event_id, digest)")
    assert "index_granularity = 256" in tables[0] and "max_compress_block_size = 16384" in tables[0]

    # A crash right after the EXCHANGE: the old layout is still there and 012 is not recorded.
    chdb_store.command(
        "CREATE TABLE ledger_ids_012 (event_id String, digest String,"
        " received_at DateTime64(3, 'UTC')) ENGINE = ReplacingMergeTree ORDER BY (event_id, digest)"
    )
    chdb_store.command(
        "ALTER TABLE schema_migrations DELETE WHERE version = 12 SETTINGS mutations_sync = 1"
    )
    assert migrate(chdb_store) == ["012_ledger_ids_granules"]
    assert _ids_layout(chdb_store) == (tables, want)
