"""The aggregate reader `grafana` reads aggregates only, checked by ClickHouse 25.8's own access
control (chdb 4.0.0, tests/support/chdb258_runner.py, "grants"): the user holds exactly the
<grants> of dashboards/provisioning/clickhouse/grafana-readonly.xml, and

- every panel and variable query of every dashboard (but the follow-up panel, which reads the
  follow-up data source) still runs;
- the pseudonyms in `alerts.subject` (paid_twice, unknown_beneficiary) and the ledger's rows
  are refused with ACCESS_DENIED (Code 497);
- the follow-up panel runs as `grafana_followup` (grafana-followup.xml), which reads nothing
  else.

ClickHouse checks a column-level grant on every column a query reads (SELECT, WHERE, `*`), but
not on the sorting key `FINAL` merges by: `alerts FINAL` runs without `subject`
(src/Interpreters/InterpreterSelectQuery.cpp / Planner: `checkAccess` on the required columns
of the query; shown here by running it).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.storage.base import Store
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from tests.integration.dashboards.test_readonly_queries import (
    grafana_queries,
    run_readonly,
    table_rows,
)
from tests.support.grafana import compose_plugin_version, plugin_settings, provisioned_json_data
from tests.support.runs import Run

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
PROVISIONING = ROOT / "dashboards" / "provisioning" / "clickhouse"
LEDGER_TABLES = ("ledger_payments", "ledger_events", "ledger_ids")
DENIED = "ACCESS_DENIED"


def grants(file: str, user: str) -> list[str]:
    """The <grants> queries of a users.d user."""
    element = ET.parse(PROVISIONING / file).getroot().find(f"./users/{user}")
    assert element is not None
    return [(q.text or "").strip() for q in element.findall("./grants/query")]


@pytest.fixture
def store(drill_run: Run) -> Iterator[Store]:
    """The alerts-drill run's store: it holds paid_twice and unknown_beneficiary alerts."""
    opened = ClickHouseStore(
        chdb_dsn(drill_run.data_dir / "chdb"), drill_run.settings.clickhouse_database
    )
    opened.open()
    yield opened
    opened.close()


def probes() -> list[dict[str, Any]]:
    """Queries an aggregate reader must not be able to run."""
    out = [
        {"name": "alerts subject", "sql": "SELECT subject FROM alerts"},
        {"name": "alerts *", "sql": "SELECT * FROM alerts"},
        {"name": "alerts filter", "sql": "SELECT count() FROM alerts WHERE subject != ''"},
        {"name": "followup", "sql": "SELECT beneficiary FROM followup"},
    ]
    out += [{"name": t, "sql": f"SELECT count() FROM {t}"} for t in LEDGER_TABLES]  # noqa: S608
    return out


def test_the_aggregate_reader_sees_no_pseudonym_and_every_panel_runs(store: Store) -> None:
    subjects = store.query(
        "SELECT count() AS n FROM alerts WHERE kind IN ('paid_twice', 'unknown_beneficiary') "
        "AND subject != ''"
    )
    assert int(subjects[0]["n"]) > 0  # the data holds pseudonyms to leak
    settings = plugin_settings(compose_plugin_version(), provisioned_json_data())
    queries = grafana_queries(store, True, settings)
    followup = [q for q in queries if "FROM followup" in q["sql"]]
    assert len(followup) == 2  # the commune dashboard in each language
    panels = [q for q in queries if q not in followup]
    data = table_rows(store)

    aggregate = run_readonly(data, panels + probes(), grants("grafana-readonly.xml", "grafana"))
    assert aggregate["version"].startswith("25.8.")
    by_name = {r["name"]: r for r in aggregate["results"]}
    failed = [
        f"{r['name']}: {r['error'][:300]}" for q in panels if not (r := by_name[q["name"]])["ok"]
    ]
    assert failed == []
    for probe in probes():
        assert DENIED in by_name[probe["name"]]["error"], probe["name"]

    narrow = run_readonly(
        data,
        followup
        + probes()[:1]
        + [{"name": "stats", "sql": "SELECT 1 FROM commune_programme_stats"}],
        grants("grafana-followup.xml", "grafana_followup"),
    )
    by_name = {r["name"]: r for r in narrow["results"]}
    assert all(by_name[q["name"]]["ok"] for q in followup), narrow["results"]
    assert DENIED in by_name["alerts subject"]["error"]
    assert DENIED in by_name["stats"]["error"]


def test_without_the_column_grant_the_subject_would_be_readable() -> None:
    """The check can fail: with the table-wide grant the aggregate reader had before, ClickHouse
    returns the subject."""
    result = run_readonly(
        {"alerts": '{"kind": "paid_twice", "subject": "pseudonym"}\n'},
        [{"name": "subject", "sql": "SELECT subject FROM alerts"}],
        ["GRANT SELECT ON welfare.alerts"],
    )
    assert result["results"][0]["ok"] and result["results"][0]["rows"] == 1
