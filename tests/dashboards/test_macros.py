from datetime import UTC, datetime

import pytest

from dashboards.errors import DashboardError
from dashboards.macros import TimeRange, expand

RANGE = TimeRange(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), 300)


def test_time_macros_expand_like_the_clickhouse_plugin() -> None:
    sql = "SELECT $__timeInterval(at) t FROM x WHERE $__timeFilter(at) AND y > $__fromTime"
    assert expand(sql, {}, RANGE) == (
        "SELECT toStartOfInterval(toDateTime(at), INTERVAL 300 second) t FROM x WHERE "
        "at >= toDateTime(1767225600) AND at <= toDateTime(1767312000) "
        "AND y > toDateTime(1767225600)"
    )


def test_variables_are_substituted_and_single_quoted_safely() -> None:
    sql = "WHERE c = ${commune} AND p = ${period:singlequote} AND q = $commune"
    assert expand(sql, {"commune": "3127", "period": "2023-06"}, RANGE) == (
        "WHERE c = 3127 AND p = '2023-06' AND q = 3127"
    )
    assert expand("${p:singlequote}", {"p": "a'b"}, RANGE) == "'a\\'b'"


def test_a_missing_variable_is_an_error() -> None:
    with pytest.raises(DashboardError, match=r"\$province"):
        expand("WHERE p = ${province}", {}, RANGE)


def test_naive_times_are_refused() -> None:
    with pytest.raises(DashboardError):
        TimeRange(datetime(2026, 1, 1), datetime(2026, 1, 2))
