"""The committed dashboards are what the code generates, and reference only existing uids."""

from pathlib import Path
from typing import Any

import yaml

from dashboards.build import FOLDER_UID, JSON_DIR, build_all, render, stale
from dashboards.panels import DATASOURCE_TYPE, DATASOURCE_UID, PANELS

ROOT = Path(__file__).resolve().parents[2]
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
    assert sorted(p.stem for p in JSON_DIR.glob("*.json")) == sorted(build_all())


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


def test_provisioning_references_only_uids_that_exist() -> None:
    sources = yaml.safe_load((PROVISIONING / "datasources" / "clickhouse.yaml").read_text())
    [source] = sources["datasources"]
    assert (source["uid"], source["type"]) == (DATASOURCE_UID, DATASOURCE_TYPE)
    assert "password" in source["secureJsonData"]
    assert source["secureJsonData"]["password"].startswith("${")
    for board in build_all().values():
        for ref in datasources_in(board):
            assert ref == {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "welfare.yaml").read_text())
    [provider] = providers["providers"]
    assert provider["folderUid"] == FOLDER_UID
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./dashboards/json:{provider['options']['path']}:ro" in mounts
