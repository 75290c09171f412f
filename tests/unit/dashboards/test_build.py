"""The committed dashboards are what the code generates, and reference only existing uids."""

import re
from pathlib import Path
from typing import Any

import yaml

from dashboards import panels as p
from dashboards.build import (
    BANKS_FOLDER,
    COLUMN_UNITS,
    DATASOURCE,
    DATASOURCE_VARIABLE,
    FOLDERS,
    FOLLOWUP_DATASOURCE,
    FOLLOWUP_DATASOURCE_VARIABLE,
    JSON_DIR,
    build_all,
    folder_of,
    json_path,
    render,
    source_boards,
    stale,
)
from dashboards.macros import CustomAllValue, interpolate
from dashboards.panels import COMMUNE_FOLLOWUP, DATASOURCE_TYPE, PANELS

ROOT = Path(__file__).resolve().parents[3]
PROVISIONING = ROOT / "dashboards" / "provisioning"


def datasources_in(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("datasource"), dict):
            found.append(node["datasource"])
        for value in node.values():
            found += datasources_in(value)
    elif isinstance(node, list):
        for value in node:
            found += datasources_in(value)
    return found


def test_regenerating_changes_nothing() -> None:
    assert stale() == []
    assert sorted(path.stem for path in JSON_DIR.rglob("*.json")) == sorted(build_all())


def test_generation_is_deterministic() -> None:
    assert {u: render(b) for u, b in build_all().items()} == {
        u: render(b) for u, b in build_all().items()
    }


def test_four_dashboards_per_language_with_stable_uids_and_tags() -> None:
    boards = build_all()
    four = ["wm-commune", "wm-coverage", "wm-overview", "wm-pipeline"]
    assert sorted(boards) == sorted([*four, *(f"{uid}-en" for uid in four)])
    for board in boards.values():
        assert "welfare-monitor" in board["tags"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))


def test_every_target_is_a_panel_query_from_the_one_place() -> None:
    known = {q.sql for q in PANELS}
    for board in build_all().values():
        targets = [t for p in board["panels"] for t in p["targets"]]
        targets += [a["target"] for a in board["annotations"]["list"]]
        for t in targets:
            assert t["rawSql"] in known
            assert t["editorType"] == "sql" and t["queryType"] in ("table", "timeseries")


def panels_of(board: dict[str, Any]) -> list[dict[str, Any]]:
    return list(board["panels"])


def test_dashboards_import_anywhere_through_a_data_source_variable() -> None:
    """No data-source uid is written in the JSON: every panel, target and annotation reads the
    dashboard's `datasource` variable (type grafana-clickhouse-datasource), so the JSON imports
    into any Grafana and `dashboards push --datasource-uid` can point it at an existing one."""
    for uid, board in build_all().items():
        [variable] = [
            v
            for v in board["templating"]["list"]
            if v["type"] == "datasource" and v["name"] == DATASOURCE_VARIABLE
        ]
        assert (variable["name"], variable["query"]) == (DATASOURCE_VARIABLE, DATASOURCE_TYPE)
        refs = datasources_in(board)
        assert refs and all(ref in (DATASOURCE, FOLLOWUP_DATASOURCE) for ref in refs), uid
        assert "welfare-clickhouse" not in render(board), uid


def test_only_the_follow_up_panel_reads_the_follow_up_data_source() -> None:
    """Pseudonyms are read through the narrowly granted follow-up source, by one panel per
    language, and that panel reads nothing else; every other panel reads the aggregate one."""
    for uid, board in build_all().items():
        followup = [pa for pa in board["panels"] if pa["datasource"] == FOLLOWUP_DATASOURCE]
        others = [pa for pa in board["panels"] if pa["datasource"] != FOLLOWUP_DATASOURCE]
        if uid.startswith("wm-commune"):
            [panel] = followup
            assert [t["rawSql"] for t in panel["targets"]] == [COMMUNE_FOLLOWUP.sql]
            assert all(t["datasource"] == FOLLOWUP_DATASOURCE for t in panel["targets"])
            [variable] = [
                v for v in board["templating"]["list"] if v["name"] == FOLLOWUP_DATASOURCE_VARIABLE
            ]
            assert variable["type"] == "datasource" and variable["regex"] == "/follow-up/i"
        else:
            assert followup == []
        for pa in others:
            assert all(t["datasource"] == DATASOURCE for t in pa["targets"]), uid
            assert all("followup" not in t["rawSql"] for t in pa["targets"]), uid


def test_provisioning_matches_the_folders_and_the_data_source() -> None:
    sources = yaml.safe_load((PROVISIONING / "datasources" / "clickhouse.yaml").read_text())
    source, followup = sources["datasources"]
    assert re.search("follow-up", followup["name"], re.I) and not re.search(
        "follow-up", source["name"], re.I
    )  # the follow-up panel's variable lists only the second (regex /follow-up/i)
    assert followup["jsonData"]["username"] == "${GRAFANA_FOLLOWUP_CLICKHOUSE_USER}"
    assert followup["secureJsonData"]["password"] == "${GRAFANA_FOLLOWUP_CLICKHOUSE_PASSWORD}"
    assert source["type"] == DATASOURCE_TYPE
    assert "password" in source["secureJsonData"]
    assert source["secureJsonData"]["password"].startswith("${")
    assert "enableRowLimit" not in source["jsonData"]  # the read-only profile refuses `limit`
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "welfare.yaml").read_text())
    by_folder = {pr["folderUid"]: pr for pr in providers["providers"]}
    assert sorted(by_folder) == sorted(f.uid for f in FOLDERS)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    for folder in FOLDERS:
        provider = by_folder[folder.uid]
        assert provider["folder"] == folder.title
        assert f"./dashboards/json/{folder.uid}:{provider['options']['path']}:ro" in mounts
    home = compose["services"]["grafana"]["environment"][
        "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"
    ]
    host = {v.split(":")[1]: v.split(":")[0] for v in mounts if v.startswith("./")}
    directory, name = home.rsplit("/", 1)
    assert (ROOT / host[directory] / name).is_file(), home


def test_the_bank_facing_dashboard_has_a_folder_of_its_own() -> None:
    boards = build_all()
    assert folder_of("wm-coverage") == BANKS_FOLDER
    in_banks = [uid for uid in boards if folder_of(uid) == BANKS_FOLDER]
    assert in_banks == ["wm-coverage", "wm-coverage-en"]  # each language's set
    assert json_path("wm-coverage").parent.name == BANKS_FOLDER.uid


def test_units_are_set_per_field_never_for_a_whole_panel() -> None:
    """A unit in fieldConfig.defaults applies to every field of the panel: a count of 127,450
    would read 12,745,000% and province code 52 as 5,200% with percentunit."""
    by_sql = {q.sql: q for q in PANELS}
    for uid, board in build_all().items():
        for panel in panels_of(board):
            assert "unit" not in panel["fieldConfig"]["defaults"], f"{uid} / {panel['title']}"
            units = {
                o["matcher"]["options"]: prop["value"]
                for o in panel["fieldConfig"]["overrides"]
                for prop in o["properties"]
                if o["matcher"]["id"] == "byName" and prop["id"] == "unit"
            }
            columns = {c for t in panel["targets"] for c in by_sql[t["rawSql"]].columns}
            assert units == {c: COLUMN_UNITS[c] for c in columns if c in COLUMN_UNITS}
            assert [c for c, unit in units.items() if unit == "percentunit"] in (
                [],
                ["cashless_rate"],
            )


def test_the_all_programme_is_valid_sql_when_substituted_raw() -> None:
    """Grafana substitutes the custom all-value raw (see test_macros): the filter must still
    compare two string literals."""
    [variable] = [
        v
        for board in source_boards().values()
        for v in board["templating"]["list"]
        if v["name"] == "programme"
    ]
    assert variable["includeAll"] and variable["current"]["value"] == "$__all"
    filled = interpolate(p.PROGRAMME_FILTER, {"programme": CustomAllValue(variable["allValue"])})
    assert filled == "('__all' = '__all' OR s.programme = '__all')"


def test_variables_refresh_with_the_time_range() -> None:
    """Refreshed on time-range change (2), the dashboard's 30 s refresh fills a variable that
    was empty before the first data arrived; on load only (1) it stays empty until a reload."""
    for board in build_all().values():
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                assert variable["refresh"] == 2


def test_the_freshness_stat_shows_its_time_fields() -> None:
    """A stat reduces numeric fields only unless reduceOptions.fields selects others."""
    [freshness] = [
        pn
        for pn in build_all()["wm-pipeline"]["panels"]
        if pn["targets"][0]["rawSql"] == p.FRESHNESS.sql
    ]
    fields = freshness["options"]["reduceOptions"]["fields"]
    assert fields == "/.*/"
    assert {"last_health_row", "latest_event_at"} <= set(p.FRESHNESS.columns)


def test_beneficiaries_per_atm_draws_one_measure() -> None:
    [chart] = [
        pn
        for pn in build_all()["wm-coverage"]["panels"]
        if pn["targets"][0]["rawSql"] == p.BENEFICIARIES_PER_ATM.sql
    ]
    hidden = {
        o["matcher"]["options"]
        for o in chart["fieldConfig"]["overrides"]
        for prop in o["properties"]
        if prop["id"] == "custom.hideFrom" and prop["value"]["viz"]
    }
    numeric = set(p.BENEFICIARIES_PER_ATM.columns) - {"province"}
    assert numeric - hidden == {"beneficiaries_per_atm"}
