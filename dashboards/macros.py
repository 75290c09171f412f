"""Expand the grafana-clickhouse-datasource macros and template variables, as Grafana does.

Used by the tests (to run every panel query) and by the worker's live page. Variable values
must already be validated: they are substituted as text, like Grafana's interpolation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dashboards.errors import DashboardError

_MACRO_WITH_ARG = re.compile(r"\$__(timeFilter|timeInterval|dateFilter)\(([^)]*)\)")
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time range and the panel's interval."""

    start: datetime
    end: datetime
    interval_s: int = 60

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise DashboardError("time ranges must be timezone-aware (UTC)")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def expand(sql: str, variables: Mapping[str, str], time_range: TimeRange) -> str:
    """`sql` with macros and `${var}` / `${var:singlequote}` / `$var` replaced."""
    start, end = int(time_range.start.timestamp()), int(time_range.end.timestamp())

    def macro(match: re.Match[str]) -> str:
        name, column = match.group(1), match.group(2).strip()
        if name == "timeFilter":
            return f"{column} >= toDateTime({start}) AND {column} <= toDateTime({end})"
        if name == "dateFilter":
            return (f"{column} >= toDate(toDateTime({start})) AND "
                    f"{column} <= toDate(toDateTime({end}))")
        return (f"toStartOfInterval(toDateTime({column}), "
                f"INTERVAL {time_range.interval_s} second)")

    sql = _MACRO_WITH_ARG.sub(macro, sql)
    sql = (sql.replace("$__fromTime", f"toDateTime({start})")
              .replace("$__toTime", f"toDateTime({end})")
              .replace("$__interval_s", str(time_range.interval_s)))

    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name not in variables:
            raise DashboardError(f"the query needs template variable ${name}")
        value = variables[name]
        return _quote(value) if match.group(2) == "singlequote" else value

    return _VARIABLE.sub(variable, sql)
