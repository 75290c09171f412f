"""Grafana's own code as the tests' oracle for dashboard queries (see docs/testing.md).

- `interpolate_many` substitutes template variables with @grafana/scenes' interpolation
  (tests/upstream/node, bundled with esbuild and run by Node);
- `expand_many` expands the ClickHouse data source's macros with grafana-plugin-sdk-go's sqlutil
  and grafana/sqlds (tests/upstream/go).

Both batch many queries into one subprocess call. The tools are built on first use by
`make upstream-tools` (a no-op when they are up to date) into the ignored `.cache/upstream`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "upstream"
ALL_SELECTED = "$__all"  # Scenes' ALL_VARIABLE_VALUE (src/variables/constants.ts)
PLUGIN_FORMAT = "plugin"  # the data source's own format function (CHDatasource.ts:410-415)


class UpstreamError(Exception):
    """Upstream code rejected a query (its message says why)."""


@dataclass(frozen=True)
class Variable:
    """A dashboard template variable, as Scenes holds it after its query returned `options`.

    `select` is what a user (or the URL) then picks: None keeps Scenes' own choice,
    ALL_SELECTED picks "All", or a value (a list for a multi-value variable).
    """

    name: str
    options: Sequence[tuple[str, str]] = ()  # (value, text)
    include_all: bool = False
    all_value: str | None = None
    multi: bool = False
    select: str | list[str] | None = None
    kind: str = "query"

    @classmethod
    def from_dashboard(
        cls,
        model: dict[str, Any],
        options: Sequence[tuple[str, str]],
        select: str | list[str] | None = None,
    ) -> Variable:
        """From a variable of a dashboard's JSON `templating.list`."""
        return cls(
            model["name"],
            tuple(options),
            bool(model.get("includeAll")),
            model.get("allValue") or None,
            bool(model.get("multi")),
            select,
            model.get("type", "query"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind,
            "includeAll": self.include_all,
            "allValue": self.all_value,
            "multi": self.multi,
            "select": self.select,
            "options": [{"value": v, "text": t} for v, t in self.options],
        }


@dataclass(frozen=True)
class Interpolation:
    sql: str
    variables: Sequence[Variable] = field(default_factory=tuple)
    format: str | None = PLUGIN_FORMAT


@dataclass(frozen=True)
class MacroQuery:
    sql: str
    start: datetime
    end: datetime
    interval_s: float = 60
    format: int = 1  # the plugin's table format; 0 is time series


@cache
def tools() -> Path:
    """Build the tools if needed (once per test session); the folder holding them."""
    done = subprocess.run(
        ["make", "-s", "upstream-tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if done.returncode != 0:
        raise UpstreamError(f"`make upstream-tools` failed:\n{done.stdout}\n{done.stderr}")
    return CACHE


def _call(command: list[str], request: dict[str, Any], count: int) -> list[str | UpstreamError]:
    done = subprocess.run(
        command, input=json.dumps(request), capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise UpstreamError(f"{command[-1]} failed: {done.stderr.strip()}")
    results = json.loads(done.stdout)["results"]
    assert len(results) == count
    return [UpstreamError(r["error"]) if "error" in r else r["sql"] for r in results]


def interpolate_many(cases: Sequence[Interpolation]) -> list[str | UpstreamError]:
    """Each case's SQL with its variables substituted by Scenes' sceneInterpolator."""
    request = {
        "cases": [
            {"sql": c.sql, "format": c.format, "variables": [v.to_json() for v in c.variables]}
            for c in cases
        ]
    }
    return _call(["node", str(tools() / "interpolate.mjs")], request, len(cases))


def expand_many(queries: Sequence[MacroQuery]) -> list[str | UpstreamError]:
    """Each query's SQL with the data source's macros expanded, as its backend does."""
    request = {
        "queries": [
            {
                "rawSql": q.sql,
                "format": q.format,
                "from": q.start.isoformat(),
                "to": q.end.isoformat(),
                "intervalMs": int(q.interval_s * 1000),
            }
            for q in queries
        ]
    }
    return _call([str(tools() / "expand")], request, len(queries))


def _one(result: str | UpstreamError) -> str:
    if isinstance(result, UpstreamError):
        raise result
    return result


def interpolate(sql: str, variables: Sequence[Variable], fmt: str | None = PLUGIN_FORMAT) -> str:
    """One SQL with its variables substituted by Scenes; raises UpstreamError."""
    return _one(interpolate_many([Interpolation(sql, tuple(variables), fmt)])[0])


def expand_macros(sql: str, start: datetime, end: datetime, interval_s: float = 60) -> str:
    """One SQL with its macros expanded by the plugin's Go code; raises UpstreamError."""
    return _one(expand_many([MacroQuery(sql, start, end, interval_s)])[0])


def grafana_sql(
    cases: Sequence[Interpolation], start: datetime, end: datetime, interval_s: float = 60
) -> list[str | UpstreamError]:
    """What the data source sends to ClickHouse: Scenes' substitution, then the macros."""
    substituted = interpolate_many(cases)
    todo = [(i, s) for i, s in enumerate(substituted) if isinstance(s, str)]
    expanded = expand_many([MacroQuery(s, start, end, interval_s) for _, s in todo])
    out: list[str | UpstreamError] = list(substituted)
    for (i, _), sql in zip(todo, expanded, strict=True):
        out[i] = sql
    return out
