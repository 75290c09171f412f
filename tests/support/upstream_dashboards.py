"""Dashboards run the way Grafana runs them, with upstream code (tests/support/grafana_upstream)
and a read-only chDB (tests/support/chdb_readonly): shared by the dashboard tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from dashboards import panels as p
from dashboards.macros import TimeRange, expand
from streams.web.live_data import DRILL_PANELS, PAGE_PANELS
from tests.support.grafana_upstream import (
    ALL_SELECTED,
    Interpolation,
    UpstreamError,
    Variable,
    grafana_sql,
)

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(
    r"grafana-clickhouse-datasource \$\{GRAFANA_CLICKHOUSE_PLUGIN_VERSION:-([\d.]+)\}"
)
# Grafana's default [dataproxy] row_limit (conf/defaults.ini), which the data source reads as
# its RowLimit (pkg/plugin/settings.go:240-246 at v4.10.1).
GRAFANA_ROW_LIMIT = 1_000_000


def pinned_plugin_version() -> str:
    """The data-source plugin version docker-compose.yml installs by default."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    found = _PIN.search(text)
    assert found, "docker-compose.yml no longer pins grafana-clickhouse-datasource"
    return found.group(1)


def plugin_settings(version: str) -> dict[str, int | str]:
    """The ClickHouse settings the plugin sends with every query.

    The provisioned data source's jsonData.customSettings (pkg/plugin/driver.go:166-171), plus
    `limit`: always in v4.10.1 (driver.go:173), from v4.10.2 only with enableRowLimit, which
    the provisioning does not set (driver.go:173-175 at v4.10.2, upstream #1294).
    """
    provisioning = ROOT / "dashboards/provisioning/datasources/clickhouse.yaml"
    sources = yaml.safe_load(provisioning.read_text(encoding="utf-8"))["datasources"]
    [source] = [s for s in sources if s.get("uid") == "welfare-clickhouse"]
    json_data = source.get("jsonData") or {}
    settings: dict[str, int | str] = {
        s["setting"]: int(s["value"]) if str(s["value"]).isdigit() else s["value"]
        for s in json_data.get("customSettings") or []
    }
    major_minor_patch = tuple(int(x) for x in version.split("."))
    if major_minor_patch <= (4, 10, 1) or json_data.get("enableRowLimit"):
        settings["limit"] = GRAFANA_ROW_LIMIT
    return settings


@dataclass(frozen=True)
class Target:
    dashboard: str
    title: str
    sql: str
    format: int


def load(path: Path) -> dict[str, Any]:
    import json

    board: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return board


def targets(board: dict[str, Any]) -> list[Target]:
    """Every panel query and annotation query of a dashboard's JSON."""
    out = [
        Target(board["uid"], p["title"], t["rawSql"], int(t.get("format", 1)))
        for p in board.get("panels", [])
        for t in p.get("targets", [])
    ]
    out += [
        Target(board["uid"], a["name"], a["target"]["rawSql"], 1)
        for a in board.get("annotations", {}).get("list", [])
        if isinstance(a.get("target"), dict) and "rawSql" in a["target"]
    ]
    return out


def variable_sql(model: dict[str, Any]) -> str:
    query = model.get("query")
    return str(query.get("rawSql") or query.get("query")) if isinstance(query, dict) else str(query)


def options_from_rows(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """metricFindQuery's convention (src/data/CHDatasource.ts:221-229 at v4.10.1): one column
    gives text = value; otherwise the first column is the value, the second the text."""
    out = []
    for row in rows:
        cells = list(row.values())
        value, text = (cells[0], cells[0]) if len(cells) == 1 else (cells[0], cells[1])
        out.append((str(value), str(text)))
    return out


class Runner(Protocol):
    """Runs a query and returns its rows: a ReadonlyChdb, or a store."""

    def query(self, sql: str) -> list[dict[str, Any]]: ...


def _variables(model: dict[str, Any]) -> bool:
    return model.get("type") in ("query", "custom")


def _resolve_one(
    uid: str,
    model: dict[str, Any],
    sql: str | UpstreamError,
    runner: Runner,
    picks: dict[str, str | None],
) -> Variable:
    """A variable once its query, as Grafana sends it, has run: Scenes' default choice or
    `picks[name]`: a value, ALL_SELECTED, or the first option when the pick is "first"."""
    if isinstance(sql, UpstreamError):
        raise AssertionError(f"{uid} variable {model['name']}: {sql}")
    try:
        options = options_from_rows(runner.query(sql))
    except Exception as e:
        raise AssertionError(f"{uid} variable {model['name']}: {e}\n{sql}") from e
    pick: str | list[str] | None = picks.get(model["name"])
    if pick == "first":  # the first option ([first] for a multi-value variable)
        first = options[0][0] if options else None
        pick = [first] if first is not None and model.get("multi") else first
    return Variable.from_dashboard(model, options, pick)


def resolve_variables(
    board: dict[str, Any],
    runner: Runner,
    start: datetime,
    end: datetime,
    picks: dict[str, str | None],
) -> list[Variable]:
    """Each variable's options from its own query (itself substituted and expanded upstream
    with the variables before it), then Scenes' default choice or `picks[name]`."""
    return resolve_boards({board["uid"]: board}, runner, start, end, picks)[board["uid"]]


def resolve_boards(
    boards: dict[str, dict[str, Any]],
    runner: Runner,
    start: datetime,
    end: datetime,
    picks: dict[str, str | None],
) -> dict[str, list[Variable]]:
    """`resolve_variables` for many dashboards, by uid: one upstream call per variable
    position (each board's n-th variable depends only on its own earlier ones)."""
    models = {
        uid: [m for m in board.get("templating", {}).get("list", []) if _variables(m)]
        for uid, board in boards.items()
    }
    resolved: dict[str, list[Variable]] = {uid: [] for uid in boards}
    for i in range(max((len(m) for m in models.values()), default=0)):
        todo = [(uid, ms[i]) for uid, ms in models.items() if i < len(ms)]
        sqls = grafana_sql(
            [Interpolation(variable_sql(m), tuple(resolved[uid])) for uid, m in todo], start, end
        )
        for (uid, model), sql in zip(todo, sqls, strict=True):
            resolved[uid].append(_resolve_one(uid, model, sql, runner, picks))
    return resolved


def run_targets(
    board: dict[str, Any],
    runner: Runner,
    variables: list[Variable],
    start: datetime,
    end: datetime,
    interval_s: float = 60,
    columns: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, str | None]:
    """Each target's error (None when it ran), keyed by title. With `columns` (raw SQL ->
    the columns its panel reads), a query missing one of them is an error too."""
    found = targets(board)
    sqls = grafana_sql(
        [Interpolation(t.sql, tuple(variables)) for t in found], start, end, interval_s
    )
    out: dict[str, str | None] = {}
    for target, sql in zip(found, sqls, strict=True):
        key = f"{target.dashboard} / {target.title}"
        if isinstance(sql, UpstreamError):
            out[key] = f"upstream: {sql}"
            continue
        try:
            runner.query(sql)
            out[key] = None
            wanted = (columns or {}).get(target.sql, ())
            if wanted:
                got = {row["name"] for row in runner.query(f"DESCRIBE ({sql})")}
                missing = sorted(set(wanted) - got)
                out[key] = f"missing columns {missing}\n{sql}" if missing else None
        except Exception as e:
            out[key] = f"{e}\n--- SQL sent ---\n{sql}"
    return out


def live_page_cases(programme: Variable, window: TimeRange) -> tuple[list[str], list[str]]:
    """The live page's queries (streams/web/live_data.py) as dashboards/macros.py expands them
    and as Grafana would send them, with the same period, commune, province and programme
    ("All" is panels.ALL for the live page, Scenes' "All" for Grafana)."""
    values = {
        "period": "2023-06",
        "commune": "52123",
        "province": "52",
        "programme": p.ALL if programme.select == ALL_SELECTED else str(programme.select),
    }
    variables = (
        Variable("period", (("2023-06", "2023-06"),), select="2023-06"),
        Variable("commune", (("52123", "52123"),), select="52123"),
        Variable("province", (("52", "52"),), select="52"),
        programme,
    )
    queries = [q.sql for q in (*PAGE_PANELS, *DRILL_PANELS)]
    ours = [expand(sql, values, window) for sql in queries]
    upstream = grafana_sql(
        [Interpolation(sql, variables) for sql in queries],
        window.start,
        window.end,
        window.interval_s,
    )
    return ours, [str(u) for u in upstream]
