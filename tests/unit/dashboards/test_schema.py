"""The generated dashboards fit Grafana 11.6's typed dashboard models (grafana-foundation-sdk
for Grafana 11.6, models/dashboard.py and the panel models registered by
cog/plugins.register_default_plugins).

Each dashboard is decoded into the typed models and encoded back: any key the models do not
know is dropped, so the round trip must give back every key and value we wrote. Decoding does
not check enumerations, so the values of the schema's enums are checked against the SDK's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import (
    Dashboard,
    DashboardCursorSync,
    DashboardLinkType,
    VariableHide,
    VariableRefresh,
    VariableSort,
    VariableType,
)

from dashboards.build import build_all

# The models' AnnotationTarget only knows the built-in "grafana" data source's fields ("TODO:
# this should be a regular DataQuery", models/dashboard.py AnnotationTarget); a data-source
# annotation's query lives there in Grafana, so it is the one place keys may be dropped.
ANNOTATION_QUERY = ".annotations.list[0].target."


def lost(ours: Any, back: Any, path: str = "") -> list[str]:
    """Keys and values of `ours` that `back` does not have."""
    if isinstance(ours, dict):
        if not isinstance(back, dict):
            return [f"{path}: became {type(back).__name__}"]
        out = []
        for key, value in ours.items():
            out += (
                lost(value, back[key], f"{path}.{key}")
                if key in back
                else [f"{path}.{key}: dropped"]
            )
        return out
    if isinstance(ours, list):
        if not isinstance(back, list) or len(ours) != len(back):
            return [f"{path}: list changed"]
        return [
            d
            for i, (a, b) in enumerate(zip(ours, back, strict=True))
            for d in lost(a, b, f"{path}[{i}]")
        ]
    return [] if ours == back else [f"{path}: {ours!r} became {back!r}"]


def check_enums(board: dict[str, Any]) -> None:
    """Raise ValueError for a value outside the schema's enumerations."""
    DashboardCursorSync(board["graphTooltip"])
    for link in board["links"]:
        DashboardLinkType(link["type"])
    for variable in board["templating"]["list"]:
        VariableType(variable["type"])
        VariableRefresh(variable.get("refresh", 0))
        VariableHide(variable.get("hide", 0))
        VariableSort(variable.get("sort", 0))


@pytest.mark.parametrize("uid", sorted(build_all()))
def test_the_dashboard_round_trips_through_the_typed_models(uid: str) -> None:
    register_default_plugins()
    board = build_all()[uid]
    back = json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))
    assert [d for d in lost(board, back) if not d.startswith(ANNOTATION_QUERY)] == []
    check_enums(board)


def test_a_value_outside_the_schema_is_caught() -> None:
    register_default_plugins()
    board = build_all()["wm-overview"]
    broken = json.loads(json.dumps(board))
    broken["templating"]["list"][1]["refresh"] = 7
    with pytest.raises(ValueError):
        check_enums(broken)
    extra = json.loads(json.dumps(board))
    extra["panels"][0]["fieldConfig"]["defaults"]["unitt"] = "percent"
    back = json.loads(json.dumps(Dashboard.from_json(extra), cls=JSONEncoder))
    assert lost(extra, back) == [".panels[0].fieldConfig.defaults.unitt: dropped"]
