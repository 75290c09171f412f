"""The expander substitutes variables the way Grafana 11.6 does (@grafana/scenes 6.x, read at
v6.10.4; MultiValueVariable.ts is unchanged since v6.1.0) and the plugin's macros after them."""

from datetime import UTC, datetime

import pytest

from dashboards.errors import DashboardError
from dashboards.macros import CustomAllValue, TimeRange, expand, format_value, interpolate

RANGE = TimeRange(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), 300)


def test_time_macros_expand_like_the_clickhouse_plugin() -> None:
    sql = "SELECT $__timeInterval(at) t FROM x WHERE $__timeFilter(at) AND y > $__fromTime"
    assert expand(sql, {}, RANGE) == (
        "SELECT toStartOfInterval(toDateTime(at), INTERVAL 300 second) t FROM x WHERE "
        "at >= toDateTime(1767225600) AND at <= toDateTime(1767312000) "
        "AND y > toDateTime(1767225600)"
    )


def test_variables_are_substituted_and_single_quoted_as_scenes_does() -> None:
    """formatRegistry.ts 187-201: singlequote escapes ' as \\' and nothing else."""
    sql = "WHERE c = ${commune} AND p = ${period:singlequote} AND q = $commune AND r = [[commune]]"
    assert expand(sql, {"commune": "3127", "period": "2023-06"}, RANGE) == (
        "WHERE c = 3127 AND p = '2023-06' AND q = 3127 AND r = 3127"
    )
    assert expand("${p:singlequote}", {"p": "a'b"}, RANGE) == "'a\\'b'"
    assert expand("${p:singlequote}", {"p": "a\\"}, RANGE) == "'a\\'"


def test_a_custom_all_value_is_substituted_raw_whatever_the_format() -> None:
    """MultiValueVariable.ts 211-215 (getValue returns CustomAllValue when allValue is set) and
    488-505 (its formatter returns the value unformatted except for text/percentencode/
    queryparam): `${programme:singlequote}` with allValue `__all` is `__all`, unquoted."""
    assert interpolate("${v:singlequote}", {"v": CustomAllValue("__all")}) == "__all"
    assert interpolate("${v}|${v:raw}|$v", {"v": CustomAllValue("'x'")}) == "'x'|'x'|'x'"
    assert format_value(CustomAllValue("'x'"), "text") == "All"


def test_all_without_a_custom_value_is_every_option() -> None:
    """An "All" without allValue is the options' values (MultiValueVariable.ts 211-218);
    the ClickHouse plugin formats arrays as 'a','b' (CHDatasource.ts 407-412)."""
    values = {"v": ["a", "b'c"]}
    assert interpolate("IN (${v:singlequote})", values) == "IN ('a','b\\'c')"
    assert interpolate("IN (${v})", values) == "IN ('a','b'c')"
    assert interpolate("${v:raw}", values) == "a,b'c"


def test_an_empty_variable_is_the_empty_string() -> None:
    """A variable whose query returned no rows has the value '' (MultiValueVariable.ts
    117-127): raw it vanishes, single-quoted it is ''."""
    assert interpolate("c = ${c} AND d = ${c:singlequote}", {"c": ""}) == "c =  AND d = ''"


def test_plugin_macros_are_left_to_the_backend() -> None:
    assert interpolate("$__timeFilter(at) AND $__interval_s", {}) == (
        "$__timeFilter(at) AND $__interval_s"
    )


def test_a_missing_variable_is_an_error() -> None:
    with pytest.raises(DashboardError, match=r"\$province"):
        expand("WHERE p = ${province}", {}, RANGE)


def test_an_unknown_format_is_an_error_not_a_guess() -> None:
    with pytest.raises(DashboardError, match="not emulated"):
        interpolate("${p:sqlstring}", {"p": "x"})


def test_naive_times_are_refused() -> None:
    with pytest.raises(DashboardError):
        TimeRange(datetime(2026, 1, 1), datetime(2026, 1, 2))
