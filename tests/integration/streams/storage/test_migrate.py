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
