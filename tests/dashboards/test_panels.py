"""Every panel query, macros and variables expanded as Grafana would, runs on real output."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards.build import source_boards
from dashboards.macros import TimeRange, expand
from dashboards.panels import NATION_STAT, PANELS, PanelQuery
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from tests.conftest import Run
from tests.support.grafana import panel_queries, resolve_variables

pytestmark = pytest.mark.integration

BY_SQL = {q.sql: q for q in PANELS}
NOW = datetime.now(UTC)
RANGE = TimeRange(NOW - timedelta(days=7), NOW + timedelta(hours=1), 60)


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[ClickHouseStore]:
    run: Run = request.getfixturevalue(request.param)
    opened = ClickHouseStore(chdb_dsn(run.data_dir / "chdb"), run.settings.clickhouse_database)
    opened.open()
    yield opened
    opened.close()


def columns(store: ClickHouseStore, sql: str) -> list[str]:
    return [r["name"] for r in store.query(f"DESCRIBE ({sql})")]


@pytest.mark.parametrize("all_programme", [True, False], ids=["all-programmes", "one"])
@pytest.mark.parametrize("store", ["binh_dinh_run", "drill_run"], indirect=True)
def test_every_panel_query_runs_and_returns_its_columns(
    store: ClickHouseStore, all_programme: bool
) -> None:
    """Variables set and substituted as Grafana does (tests/support/grafana.py)."""
    checked = 0
    # The source set: every language's set has the same queries (tests/unit/dashboards).
    for uid, board in sorted(source_boards().items()):
        values = resolve_variables(board, store.query, all_programme=all_programme)
        for name in ("period", "province", "commune", "programme"):
            assert values.get(name, "?") != "", f"{uid}: variable {name} has no values"
        for title, raw in panel_queries(board):
            query: PanelQuery = BY_SQL[raw]
            sql = expand(raw, values, RANGE)
            rows: list[dict[str, Any]] = store.query(sql)
            # One programme in one commune may legitimately have no failures ("No data").
            assert rows or not all_programme, f"{uid} / {title}: no rows"
            assert set(query.columns) <= set(columns(store, sql)), f"{uid} / {title}"
            checked += 1
    assert checked == len(PANELS)  # each panel query is used once


@pytest.mark.parametrize("store", ["binh_dinh_run"], indirect=True)
def test_the_overview_stat_for_binh_dinh_is_142_of_127450(store: ClickHouseStore) -> None:
    [row] = store.query(expand(NATION_STAT.sql, {"period": "2023-06"}, RANGE))
    assert (int(row["paid_cashless"]), int(row["due"])) == (142, 127_450)
    assert row["headline"] == "142 / 127450 (0.11%)"


@pytest.mark.parametrize("store", ["drill_run"], indirect=True)
def test_a_hostile_variable_value_stays_a_string(store: ClickHouseStore) -> None:
    values = {"period": "2023-06' OR 1=1 --"}
    [row] = store.query(expand(NATION_STAT.sql, values, RANGE))
    assert int(row["due"]) == 0
