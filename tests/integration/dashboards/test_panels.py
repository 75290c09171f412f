"""Every panel query runs on real output, as Grafana sends it: the variables substituted by
Scenes and the macros expanded by the plugin's backend (Grafana's own code, the oracle of
tests/support/grafana_upstream; @grafana/scenes 6.6.3, sqlutil v0.277.1, the macro table of
grafana-clickhouse-datasource v4.10.1), run in chDB as a `readonly = 1` user with the settings
the pinned plugin sends (tests/support/chdb_readonly). docs/testing.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards.build import source_boards
from dashboards.panels import NATION_STAT, PANELS, PanelQuery
from tests.support.chdb_readonly import ReadonlyChdb, readonly_chdb
from tests.support.grafana_upstream import (
    ALL_SELECTED,
    Interpolation,
    UpstreamError,
    Variable,
    grafana_sql,
)
from tests.support.runs import Run
from tests.support.upstream_dashboards import (
    pinned_plugin_version,
    plugin_settings,
    resolve_boards,
    targets,
)

pytestmark = pytest.mark.integration

BY_SQL = {q.sql: q for q in PANELS}
NOW = datetime.now(UTC)
START, END, INTERVAL_S = NOW - timedelta(days=7), NOW + timedelta(hours=1), 60


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[ReadonlyChdb]:
    run: Run = request.getfixturevalue(request.param)
    settings = plugin_settings(pinned_plugin_version())
    with readonly_chdb(run.data_dir / "chdb", run.settings.clickhouse_database, settings) as ch:
        yield ch


def columns(store: ReadonlyChdb, sql: str) -> list[str]:
    return [r["name"] for r in store.query(f"DESCRIBE ({sql})")]


def upstream(sql: str, *variables: Variable) -> str:
    """One query as the data source sends it to ClickHouse."""
    [sent] = grafana_sql([Interpolation(sql, variables)], START, END, INTERVAL_S)
    if isinstance(sent, UpstreamError):
        raise sent
    return sent


def period(value: str) -> Variable:
    """The period variable with `value` picked (its only option)."""
    return Variable("period", ((value, value),), select=value)


@pytest.mark.parametrize("all_programme", [True, False], ids=["all-programmes", "one"])
@pytest.mark.parametrize("store", ["binh_dinh_run", "drill_run"], indirect=True)
def test_every_panel_query_runs_and_returns_its_columns(
    store: ReadonlyChdb, all_programme: bool
) -> None:
    """Variables resolved as Scenes does (each variable's query substituted, expanded and run;
    the first option by default, or "All" for the programme)."""
    checked = 0
    picks: dict[str, str | None] = {"programme": ALL_SELECTED if all_programme else "first"}
    # The source set: every language's set has the same queries (tests/unit/dashboards).
    boards = source_boards()
    variables = resolve_boards(boards, store, START, END, picks)
    found = []
    for uid, board in sorted(boards.items()):
        by_name = {v.name: v for v in variables[uid]}
        for name in ("period", "province", "commune", "programme"):
            if name in by_name:
                assert by_name[name].options, f"{uid}: variable {name} has no values"
        found += [(uid, t) for t in targets(board)]
    sent = grafana_sql(
        [Interpolation(t.sql, tuple(variables[uid])) for uid, t in found], START, END, INTERVAL_S
    )
    for (uid, target), sql in zip(found, sent, strict=True):
        title = f"{uid} / {target.title}"
        assert not isinstance(sql, UpstreamError), f"{title}: {sql}"
        query: PanelQuery = BY_SQL[target.sql]
        rows: list[dict[str, Any]] = store.query(sql)
        # One programme in one commune may legitimately have no failures ("No data").
        assert rows or not all_programme, f"{title}: no rows"
        assert set(query.columns) <= set(columns(store, sql)), title
        checked += 1
    assert checked == len(PANELS)  # each panel query is used once


@pytest.mark.parametrize("store", ["binh_dinh_run"], indirect=True)
def test_the_overview_stat_for_binh_dinh_is_142_of_127450(store: ReadonlyChdb) -> None:
    [row] = store.query(upstream(NATION_STAT.sql, period("2023-06")))
    assert (int(row["paid_cashless"]), int(row["due"])) == (142, 127_450)
    assert row["headline"] == "142 / 127450 (0.11%)"


@pytest.mark.parametrize("store", ["drill_run"], indirect=True)
def test_a_hostile_variable_value_stays_a_string(store: ReadonlyChdb) -> None:
    """The data source's format function quotes a single value (CHDatasource.ts:410-415)."""
    [row] = store.query(upstream(NATION_STAT.sql, period("2023-06' OR 1=1 --")))
    assert int(row["due"]) == 0
