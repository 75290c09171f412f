"""Grafana's own code as the oracle on a real run (tests/support/grafana_upstream; split from
test_upstream_oracle.py, whose docstring gives the upstream versions): today's raw All value
fails under upstream substitution.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboards import panels as p
from dashboards.macros import TimeRange, expand
from tests.support.chdb_readonly import readonly_chdb
from tests.support.grafana_upstream import (
    ALL_SELECTED,
)
from tests.support.runs import Run
from tests.support.upstream_dashboards import (
    load,
    plugin_settings,
    resolve_variables,
    run_targets,
)

FIXTURE = Path(__file__).parent / "fixtures" / "wm-commune-before-issue14.json"


START = datetime(2023, 6, 1, 0, 0, 0, tzinfo=UTC)


END = datetime(2023, 6, 30, 23, 59, 59, tzinfo=UTC)


@pytest.mark.integration
def test_todays_raw_all_value_fails_under_upstream_substitution(binh_dinh_run: Run) -> None:
    """Issue 14 item 2, as it would have been caught: the commune dashboard as committed
    before the fix (a copy kept as a fixture) with "All" programmes. Scenes substitutes the
    allValue `__all` raw (MultiValueVariable.ts:211-221, 488-505 at 6.6.3), so every panel
    comparing `${programme:singlequote}` fails in ClickHouse (UNKNOWN_IDENTIFIER), while our
    own expander, which quoted it, let them pass."""
    board = load(FIXTURE)
    run = binh_dinh_run
    # The settings of a plugin without the `limit` defect (issue 14 item 1), to see this one.
    with readonly_chdb(
        run.data_dir / "chdb", run.settings.clickhouse_database, plugin_settings("4.10.2")
    ) as ch:
        variables = resolve_variables(board, ch, START, END, {"programme": ALL_SELECTED})
        errors = run_targets(board, ch, variables, START, END)
        values = {v.name: next(iter(v.options))[0] for v in variables if v.options}
        ours = {}
        for t in board["panels"]:
            for target in t["targets"]:
                sql = expand(
                    target["rawSql"], values | {"programme": p.ALL}, TimeRange(START, END, 60)
                )
                ours[f"{board['uid']} / {t['title']}"] = ch.query(sql)
    uses_programme = {
        f"{board['uid']} / {t['title']}"
        for t in board["panels"]
        if any("${programme" in x["rawSql"] for x in t["targets"])
    }
    assert len(uses_programme) == 3  # Commune stat, Failures, Time to pay (issue 14)
    failed = {k for k, error in errors.items() if error}
    assert failed == uses_programme, errors
    for key in failed:
        assert "UNKNOWN_IDENTIFIER" in str(errors[key]) and "__all" in str(errors[key])
    assert all(ours[k] for k in uses_programme)  # our expander hid it: rows, no error
