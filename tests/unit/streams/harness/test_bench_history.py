"""The bench's generated history (streams/harness/bench_history.py) on a real chDB store."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.harness.bench_history import (
    MERGES_SQL,
    history_periods,
    load_history,
    page_query_latencies,
    wait_for_merges,
)
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate, seed_admin_units
from streams.web.live_data import DRILL_PANELS, PAGE_PANELS


def test_history_periods_are_the_months_before() -> None:
    assert history_periods("2025-02", 3) == ["2024-11", "2024-12", "2025-01"]
    assert len(history_periods("2025-10", 12)) == 12
    assert history_periods("2025-10", 12)[0] == "2024-10"


def test_the_history_holds_every_commune_and_the_ledger_rows(tmp_path: Path) -> None:
    store = ClickHouseStore(chdb_dsn(tmp_path / "db"), "bench_history")
    store.open()
    try:
        migrate(store)
        seed_admin_units(store)
        communes = int(store.query("SELECT count() AS n FROM admin_units FINAL")[0]["n"])
        assert communes > 3000
        assert load_history(store, "2025-10", 2, ledger_rows=1000) > 0
        stats = store.query(
            "SELECT period, count() AS n, countIf(beneficiaries_paid > beneficiaries_due "
            "OR beneficiaries_paid_cashless > beneficiaries_paid) AS bad, "
            "sum(length(seconds_to_pay)) = sum(beneficiaries_paid) AS waits "
            "FROM commune_programme_stats FINAL GROUP BY period ORDER BY period"
        )
        assert [r["period"] for r in stats] == ["2025-08", "2025-09"]
        assert all(int(r["n"]) == communes * 4 and int(r["bad"]) == 0 and r["waits"] for r in stats)
        ledger = store.query(
            "SELECT period, uniqExact(event_id) AS ids, uniqExact(beneficiary) AS people "
            "FROM ledger_payments GROUP BY period ORDER BY period"
        )
        assert [(r["period"], int(r["ids"]), int(r["people"])) for r in ledger] == [
            ("2025-08", 1000, 500),
            ("2025-09", 1000, 500),
        ]
        commune = int(store.query("SELECT any(commune_code) AS c FROM alerts")[0]["c"])
        timings = page_query_latencies(store, "2025-09", commune, rounds=2)
        assert len(timings) == 2 * (len(PAGE_PANELS) + len(DRILL_PANELS) + 2)  # targets, follow-up
    finally:
        store.close()


def test_dashboard_queries_are_timed_when_a_variable_query_returns_no_rows(tmp_path: Path) -> None:
    """An empty statistics table leaves every template-variable query without rows (`welfare-monitor
    bench --history-months 0` crashed there with an IndexError); the panels are still timed."""
    from dashboards.build import build_all
    from streams.harness.bench import query_latencies
    from streams.settings import Settings

    settings = Settings(_env_file=None, chdb_path=tmp_path / "db")
    store = ClickHouseStore(chdb_dsn(settings.chdb_path), settings.clickhouse_database)
    store.open()
    try:
        migrate(store)
        assert store.query("SELECT count() AS n FROM commune_programme_stats")[0]["n"] == 0
    finally:
        store.close()
    targets = sum(len(p["targets"]) for b in build_all().values() for p in b["panels"])
    assert len(query_latencies(settings, rounds=1)) == targets > 0


class MergingStore:
    """Answers MERGES_SQL with the counts given, then 0."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts
        self.asked = 0

    def query(self, sql: str, parameters: object = None) -> list[dict[str, int]]:
        assert sql == MERGES_SQL
        self.asked += 1
        return [{"n": self.counts.pop(0) if self.counts else 0}]


def test_the_query_timings_wait_for_the_merges_of_the_generated_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("streams.harness.bench_history.time.sleep", lambda s: None)
    store = MergingStore([2, 1])
    assert wait_for_merges(store) >= 0  # type: ignore[arg-type]
    assert store.asked == 3  # two readings with merges running, then none
    busy = MergingStore([1] * 10_000)
    assert wait_for_merges(busy, timeout_s=0.0) == pytest.approx(0.0, abs=0.5)  # type: ignore[arg-type]
    assert busy.asked == 0  # bounded: no reading after the timeout


def test_merges_sql_runs_on_chdb(tmp_path: Path) -> None:
    store = ClickHouseStore(chdb_dsn(tmp_path / "db"), "bench_merges")
    store.open()
    try:
        assert wait_for_merges(store, timeout_s=30.0) < 30.0
    finally:
        store.close()
