"""The worker's target rule (streams/storage/target_rules.py): the target that applies (commune ->
province -> global), the deadline window of `behind_target`, the bounded cache, and the
same progress as TARGET_PROGRESS_SQL on the same targets and statistics (chDB)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from streams.domain.alerts import BEHIND_TARGET, AlertRules
from streams.domain.statistics import CommuneId, Stats
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.migrate import migrate
from streams.storage.target_rules import (
    TargetBook,
    TargetCache,
    TargetRow,
    commune_progress,
    target_alerts,
)
from streams.storage.targets import progress, read_targets, store_targets
from tests.unit.streams.storage.test_targets import STATS, TARGETS, _stats_rows

RULES = AlertRules(cashless_target=0.03, drop_points=0.05, min_due=20)


def _row(commune: int, start: str, end: str, pct: int, version: int = 1) -> TargetRow:
    return TargetRow(52, commune, start, end, pct / 100, date(2023, 12, 31), f"u{pct}", version)


def test_commune_then_province_then_global() -> None:
    book = TargetBook([_row(0, "2023-01", "2023-12", 2), _row(21583, "2023-06", "2023-06", 10)])
    own = book.target(CommuneId("2023-06", 52, 21583), 0.03)
    assert (own.rate, own.source, own.responsible_unit) == (0.10, "commune", "u10")
    # Outside its own range the commune falls back to the province's target.
    assert book.target(CommuneId("2023-07", 52, 21583), 0.03).source == "province"
    assert book.target(CommuneId("2023-06", 52, 21609), 0.03).rate == 0.02
    glob = book.target(CommuneId("2024-01", 52, 21609), 0.03)
    assert (glob.rate, glob.deadline, glob.source) == (0.03, None, "global")
    assert book.target(CommuneId("2023-06", 1, 4), 0.03).source == "global"


def test_the_range_starting_latest_wins_then_the_latest_import() -> None:
    book = TargetBook(
        [
            _row(21583, "2023-01", "2023-12", 5),
            _row(21583, "2023-06", "2023-12", 8, version=1),
            _row(21583, "2023-06", "2023-12", 9, version=2),
        ]
    )
    assert book.target(CommuneId("2023-05", 52, 21583), 0.03).rate == 0.05
    assert book.target(CommuneId("2023-06", 52, 21583), 0.03).rate == 0.09


@pytest.mark.parametrize(
    ("today", "cashless", "raised"),
    [
        (date(2023, 10, 2), 0, True),  # 90 days left: within the window
        (date(2023, 10, 1), 0, False),  # 91 days left: not yet
        (date(2024, 2, 1), 0, True),  # past the deadline
        (date(2024, 2, 1), 10, False),  # ceil(10% of 100) paid cashless: on target
        (date(2024, 2, 1), 9, True),  # one short
    ],
)
def test_behind_target_is_deadline_aware(today: date, cashless: int, raised: bool) -> None:
    book = TargetBook([_row(21583, "2023-06", "2023-12", 10)])
    stats = Stats(beneficiaries_due=100, beneficiaries_paid_cashless=cashless)
    commune = CommuneId("2023-06", 52, 21583)
    alerts = target_alerts(commune, stats, book, RULES, 90, today)
    assert bool(alerts) is raised
    if raised:
        (alert,) = alerts
        assert (alert.kind, alert.threshold, alert.value) == (BEHIND_TARGET, 0.10, cashless / 100)
        assert f"{10 - cashless} " in alert.message


def test_too_few_due_raise_nothing() -> None:
    book = TargetBook([_row(21583, "2023-06", "2023-12", 10)])
    stats = Stats(beneficiaries_due=19, beneficiaries_paid_cashless=0)
    assert (
        target_alerts(CommuneId("2023-06", 52, 21583), stats, book, RULES, 90, date(2024, 1, 1))
        == []
    )


class _Source:
    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    async def query(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> Sequence[Mapping[str, Any]]:
        assert parameters is not None
        self.asked.append(list(parameters["provinces"]))
        return [
            {
                "province_code": p,
                "commune_code": 0,
                "period_from": "2023-01",
                "period_to": "2023-12",
                "target_rate": p / 1000,
                "deadline": date(2023, 12, 31),
                "responsible_unit": "x",
                "version": 1,
            }
            for p in parameters["provinces"]
        ]


def test_the_cache_is_bounded_and_refreshed() -> None:
    source = _Source()
    cache = TargetCache(ttl_s=3600, max_provinces=2)
    communes = [CommuneId("2023-06", p, 1) for p in (1, 2)]
    asyncio.run(cache.load(source, communes))
    asyncio.run(cache.load(source, communes))  # fresh: no second query
    assert source.asked == [[1, 2]]
    assert cache.book(2).target(communes[1], 0.5).rate == 0.002
    asyncio.run(cache.load(source, [CommuneId("2023-06", 3, 1)]))
    assert source.asked[-1] == [3]
    assert cache.book(1).target(communes[0], 0.5).source == "global"  # evicted (oldest)
    assert cache.book(3).target(CommuneId("2023-06", 3, 1), 0.5).rate == 0.003
    stale = TargetCache(ttl_s=0.0)
    asyncio.run(stale.load(source, communes[:1]))
    asyncio.run(stale.load(source, communes[:1]))
    assert source.asked[-2:] == [[1], [1]]  # too old: read again


def test_the_same_progress_as_the_sql(tmp_path: Path) -> None:
    """TargetBook + commune_progress against TARGET_PROGRESS_SQL on the same targets and
    statistics (tests/unit/streams/storage/test_targets.py's data: own, province and global
    targets)."""
    store = open_store(Settings(clickhouse_url=None, chdb_path=tmp_path / "chdb"))
    try:
        migrate(store)
        store.insert("commune_programme_stats", _stats_rows(STATS, 1))
        path = tmp_path / "targets.csv"
        path.write_text(TARGETS, encoding="utf-8")
        store_targets(store, read_targets(path))
        settings = Settings(alert_cashless_target=0.03)
        today = date(2023, 9, 1)
        by_sql = {r["commune_code"]: r for r in progress(store, settings, "2023-06", today)}
        for commune in by_sql:  # one commune, filtered in SQL: the same row
            assert progress(store, settings, "2023-06", today, commune=commune) == [by_sql[commune]]
        rows = [TargetRow.of(r) for r in store.query("SELECT * FROM targets FINAL")]
    finally:
        store.close()
    book = TargetBook(rows)
    for province, commune, due, cashless in STATS:
        stats = Stats(beneficiaries_due=due, beneficiaries_paid_cashless=cashless)
        target = book.target(CommuneId("2023-06", province, commune), 0.03)
        mine = commune_progress(stats, target, today)
        sql = by_sql[commune]
        assert {k: sql[k] for k in mine} == pytest.approx(mine)
        assert mine["needed"] == max(0, math.ceil(Fraction(str(target.rate)) * due) - cashless)
