"""Every panel and variable query runs in ClickHouse 25.8 as Grafana's read-only user, with
the settings the pinned plugin sends and the SQL Grafana's own code makes of them (Scenes'
substitution and the plugin's macros: tests/support/grafana_upstream).

ClickHouse 25.8 is the version docker-compose.yml pins; chdb==4.0.0 embeds 25.8.2 and runs in
its own interpreter (`make chdb258`, tests/support/chdb258_runner.py), because the project's
chDB is newer. The runner sets the profile of dashboards/provisioning/clickhouse (readonly = 1)
and sends the plugin's settings as the query's SETTINGS clause, which ClickHouse checks
against the profile like the URL parameters clickhouse-go sends (conn_http.go:210-216). Which
settings the plugin sends: tests/support/grafana.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboards.build import build_all
from schemas import CLICKHOUSE_DIR
from streams.storage.base import Store
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import discover, migrate
from tests.support.grafana import (
    compose_plugin_version,
    panel_queries,
    plugin_settings,
    provisioned_json_data,
    variable_queries,
)
from tests.support.grafana_upstream import ALL_SELECTED, Interpolation, UpstreamError, grafana_sql
from tests.support.runs import Run
from tests.support.upstream_dashboards import resolve_boards

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
RUNNER_PYTHON = ROOT / ".venv-chdb258" / "bin" / "python"
RUNNER = ROOT / "tests" / "support" / "chdb258_runner.py"
NOW_RANGE_DAYS = 40


def run_readonly(
    data: dict[str, str], queries: list[dict[str, Any]], grants: list[str] | None = None
) -> dict[str, Any]:
    """Run `queries` in ClickHouse 25.8 as a readonly = 1 user, on the schema and `data`; with
    `grants` (a users.d user's <grants> queries), as a user holding those grants alone."""
    assert RUNNER_PYTHON.is_file(), "ClickHouse 25.8 (chdb==4.0.0) is missing: run `make chdb258`"
    ddl = [s for m in discover(CLICKHOUSE_DIR) for s in m.statements()]
    job: dict[str, Any] = {
        "ddl": ddl,
        "data": data,
        "profile": {"max_execution_time": 60},
        "queries": queries,
    }
    if grants is not None:
        job["grants"] = grants
    done = subprocess.run(
        [str(RUNNER_PYTHON), str(RUNNER)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def table_rows(store: Store) -> dict[str, str]:
    """Every table of the store but the migrations ledger, as JSONEachRow text."""
    tables = store.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND name != 'schema_migrations'"
    )
    out = {}
    for table in (str(t["name"]) for t in tables):
        rows = store.query(f"SELECT * FROM `{table}`")  # noqa: S608 - names from system.tables
        out[table] = "".join(json.dumps(row, default=str) + "\n" for row in rows)
    return out


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A scenario run's store, or ("empty") a migrated store before any data arrives."""
    if request.param == "empty":
        opened = ClickHouseStore(chdb_dsn(tmp_path / "chdb"), "welfare")
        opened.open()
        migrate(opened)
    else:
        run: Run = request.getfixturevalue(request.param)
        opened = ClickHouseStore(chdb_dsn(run.data_dir / "chdb"), run.settings.clickhouse_database)
        opened.open()
    yield opened
    opened.close()


def grafana_queries(
    store: Store, all_programme: bool, settings: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every variable and panel query of every dashboard, as the plugin sends them: the
    variables resolved on `store` and substituted by Scenes, the macros expanded by the
    plugin's code (tests/support/grafana_upstream)."""
    now = datetime.now(UTC)
    start, end = now - timedelta(days=NOW_RANGE_DAYS), now + timedelta(hours=1)
    boards = build_all()
    picks: dict[str, str | None] = {"programme": ALL_SELECTED if all_programme else "first"}
    variables = resolve_boards(boards, store, start, end, picks)
    names, cases = [], []
    for uid, board in sorted(boards.items()):
        for name, sql in variable_queries(board):
            names.append(f"{uid} / ${name}")
            cases.append(Interpolation(sql, tuple(variables[uid])))
        for title, sql in panel_queries(board):
            names.append(f"{uid} / {title}")
            cases.append(Interpolation(sql, tuple(variables[uid])))
    sent = grafana_sql(cases, start, end, 60)
    refused = [
        f"{name}: {sql}"
        for name, sql in zip(names, sent, strict=True)
        if isinstance(sql, UpstreamError)
    ]
    assert refused == []
    return [
        {"name": name, "settings": settings, "sql": str(sql)}
        for name, sql in zip(names, sent, strict=True)
    ]


@pytest.mark.parametrize("all_programme", [True, False], ids=["all-programmes", "one"])
@pytest.mark.parametrize("store", ["binh_dinh_run", "drill_run", "empty"], indirect=True)
def test_every_query_runs_as_the_read_only_user(store: Store, all_programme: bool) -> None:
    settings = plugin_settings(compose_plugin_version(), provisioned_json_data())
    queries = grafana_queries(store, all_programme, settings)
    result = run_readonly(table_rows(store), queries)
    assert result["version"].startswith("25.8.")
    failed = [f"{r['name']}: {r['error'][:300]}" for r in result["results"] if not r["ok"]]
    assert failed == []
    assert len(result["results"]) == len(queries) > 20


def test_the_emulation_refuses_what_clickhouse_refuses() -> None:
    """The runner enforces readonly = 1 as ClickHouse 25.8 does: plugin 4.10.1's `limit`
    (driver.go:173) is refused with Code 164, an unchanged value is accepted."""
    sql = "SELECT count() AS n FROM commune_programme_stats"
    result = run_readonly(
        {},
        [
            {"name": "4.10.1", "sql": sql, "settings": plugin_settings("4.10.1", {})},
            {"name": "4.10.2", "sql": sql, "settings": plugin_settings("4.10.2", {})},
            {
                "name": "row limit on",
                "sql": sql,
                "settings": plugin_settings("4.10.2", {"enableRowLimit": True}),
            },
            {"name": "unchanged", "sql": sql, "settings": {"limit": 0}},
        ],
    )
    by_name = {r["name"]: r for r in result["results"]}
    assert "Code: 164" in by_name["4.10.1"]["error"] and "'limit'" in by_name["4.10.1"]["error"]
    assert by_name["4.10.2"]["ok"] and by_name["unchanged"]["ok"]
    assert not by_name["row limit on"]["ok"]
