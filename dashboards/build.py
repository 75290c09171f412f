"""Generate the Grafana dashboards from code into deterministic JSON (stable uids, sorted keys)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboards import panels as p
from dashboards.panels import DATASOURCE_TYPE, PanelQuery

JSON_DIR = Path(__file__).resolve().parent / "json"


@dataclass(frozen=True)
class Folder:
    """A Grafana folder; its dashboards are written to json/<uid>/."""

    uid: str
    title: str


STAFF_FOLDER = Folder("welfare-monitor", "Welfare monitor")
# The bank-facing dashboard has a folder of its own, so bank users can be given that alone.
BANKS_FOLDER = Folder("welfare-monitor-banks", "Welfare monitor - banks")
FOLDERS = (STAFF_FOLDER, BANKS_FOLDER)
FOLDER_UID, FOLDER_TITLE = STAFF_FOLDER.uid, STAFF_FOLDER.title
BOARD_FOLDERS = {"wm-coverage": BANKS_FOLDER}
# grafana-clickhouse-datasource version the dashboards are written for (docker-compose.yml
# installs the same one; 4.10.2 stopped sending `limit` to read-only users, upstream #1294).
PLUGIN_VERSION = "4.10.2"
# Every panel reads the dashboard's data-source variable, so the JSON imports into any
# Grafana with a ClickHouse data source (no data-source uid is written in it).
DATASOURCE_VARIABLE = "datasource"
DATASOURCE = {"type": DATASOURCE_TYPE, "uid": "${" + DATASOURCE_VARIABLE + "}"}
# The follow-up panel reads a second data-source variable, limited to data sources whose name
# says "follow-up": the narrowly granted reader of pseudonyms (docs/server-mode.md).
FOLLOWUP_DATASOURCE_VARIABLE = "followup_datasource"
FOLLOWUP_DATASOURCE = {"type": DATASOURCE_TYPE, "uid": "${" + FOLLOWUP_DATASOURCE_VARIABLE + "}"}
# Unit of each column, applied per field (overrides), never to a whole panel.
COLUMN_UNITS = {
    "cashless_rate": "percentunit",
    "access_points_per_10k": "short",
    "nearest_atm_km": "lengthkm",
    "freshness_s": "s",
    "median_days": "d",
    "p90_days": "d",
    "events_per_s": "short",
    "last_health_row": "dateTimeAsIso",
    "latest_event_at": "dateTimeAsIso",
    "raised_at": "dateTimeAsIso",
}
# The plugin's Format enum: 0 time series, 1 table.
FORMATS = {"table": 1, "timeseries": 0}


def target(query: PanelQuery, ref_id: str = "A") -> dict[str, Any]:
    """A panel target in the grafana-clickhouse-datasource query model."""
    return {
        "datasource": DATASOURCE,
        "editorType": "sql",
        "format": FORMATS[query.query_type],
        "pluginVersion": PLUGIN_VERSION,
        "queryType": query.query_type,
        "rawSql": query.sql,
        "refId": ref_id,
    }


def by_name(column: str, *properties: tuple[str, Any]) -> dict[str, Any]:
    """A field override for the column named `column`."""
    return {
        "matcher": {"id": "byName", "options": column},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


def panel(
    panel_id: int,
    query: PanelQuery,
    x: int,
    y: int,
    w: int,
    h: int,
    *,
    context_only: tuple[str, ...] = (),
    **options: Any,
) -> dict[str, Any]:
    """One panel drawing `query`; `context_only` columns show in the tooltip, not drawn."""
    overrides = [
        by_name(column, ("unit", COLUMN_UNITS[column]))
        for column in query.columns
        if column in COLUMN_UNITS
    ]
    overrides += [
        by_name(column, ("custom.hideFrom", {"legend": True, "tooltip": False, "viz": True}))
        for column in context_only
    ]
    out: dict[str, Any] = {
        "datasource": DATASOURCE,
        "description": query.description,
        "fieldConfig": {"defaults": {}, "overrides": overrides},
        "gridPos": {"h": h, "w": w, "x": x, "y": y},
        "id": panel_id,
        "options": options,
        "targets": [target(query)],
        "title": query.title,
        "type": query.panel_type,
    }
    return out


def query_variable(name: str, label: str, sql: str, *, include_all: bool = False) -> dict[str, Any]:
    """A template variable filled by a ClickHouse query."""
    variable: dict[str, Any] = {
        "datasource": DATASOURCE,
        "includeAll": include_all,
        "label": label,
        "multi": False,
        "name": name,
        "query": sql,
        # 2: refreshed with the time range, so the 30 s dashboard refresh fills variables
        # that were empty before the first data arrived.
        "refresh": 2,
        "sort": 0,
        "type": "query",
    }
    if include_all:
        variable["allValue"] = p.ALL_VALUE
        variable["current"] = {"text": "All", "value": "$__all"}
    return variable


def datasource_variable() -> dict[str, Any]:
    """The data-source picker every panel reads (any grafana-clickhouse-datasource)."""
    return {
        "hide": 0,
        "includeAll": False,
        "label": "Data source",
        "multi": False,
        "name": DATASOURCE_VARIABLE,
        "query": DATASOURCE_TYPE,
        "refresh": 1,
        "regex": "",
        "type": "datasource",
    }


def followup_datasource_variable() -> dict[str, Any]:
    """The follow-up panel's data-source picker: ClickHouse sources named *follow-up*."""
    return datasource_variable() | {
        "label": "Follow-up data source",
        "name": FOLLOWUP_DATASOURCE_VARIABLE,
        "regex": "/follow-up/i",
    }


def followup_panel(
    panel_id: int, query: PanelQuery, x: int, y: int, w: int, h: int
) -> dict[str, Any]:
    """A panel reading the follow-up data source (its panel and target)."""
    out = panel(panel_id, query, x, y, w, h)
    out["datasource"] = FOLLOWUP_DATASOURCE
    out["targets"] = [t | {"datasource": FOLLOWUP_DATASOURCE} for t in out["targets"]]
    return out


def dashboard(
    uid: str,
    title: str,
    description: str,
    tags: list[str],
    panels: list[dict[str, Any]],
    variables: list[dict[str, Any]],
    *,
    time_from: str = "now-7d",
    annotations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A whole dashboard."""
    return {
        "annotations": {"list": annotations or []},
        "description": description,
        "editable": True,
        "graphTooltip": 1,
        "links": [
            {
                "asDropdown": True,
                "includeVars": True,
                "keepTime": True,
                "tags": ["welfare-monitor"],
                "title": "Welfare monitor",
                "type": "dashboards",
            }
        ],
        "panels": panels,
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": ["welfare-monitor", *tags],
        "templating": {"list": [datasource_variable(), *variables]},
        "time": {"from": time_from, "to": "now"},
        "timezone": "utc",
        "title": title,
        "uid": uid,
        "version": 1,
    }


def source_boards() -> dict[str, dict[str, Any]]:
    """The dashboards in their source language (English) by uid; see `build_all`."""
    period = query_variable("period", "Period", p.PERIOD_VARIABLE)
    province = query_variable("province", "Province", p.PROVINCE_VARIABLE)
    commune = query_variable("commune", "Commune", p.COMMUNE_VARIABLE)
    programme = query_variable("programme", "Programme", p.PROGRAMME_VARIABLE, include_all=True)
    boards = [
        dashboard(
            "wm-overview",
            "Cashless overview",
            "National and provincial cashless rates as numerator / denominator, trend, "
            "ranking, worst communes and channel mix. For labour and social-affairs staff.",
            ["cashless", "overview"],
            [
                panel(
                    1,
                    p.NATION_STAT,
                    0,
                    0,
                    8,
                    6,
                    reduceOptions={
                        "calcs": ["lastNotNull"],
                        "fields": "/^headline$/",
                        "values": False,
                    },
                    textMode="value",
                ),
                panel(2, p.TREND, 8, 0, 16, 6, xField="period"),
                panel(3, p.PROVINCE_STATS, 0, 6, 12, 10),
                panel(
                    4,
                    p.CHANNEL_MIX,
                    12,
                    6,
                    12,
                    10,
                    reduceOptions={"calcs": ["lastNotNull"], "values": True},
                ),
                panel(5, p.WORST_COMMUNES, 0, 16, 24, 12),
                panel(6, p.COMMUNE_TABLE, 0, 28, 24, 14),
            ],
            [period],
        ),
        dashboard(
            "wm-commune",
            "Commune drill-down",
            "One commune: counts, failures by reason, time to pay, programmes and alerts "
            "(also shown as annotations). Choose the province, then the commune.",
            ["cashless", "commune"],
            [
                panel(1, p.COMMUNE_STAT, 0, 0, 24, 5),
                panel(2, p.COMMUNE_FAILURES, 0, 5, 12, 9),
                panel(3, p.COMMUNE_TIME_TO_PAY, 12, 5, 12, 9),
                panel(4, p.COMMUNE_PROGRAMMES, 0, 14, 24, 8),
                panel(5, p.COMMUNE_ALERTS, 0, 22, 24, 9),
                followup_panel(6, p.COMMUNE_FOLLOWUP, 0, 31, 24, 12),
            ],
            [province, commune, programme, period, followup_datasource_variable()],
            time_from="now-30d",
            annotations=[
                {
                    "datasource": DATASOURCE,
                    "enable": True,
                    "iconColor": "red",
                    "name": "Alerts",
                    "target": target(p.ALERT_ANNOTATIONS, "Anno"),
                }
            ],
        ),
        dashboard(
            "wm-coverage",
            "Access and coverage gaps",
            "For banks: communes ranked by coverage gap (many beneficiaries, low cashless "
            "rate, few or far access points), beneficiaries per ATM, distance to the nearest "
            "ATM, and a map of communes and access points (synthetic coordinates).",
            ["coverage", "banks"],
            [
                panel(1, p.COVERAGE_GAPS, 0, 0, 24, 12),
                # One measure on the axis; due and ATMs in the tooltip.
                panel(
                    2,
                    p.BENEFICIARIES_PER_ATM,
                    0,
                    12,
                    12,
                    10,
                    context_only=("due", "atms"),
                    xField="province",
                ),
                {
                    **panel(
                        3,
                        p.COMMUNE_MAP,
                        12,
                        12,
                        12,
                        14,
                        view={
                            "id": "coords",
                            "lat": 16.0,
                            "lon": 106.0,
                            "zoom": 5,
                        },
                        layers=[
                            {
                                "type": "markers",
                                "name": "Communes",
                                "filterData": {"id": "byRefId", "options": "A"},
                                "location": {
                                    "mode": "coords",
                                    "latitude": "latitude",
                                    "longitude": "longitude",
                                },
                                "config": {
                                    "size": {"field": "gap_score", "min": 3, "max": 20},
                                    "color": {"field": "gap_score"},
                                },
                            },
                            {
                                "type": "markers",
                                "name": "Access points",
                                "filterData": {"id": "byRefId", "options": "B"},
                                "location": {
                                    "mode": "coords",
                                    "latitude": "latitude",
                                    "longitude": "longitude",
                                },
                                "config": {"size": {"fixed": 4}, "color": {"fixed": "blue"}},
                            },
                        ],
                    ),
                    "targets": [target(p.COMMUNE_MAP, "A"), target(p.ACCESS_POINT_MAP, "B")],
                },
            ],
            [period],
        ),
        dashboard(
            "wm-pipeline",
            "Pipeline operations",
            "Throughput, consumer lag, dead letters by class and data freshness, from the "
            "workers' health rows. For the ops team.",
            ["operations"],
            [
                panel(1, p.EVENTS_PER_S, 0, 0, 12, 8),
                panel(2, p.CONSUMER_LAG, 12, 0, 12, 8),
                panel(3, p.DEAD_LETTERS, 0, 8, 12, 8),
                # Every field, the time ones included (a stat shows numbers only by default).
                panel(
                    4,
                    p.FRESHNESS,
                    12,
                    8,
                    12,
                    8,
                    reduceOptions={
                        "calcs": ["lastNotNull"],
                        "fields": "/.*/",
                        "values": False,
                    },
                ),
            ],
            [],
            time_from="now-6h",
        ),
    ]
    return {b["uid"]: b for b in boards}


def build_all() -> dict[str, dict[str, Any]]:
    """Every dashboard by uid: one set per language (dashboards.i18n), Vietnamese with the
    source uids, English with `-en` uids."""
    from dashboards.i18n import translate
    from schemas.i18n import LANGUAGES

    return {
        board["uid"]: board
        for language in LANGUAGES
        for board in (translate(b, language) for b in source_boards().values())
    }


def render(board: dict[str, Any]) -> str:
    """Deterministic JSON text of a dashboard."""
    return json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def folder_of(uid: str) -> Folder:
    """The folder a dashboard belongs in."""
    return BOARD_FOLDERS.get(uid.removesuffix("-en"), STAFF_FOLDER)


def json_path(uid: str, directory: Path = JSON_DIR) -> Path:
    """Where a dashboard's JSON is committed: json/<folder uid>/<uid>.json."""
    return directory / folder_of(uid).uid / f"{uid}.json"


def write_all(directory: Path = JSON_DIR) -> list[Path]:
    """Write every dashboard's JSON; returns the paths written."""
    written = []
    for uid, board in sorted(build_all().items()):
        path = json_path(uid, directory)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(board), encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path = JSON_DIR) -> list[str]:
    """Dashboards whose committed JSON differs from what the code generates, and JSON files
    no dashboard generates (by file stem)."""
    out = []
    expected = {json_path(uid, directory) for uid in build_all()}
    for uid, board in sorted(build_all().items()):
        path = json_path(uid, directory)
        if not path.is_file() or path.read_text(encoding="utf-8") != render(board):
            out.append(uid)
    out += sorted(p.stem for p in directory.rglob("*.json") if p not in expected)
    return out
