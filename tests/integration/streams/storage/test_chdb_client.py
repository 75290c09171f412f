"""Proof that clickhouse-connect's chdb:// backend (experimental upstream) handles every query
shape the product sends, on a real chDB data directory.

The backend is clickhouse-connect 1.12.0 `driver/_chdbclient.py` and
`driver/_backend/chdb_backend.py`: queries run through `chdb.Connection.query` in the Native
format (`execute_query`), inserts write the Native payload to a temporary file loaded with
`INSERT ... FROM INFILE ... FORMAT Native` (`execute_data_insert`), and `{name:Type}` parameters
go to chdb's `params` after `bind_query` has formatted them (`_strip_param_prefix`). One engine
path per process; any number of handles on it (`_open_handle`, `ChdbClient.__init__` docstring).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from streams.errors import StorageError, WelfareMonitorError
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.migrate import discover, migrate

pytestmark = pytest.mark.integration

AT = datetime(2023, 6, 20, 7, 30, 15, 123000, tzinfo=UTC)
RECENT = datetime.now(UTC).replace(microsecond=456000)


@pytest.fixture
def store(chdb_store: ClickHouseStore) -> ClickHouseStore:
    migrate(chdb_store)
    return chdb_store


def utc(value: datetime | None) -> datetime | None:
    """A DateTime64(3, 'UTC') value as read back: clickhouse-connect returns it naive UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stats_row(version: int, due: int, **extra: Any) -> dict[str, Any]:
    """A `commune_programme_stats` row as the payments agent builds it."""
    return {
        "period": "2023-06",
        "province_code": 52,
        "commune_code": 21553,
        "programme": "social_assistance",
        "beneficiaries_due": due,
        "beneficiaries_paid": 40,
        "beneficiaries_paid_cashless": 2,
        "beneficiaries_paid_twice": 1,
        "beneficiaries_paid_unknown": 0,
        "payments_returned": 3,
        "payments_by_channel": {"cash": 38, "bank": 2},
        "amount_by_channel": {"cash": 19_000_000_000, "bank": 1_000_000},
        "failures_by_reason": {},
        "seconds_to_pay": [60, 3600, 4_000_000_000],
        "version": version,
        "updated_at": AT,
        **extra,
    }


def test_insert_and_read_back_stats_with_maps_arrays_and_datetime64(
    store: ClickHouseStore,
) -> None:
    store.insert("commune_programme_stats", [stats_row(1, 120)])
    [row] = store.query("SELECT * FROM commune_programme_stats")
    assert row["payments_by_channel"] == {"cash": 38, "bank": 2}
    assert row["amount_by_channel"] == {"cash": 19_000_000_000, "bank": 1_000_000}
    assert row["failures_by_reason"] == {}
    assert row["seconds_to_pay"] == [60, 3600, 4_000_000_000]
    assert utc(row["updated_at"]) == AT
    assert {k: v for k, v in row.items() if k != "updated_at"} == {
        k: v for k, v in stats_row(1, 120).items() if k != "updated_at"
    }


def test_insert_each_other_table_as_the_agents_build_its_rows(store: ClickHouseStore) -> None:
    rows: dict[str, dict[str, Any]] = {
        "access_points": {
            "access_point_id": "atm-52-0001",
            "kind": "atm",
            "operator": "Agribank",
            "latitude": 13.78,
            "longitude": 109.21,
            "province_code": 52,
            "commune_code": 21553,
            "is_open": 1,
            "version": 7,
            "updated_at": AT,
        },
        "dead_letters": {
            "received_at": AT,
            "source_topic": "welfare.events",
            "source_partition": 3,
            "source_offset": 2**40,
            "source_index": 0,
            "error_class": "bad_json",
            "reason": "line 1: unexpected 'x'\ttab\nnewline \\ backslash",
        },
        "alerts": {
            "kind": "low_cashless_rate",
            "period": "2023-06",
            "province_code": 52,
            "commune_code": 21553,
            "subject": "",
            "active": 1,
            "value": 0.0011,
            "threshold": 0.05,
            "message": "Tỷ lệ không dùng tiền mặt 0,11%",
            "version": 3,
            "raised_at": AT,
        },
        "pipeline_health": {
            "at": RECENT,  # pipeline_health has a 30-day TTL on `at`
            "worker": "w-1",
            "events": 10,
            "events_per_s": 2.5,
            "dead_letters": 2,
            "dead_letters_by_class": {"bad_json": 2},
            "consumer_lag": -1,
            "latest_event_at": None,
            "freshness_s": None,
        },
    }
    for table, row in rows.items():
        store.insert(table, [row])
        found = store.query(f"SELECT * FROM {table}")  # noqa: S608 (table names above)
        assert len(found) == 1, (table, found)
        [back] = found
        for column, value in row.items():
            got = back[column]
            if isinstance(value, datetime):
                got = utc(got)
            assert got == value, (table, column)
    store.insert(
        "pipeline_health",
        [
            {
                **rows["pipeline_health"],
                "latest_event_at": AT,
                "freshness_s": 1.5,
                "at": RECENT.replace(microsecond=0),
            }
        ],
    )
    [late] = store.query(
        "SELECT latest_event_at, freshness_s FROM pipeline_health WHERE latest_event_at IS NOT NULL"
    )
    assert (utc(late["latest_event_at"]), late["freshness_s"]) == (AT, 1.5)


def test_parameters_of_each_type_bind_as_values(store: ClickHouseStore) -> None:
    store.insert(
        "commune_programme_stats",
        [
            stats_row(1, 10, programme=p, commune_code=c)
            for p, c in (("social_assistance", 1), ("merit", 2), ("pension", 3))
        ],
    )
    hostile = "merit' OR 1=1 --\t\n\\"
    rows = store.query(
        "SELECT programme, commune_code FROM commune_programme_stats "
        "WHERE has({programmes:Array(String)}, programme) AND commune_code >= {min:UInt32} "
        "AND period = {period:String} ORDER BY commune_code",
        {"programmes": ["merit", "pension", hostile], "min": 2, "period": "2023-06"},
    )
    assert rows == [
        {"programme": "merit", "commune_code": 2},
        {"programme": "pension", "commune_code": 3},
    ]
    assert store.query(
        "SELECT count() AS n FROM commune_programme_stats WHERE programme = {p:String}",
        {"p": hostile},
    ) == [{"n": 0}]
    for value in ("a\nb", "x\\y", "q'z", "tab\there", "back\\nslash", "\r\n", "{p:String}", ""):
        assert store.query("SELECT {v:String} AS v", {"v": value}) == [{"v": value}]
    assert store.query("SELECT {v:UInt64} AS v", {"v": 2**63}) == [{"v": 2**63}]
    assert store.query("SELECT {v:Array(String)} AS v", {"v": []}) == [{"v": []}]


def test_final_and_argmax_read_the_latest_version(store: ClickHouseStore) -> None:
    for version, due in ((1, 100), (3, 300), (2, 200)):
        store.insert("commune_programme_stats", [stats_row(version, due)])
    final = store.query("SELECT beneficiaries_due, version FROM commune_programme_stats FINAL")
    assert final == [{"beneficiaries_due": 300, "version": 3}]
    latest = store.query(
        "SELECT argMax(beneficiaries_due, version) AS due, max(version) AS v "
        "FROM commune_programme_stats GROUP BY commune_code"
    )
    assert latest == [{"due": 300, "v": 3}]
    summed = store.query(
        "SELECT sumMap(payments_by_channel) AS ch, quantileExactArray(0.5)(seconds_to_pay) AS p50 "
        "FROM (SELECT * FROM commune_programme_stats FINAL)"
    )
    assert summed == [{"ch": {"bank": 2, "cash": 38}, "p50": 3600}]


def test_migrate_runs_every_ddl_file_once_through_the_client(chdb_store: ClickHouseStore) -> None:
    assert migrate(chdb_store) == [m.name for m in discover()]
    assert migrate(chdb_store) == []
    tables = {
        r["name"]
        for r in chdb_store.query(
            "SELECT name FROM system.tables WHERE database = {db:String}",
            {"db": chdb_store.database},
        )
    }
    assert {
        "commune_programme_stats",
        "alerts",
        "access_points",
        "pipeline_health",
        "dead_letters",
        "admin_units",
        "schema_migrations",
    } <= tables
    assert "commune_payment_totals" not in tables  # 004 drops it


def test_empty_results_and_empty_inserts(store: ClickHouseStore) -> None:
    store.insert("commune_programme_stats", [])
    assert store.query("SELECT * FROM commune_programme_stats FINAL") == []
    assert store.query("SELECT * FROM alerts WHERE period = {p:String}", {"p": "x"}) == []
    [empty] = store.query(
        "SELECT count() AS n, sumMap(payments_by_channel) AS ch, "
        "max(period) AS period FROM commune_programme_stats"
    )
    assert empty == {"n": 0, "ch": {}, "period": ""}
    store.command("OPTIMIZE TABLE commune_programme_stats FINAL")


def test_driver_errors_become_storage_errors_that_say_what_to_do(
    store: ClickHouseStore,
) -> None:
    from clickhouse_connect.driver.exceptions import ClickHouseError

    with pytest.raises(StorageError, match="UNKNOWN_IDENTIFIER.*migrate") as bad_sql:
        store.query("SELECT no_such_column FROM alerts")
    assert isinstance(bad_sql.value.__cause__, ClickHouseError)
    with pytest.raises(StorageError, match="no_such_table"):
        store.command("INSERT INTO no_such_table VALUES (1)")
    with pytest.raises(StorageError, match="refused an insert into alerts") as bad_row:
        store.insert("alerts", [{"kind": "x", "province_code": "not a number"}])
    assert bad_row.value.__cause__ is not None
    with pytest.raises(StorageError, match="same columns"):
        store.insert("alerts", [{"kind": "a"}, {"period": "b"}])
    with pytest.raises(StorageError, match="UInt32"):
        store.query("SELECT {v:UInt32} AS v", {"v": "abc"})
    assert issubclass(StorageError, WelfareMonitorError)
    # The store still works after every failure.
    assert store.query("SELECT 1 AS one") == [{"one": 1}]


def test_the_live_page_snapshot_serialises_timestamps_as_clickhouse_text(
    store: ClickHouseStore,
) -> None:
    """The client returns DateTime64 as datetime; the page (`render_page`, `json.dumps`) and the
    JSON outputs show ClickHouse's text form, as the old JSONEachRow path did."""
    from streams.web.live_data import PageParams, snapshot
    from streams.web.live_page import render_page

    now = datetime.now(UTC)
    store.insert("commune_programme_stats", [stats_row(1, 120)])
    store.insert(
        "pipeline_health",
        [
            {
                "at": now,
                "worker": "w-1",
                "events": 10,
                "events_per_s": 2.5,
                "dead_letters": 0,
                "dead_letters_by_class": {},
                "consumer_lag": 0,
                "latest_event_at": AT,
                "freshness_s": 1.0,
            }
        ],
    )
    data = snapshot(store, PageParams.parse({}))
    [health] = data["panels"]["freshness"]
    assert health["latest_event_at"] == "2023-06-20 07:30:15.123"
    assert health["last_health_row"] == now.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    # The page shows it in the reader's format (vi by default): the same instant, in UTC.
    assert "07:30:15 20/06/2023 UTC" in render_page(data, live=False)


def test_inserts_follow_schema_changes_and_name_unknown_columns(store: ClickHouseStore) -> None:
    """The store caches each table's column types (one statement per insert instead of
    clickhouse-connect's DESCRIBE + INSERT); DDL through `command` must drop that cache."""
    row = {"kind": "k", "subject": "s", "version": 1, "raised_at": AT}
    store.insert("alerts", [row])
    with pytest.raises(StorageError, match="has no column note"):
        store.insert("alerts", [{**row, "note": "n"}])
    store.command("ALTER TABLE alerts ADD COLUMN note String")
    store.insert("alerts", [{**row, "version": 2, "note": "n"}])
    assert store.query("SELECT note FROM alerts ORDER BY version") == [{"note": ""}, {"note": "n"}]
    with pytest.raises(StorageError, match="UNKNOWN_TABLE.*migrate"):
        store.insert("no_such_table", [row])
