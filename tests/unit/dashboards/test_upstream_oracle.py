"""Grafana's own code as the oracle (tests/support/grafana_upstream): the oracle itself, the
"All" defect it catches in the dashboards as they were, and dashboards/macros.py against it.

Upstream versions: @grafana/scenes 6.6.3 and @grafana/data 11.6.3 (tests/upstream/node),
grafana-plugin-sdk-go v0.277.1 and grafana/sqlds v4.2.3 with the macro table of
grafana-clickhouse-datasource v4.10.1 (tests/upstream/go). See docs/testing.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboards import panels as p
from dashboards.macros import TimeRange
from streams.web.live_data import DRILL_PANELS, PAGE_PANELS
from streams.web.live_data import PROGRAMMES as LIVE_PROGRAMMES
from tests.support.grafana_upstream import (
    ALL_SELECTED,
    Interpolation,
    UpstreamError,
    Variable,
    expand_macros,
    interpolate,
    interpolate_many,
)
from tests.support.upstream_dashboards import (
    ROOT,
    live_page_cases,
    load,
)

START = datetime(2023, 6, 1, 0, 0, 0, tzinfo=UTC)
END = datetime(2023, 6, 30, 23, 59, 59, tzinfo=UTC)
PROGRAMMES = (("social_assistance", "social_assistance"), ("O'Neil", "O'Neil"))


def test_a_custom_all_value_is_substituted_raw_whatever_the_format() -> None:
    """With "All" picked and a custom allValue, MultiValueVariable.getValue returns a
    CustomAllValue whose formatter returns the allValue untouched for every format but text,
    percentencode and queryparam (@grafana/scenes 6.6.3
    src/variables/variants/MultiValueVariable.ts:211-221 and 488-505). The plugin's own format
    function (CHDatasource.ts:410-415) never sees it."""
    var = Variable(
        "programme", PROGRAMMES, include_all=True, all_value="__all", select=ALL_SELECTED
    )
    formats = ("singlequote", "sqlstring", "csv", "raw", "doublequote", "pipe")
    cases = [Interpolation(f"x = ${{programme:{f}}}", (var,)) for f in formats]
    cases += [
        Interpolation("x = ${programme}", (var,)),
        Interpolation("x = $programme", (var,)),
        Interpolation("x = ${programme:text}", (var,)),
    ]
    got = interpolate_many(cases)
    assert got[:-1] == ["x = __all"] * (len(cases) - 1)
    assert got[-1] == "x = All"


def test_multi_value_formats_follow_scenes_format_registry() -> None:
    """All options of a multi-value variable without allValue, through Scenes' format
    registry (src/variables/interpolation/formatRegistry.ts at 6.6.3: raw 56-61, csv 131,
    singlequote 186-200 escaping ' with a backslash, sqlstring 216-220 doubling it) and, with
    no format, through the plugin's format function (CHDatasource.ts:410-415): 'a','b'
    without any escaping."""
    var = Variable("programme", PROGRAMMES, include_all=True, multi=True, select=ALL_SELECTED)
    values = [v for v, _ in PROGRAMMES]
    got = interpolate_many(
        [
            Interpolation("${programme:singlequote}", (var,)),
            Interpolation("${programme:sqlstring}", (var,)),
            Interpolation("${programme:csv}", (var,)),
            Interpolation("${programme:raw}", (var,)),
            Interpolation("${programme}", (var,)),
        ]
    )
    assert got == [
        ",".join("'" + v.replace("'", "\\'") + "'" for v in values),
        ",".join("'" + v.replace("'", "''") + "'" for v in values),
        ",".join(values),
        ",".join(values),
        "'" + "','".join(values) + "'",
    ]


def test_a_variable_whose_query_returned_nothing_is_empty() -> None:
    """No options: Scenes sets value '' (single), [] (multi) or All (includeAll)
    (MultiValueVariable.ts:105-125 at 6.6.3, getStateUpdateGivenNewOptions). So a raw
    `${commune}` disappears and `${period:singlequote}` becomes ''."""
    empty = Variable("commune")
    period = Variable("period")
    everything = Variable("programme", include_all=True, all_value="__all")
    got = interpolate(
        "c = ${commune} AND p = ${period:singlequote} AND g = ${programme}",
        [empty, period, everything],
    )
    assert got == "c =  AND p = '' AND g = __all"


def test_scenes_picks_the_first_option_when_nothing_is_chosen_even_with_all() -> None:
    """Scenes' own choice after a variable query when the current value is not an option
    (getStateUpdateGivenNewOptions and getDefaultSingleState, 6.6.3 MultiValueVariable.ts:
    148-190): the first option, includeAll or not (only defaultToAll picks All)."""
    first = Variable("period", (("2023-06", "2023-06"), ("2023-05", "2023-05")))
    with_all = Variable("programme", PROGRAMMES, include_all=True, all_value="__all")
    assert interpolate("${period} ${programme}", [first, with_all]) == (
        f"2023-06 {PROGRAMMES[0][0]}"
    )


def test_plugin_macros_expand_with_the_time_range_and_interval() -> None:
    """pkg/macros/macros.go at v4.10.1: $__timeFilter 50-62 (toDateTime of unix seconds),
    $__timeInterval 107-114 and $__interval_s 125-128 (seconds, at least 1), $__fromTime /
    $__toTime 31-39; applied by sqlutil.Interpolate (grafana-plugin-sdk-go v0.277.1
    data/sqlutil/macros.go:218-250)."""
    s, e = int(START.timestamp()), int(END.timestamp())
    got = expand_macros(
        "SELECT $__timeInterval(at) AS t, n / $__interval_s FROM h "
        "WHERE $__timeFilter(at) AND $__fromTime < $__toTime",
        START,
        END,
        0.2,
    )
    assert got == (
        f"SELECT toStartOfInterval(toDateTime(at), INTERVAL 1 second) AS t, n / 1 "  # noqa: S608
        f"FROM h WHERE at >= toDateTime({s}) AND at <= toDateTime({e}) AND "
        f"toDateTime({s}) < toDateTime({e})"
    )
    with pytest.raises(UpstreamError, match="expected 1 argument, received 2"):
        expand_macros("WHERE $__timeFilter(a, b)", START, END)


@pytest.mark.parametrize("programme", sorted(LIVE_PROGRAMMES))
def test_macros_py_matches_upstream_query_by_query(programme: str) -> None:
    """dashboards/macros.py serves the live page (streams/web/live_data.py) only; for each of the
    page's queries and each programme the page accepts (its "All" is Scenes' "All" with the
    dashboards' custom all-value), its SQL equals what Grafana would send: Scenes'
    substitution (sceneInterpolator.ts at 6.6.3) and the plugin's macros (pkg/macros/macros.go
    at v4.10.1, via sqlutil.Interpolate), with the page's one-hour window and 5 s interval."""
    now = datetime.now(UTC).replace(microsecond=0)
    window = TimeRange(now - timedelta(hours=1), now + timedelta(minutes=1), 5)
    # The programme variable as the committed dashboards define it (its custom all-value).
    models = [
        v
        for path in sorted((ROOT / "dashboards" / "json").rglob("*.json"))
        for v in load(path)["templating"]["list"]
        if v["name"] == "programme"
    ]
    assert len({(m.get("includeAll"), m.get("allValue"), m.get("multi")) for m in models}) == 1
    model = models[0]
    options = [(v, v) for v in sorted(LIVE_PROGRAMMES - {p.ALL})]
    select = ALL_SELECTED if programme == p.ALL else programme
    variable = Variable.from_dashboard(model, options, select)
    ours, upstream = live_page_cases(variable, window)
    queries = [q.key for q in (*PAGE_PANELS, *DRILL_PANELS)]
    assert len(ours) == len(queries) == len(upstream)
    for key, mine, theirs in zip(queries, ours, upstream, strict=True):
        assert mine == theirs, key
