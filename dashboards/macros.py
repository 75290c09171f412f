"""Expand template variables and the grafana-clickhouse-datasource macros as Grafana does.

Used by the tests (to run every panel query) and by the worker's live page. Two steps, in
Grafana's order:

1. the browser interpolates template variables: @grafana/scenes 6.x `sceneInterpolator`
   (packages/scenes/src/variables/interpolation/sceneInterpolator.ts, `formatValue`) with the
   formats of `formatRegistry.ts` (singlequote 187-201, raw 57-61, glob 257-266), and, for a
   variable written without a format, the ClickHouse plugin's own format function
   (grafana-clickhouse-datasource v4.10.2 src/data/CHDatasource.ts 400-412: arrays become
   `'a','b'`, strings stay as they are). An "All" with a custom all-value is substituted raw,
   whatever the format (scenes MultiValueVariable.ts 211-215 `getValue`, 488-505
   `CustomAllValue.formatter`), and an "All" without one stands for the list of every option.
   A variable whose query returned nothing is the empty string (MultiValueVariable.ts 117-127);
2. the plugin's backend expands its macros (`$__timeFilter(col)` ...) in what remains.

Variable values must already be validated: they are substituted as text, like Grafana does.
Where scenes would leave an unknown `${name}` in the SQL, this raises instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from dashboards.errors import DashboardError

_MACRO_WITH_ARG = re.compile(r"\$__(timeFilter|timeInterval|dateFilter)\(([^)]*)\)")
# scenes packages/scenes/src/variables/constants.ts:15 (VARIABLE_REGEX), groups: $name,
# [[name:format]], ${name.fieldPath:format}.
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}"
)
ALL_TEXT = "All"  # scenes ALL_VARIABLE_TEXT


@dataclass(frozen=True)
class CustomAllValue:
    """A variable set to "All" whose definition has a custom `allValue`."""

    value: str


VariableValue = str | Sequence[str] | CustomAllValue


def _js_string(value: str | Sequence[str]) -> str:
    """JavaScript's String(value): arrays join with commas."""
    return value if isinstance(value, str) else ",".join(value)


def _single_quote(text: str) -> str:
    return "'" + text.replace("'", "\\'") + "'"


def format_value(value: VariableValue, fmt: str | None) -> str:
    """One variable's value as scenes' `formatValue` renders it with `fmt` (None: the
    ClickHouse data source's format function)."""
    if isinstance(value, CustomAllValue):
        if fmt == "text":
            return ALL_TEXT
        if fmt in ("percentencode", "queryparam"):
            raise DashboardError(f"format {fmt} of a custom all-value is not emulated")
        return value.value
    if fmt is None:
        if isinstance(value, str):
            return value
        return "'" + "','".join(value) + "'"
    name = fmt.split(":", 1)[0]
    if name == "singlequote":
        if isinstance(value, str):
            return _single_quote(value)
        return ",".join(_single_quote(v) for v in value)
    if name == "raw":
        return _js_string(value)
    if name == "glob":
        if not isinstance(value, str) and len(value) > 1:
            return "{" + ",".join(value) + "}"
        return _js_string(value)
    raise DashboardError(f"variable format {fmt!r} is not emulated; use singlequote or raw")


def interpolate(sql: str, variables: Mapping[str, VariableValue]) -> str:
    """Template variables replaced as Grafana's browser does; `$__macros` are left alone."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if name not in variables:
            if name.startswith("__"):
                return match.group(0)  # a plugin macro, expanded by the backend
            raise DashboardError(f"the query needs template variable ${name}")
        if match.group(5):
            raise DashboardError(f"field paths (${{{name}.{match.group(5)}}}) are not emulated")
        return format_value(variables[name], fmt)

    return _VARIABLE.sub(variable, sql)


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time range and the panel's interval."""

    start: datetime
    end: datetime
    interval_s: int = 60

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise DashboardError("time ranges must be timezone-aware (UTC)")


def expand_macros(sql: str, time_range: TimeRange) -> str:
    """The plugin's backend macros replaced (after the variables)."""
    start, end = int(time_range.start.timestamp()), int(time_range.end.timestamp())

    def macro(match: re.Match[str]) -> str:
        name, column = match.group(1), match.group(2).strip()
        if name == "timeFilter":
            return f"{column} >= toDateTime({start}) AND {column} <= toDateTime({end})"
        if name == "dateFilter":
            return (
                f"{column} >= toDate(toDateTime({start})) AND {column} <= toDate(toDateTime({end}))"
            )
        return f"toStartOfInterval(toDateTime({column}), INTERVAL {time_range.interval_s} second)"

    sql = _MACRO_WITH_ARG.sub(macro, sql)
    return (
        sql.replace("$__fromTime", f"toDateTime({start})")
        .replace("$__toTime", f"toDateTime({end})")
        .replace("$__interval_s", str(time_range.interval_s))
    )


def expand(sql: str, variables: Mapping[str, VariableValue], time_range: TimeRange) -> str:
    """`sql` as the ClickHouse server receives it: variables, then macros."""
    return expand_macros(interpolate(sql, variables), time_range)
