"""Every committed dashboard's queries run on chDB as Grafana sends them, with Grafana's own
code as the oracle (tests/support/grafana_upstream; split from test_upstream_dashboards.py,
whose docstring gives the upstream versions). Issue 14 items 1, 2 and 7; issue 18 item 2.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboards.panels import PANELS
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from tests.support.chdb_readonly import readonly_chdb
from tests.support.grafana_upstream import ALL_SELECTED
from tests.support.names import unique
from tests.support.runs import Run
from tests.support.upstream_dashboards import (
    ROOT,
    load,
    pinned_plugin_version,
    plugin_settings,
    resolve_variables,
    run_targets,
)

# One language's set: the English set (uid `-en`) has the same queries (tests/unit/dashboards).
BOARDS = sorted(
    p for p in (ROOT / "dashboards" / "json").rglob("*.json") if not p.stem.endswith("-en")
)


START = datetime(2023, 1, 1, tzinfo=UTC)


END = datetime.now(UTC) + timedelta(hours=1)


def failures(data_dir: Path, database: str, picks: dict[str, str | None]) -> dict[str, str]:
    """Every dashboard's variable and panel queries as Grafana sends them; each panel's query
    must also return the columns its panel reads (dashboards/panels.py)."""
    columns = {q.sql: q.columns for q in PANELS}
    settings = plugin_settings(pinned_plugin_version())
    errors: dict[str, str] = {}
    with readonly_chdb(data_dir, database, settings) as ch:
        for path in BOARDS:
            board = load(path)
            variables = resolve_variables(board, ch, START, END, picks)
            ran = run_targets(board, ch, variables, START, END, columns=columns)
            errors |= {k: v for k, v in ran.items() if v}
    return errors


@pytest.mark.integration
@pytest.mark.parametrize("run_name", ["binh_dinh_run", "drill_run"])
@pytest.mark.parametrize("programme", [ALL_SELECTED, "first"], ids=["all", "one-programme"])
def test_every_panel_and_variable_query_runs_as_grafana_sends_it(
    request: pytest.FixtureRequest, run_name: str, programme: str
) -> None:
    """Every variable query and panel query of every dashboard, with "All" programmes and
    with one programme: no ClickHouse error. Scenes' raw custom all-value
    (MultiValueVariable.ts:211-221, 488-505 at 6.6.3) and the plugin's format function
    (CHDatasource.ts:403-415 at v4.10.1) apply; settings as sent by pkg/plugin/driver.go:166-175."""
    run: Run = request.getfixturevalue(run_name)
    errors = failures(
        run.data_dir / "chdb", run.settings.clickhouse_database, {"programme": programme}
    )
    assert not errors, "\n\n".join(f"{k}: {v}" for k, v in errors.items())


@pytest.mark.integration
def test_every_query_runs_before_any_data_arrives(tmp_path: Path) -> None:
    """Issue 14 item 7: on an empty store every variable query returns nothing, so Scenes
    sets '' (or All with includeAll) (MultiValueVariable.ts:105-128 at 6.6.3) and a raw
    `${commune}` disappears from the SQL; panels must still run (and show no data)."""
    database = unique("empty")
    store = ClickHouseStore(chdb_dsn(tmp_path / "chdb"), database)
    store.open()
    try:
        migrate(store)
    finally:
        store.close()
    errors = failures(tmp_path / "chdb", database, {})
    assert not errors, "\n\n".join(f"{k}: {v}" for k, v in errors.items())
