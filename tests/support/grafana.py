"""What Grafana sends to ClickHouse for a dashboard, following the pinned upstream code.

- Template variables: a query variable's option values are its query's first column
  (grafana-clickhouse-datasource v4.10.2 src/data/CHDatasource.ts 206-230, `metricFindQuery`:
  first field the value, second the text); a fresh single-value variable takes the first option, an
  empty one is '' (scenes 6.x MultiValueVariable.ts 117-127, 165-183); "All" is the custom
  all-value, substituted raw (MultiValueVariable.ts 211-215, 488-505), or the list of every
  option when there is none. Formatting is `dashboards.macros` (scenes formatRegistry.ts).
- Settings: what the plugin puts on each request's URL besides `database`, `default_format`
  and `client_protocol_version` (reserved HTTP parameters, not settings):
  v4.10.0-4.10.1 pkg/plugin/driver.go:173 always sets `limit` to Grafana's SQL row limit
  (pkg/plugin/settings.go:240-246; Grafana's default `[dataproxy] row_limit` is 1,000,000);
  v4.10.2 (#1294) driver.go:173-175 sets it only when the data source has `enableRowLimit`
  (settings.go:190-198, 253-261). clickhouse-go v2.40.1 conn_http.go:210-216 puts every
  setting on the URL query, where ClickHouse checks it against the user's profile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from dashboards.macros import CustomAllValue, VariableValue, interpolate

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
GRAFANA_ROW_LIMIT = 1_000_000
QueryRows = Callable[[str], list[dict[str, Any]]]


def compose_plugin_version() -> str:
    """The grafana-clickhouse-datasource version docker-compose.yml installs by default."""
    compose = yaml.safe_load(COMPOSE.read_text())
    plugins = compose["services"]["grafana"]["environment"]["GF_INSTALL_PLUGINS"]
    match = re.search(r"grafana-clickhouse-datasource\s+\$\{[A-Z_]+:-([0-9.]+)\}", plugins)
    assert match, f"GF_INSTALL_PLUGINS does not pin the plugin: {plugins}"
    return match.group(1)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def plugin_settings(version: str, json_data: dict[str, Any]) -> dict[str, Any]:
    """The ClickHouse settings plugin `version` sends with a data source's `json_data`."""
    settings: dict[str, Any] = {
        s["setting"]: s["value"] for s in json_data.get("customSettings", [])
    }
    if (4, 10, 0) <= _version(version) < (4, 10, 2):
        settings["limit"] = GRAFANA_ROW_LIMIT
    elif _version(version) >= (4, 10, 2) and json_data.get("enableRowLimit") in (True, "true"):
        settings["limit"] = GRAFANA_ROW_LIMIT
    return settings


def provisioned_json_data(uid: str = "welfare-clickhouse") -> dict[str, Any]:
    """jsonData of a provisioned ClickHouse data source: the aggregate one (`uid`
    welfare-clickhouse) or the follow-up one (welfare-clickhouse-followup)."""
    path = ROOT / "dashboards" / "provisioning" / "datasources" / "clickhouse.yaml"
    sources = yaml.safe_load(path.read_text())["datasources"]
    [source] = [s for s in sources if s["uid"] == uid]
    json_data: dict[str, Any] = source["jsonData"]
    return json_data


def options(rows: list[dict[str, Any]]) -> list[str]:
    """A query variable's option values from its rows."""
    return [str(next(iter(row.values()))) for row in rows]


def resolve_variables(
    board: dict[str, Any], query_rows: QueryRows, *, all_programme: bool = True
) -> dict[str, VariableValue]:
    """The dashboard's variables as a fresh Grafana sets them, in definition order; with
    `all_programme=False`, an include-all variable takes its first option instead of All."""
    values: dict[str, VariableValue] = {}
    for variable in board["templating"]["list"]:
        if variable["type"] != "query":
            continue
        found = options(query_rows(interpolate(variable["query"], values)))
        name = variable["name"]
        if variable.get("includeAll") and (all_programme or not found):
            values[name] = (
                CustomAllValue(variable["allValue"]) if variable.get("allValue") else found
            )
        else:
            values[name] = found[0] if found else ""
    return values


def variable_queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, query) of each query variable."""
    return [(v["name"], v["query"]) for v in board["templating"]["list"] if v["type"] == "query"]


def panel_queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(title, rawSql) of every panel target and annotation of a dashboard."""
    for panel in board["panels"]:
        for target in panel["targets"]:
            yield f"{panel['title']} [{target['refId']}]", target["rawSql"]
    for annotation in board["annotations"]["list"]:
        yield annotation["name"], annotation["target"]["rawSql"]
