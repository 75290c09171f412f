"""The nearest open ATM per commune (streams/storage/nearest_atm.py, read by COVERAGE_GAPS_SQL)
on real chDB: the stored kilometres equal a haversine computed here in Python over every open
ATM, follow openings, closings and moves, and a late write of an older refresh never replaces
a newer one (ReplacingMergeTree(version) keeps the highest version: ClickHouse
src/Processors/Merges/Algorithms/ReplacingSortedAlgorithm.cpp; FINAL applies it at read time)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from streams.storage import nearest_atm
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.queries import COVERAGE_GAPS_SQL

pytestmark = pytest.mark.integration

AT = datetime(2026, 1, 1, tzinfo=UTC)


def point(ap: str, kind: str, lat: float, lon: float, is_open: int, version: int) -> dict[str, Any]:
    return {
        "access_point_id": ap,
        "kind": kind,
        "operator": "x",
        "latitude": lat,
        "longitude": lon,
        "province_code": 1,
        "commune_code": 1,
        "is_open": is_open,
        "version": version,
        "updated_at": AT,
    }


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def stored(store: ClickHouseStore) -> dict[int, tuple[int, float, int]]:
    rows = store.query("SELECT * FROM commune_nearest_atm FINAL")
    return {
        int(r["commune_code"]): (int(r["has_atm"]), r["nearest_atm_km"], r["version"]) for r in rows
    }


def check(store: ClickHouseStore, atms: list[tuple[float, float]], version: int) -> None:
    units = store.query("SELECT commune_code, latitude, longitude FROM admin_units FINAL")
    got = stored(store)
    assert set(got) == {int(u["commune_code"]) for u in units}
    for u in units:
        has, km, v = got[int(u["commune_code"])]
        assert (has, v) == (int(bool(atms)), version)
        if atms:
            want = min(haversine_km(u["latitude"], u["longitude"], a, b) for a, b in atms)
            assert km == pytest.approx(want, rel=1e-12, abs=1e-9)


def test_a_migrated_store_has_every_commune_and_no_atm(store: ClickHouseStore) -> None:
    check(store, [], 0)


def test_openings_closings_and_moves_are_followed_and_read_by_the_coverage_query(
    store: ClickHouseStore,
) -> None:
    store.insert(
        "access_points",
        [
            point("atm-1", "atm", 21.0, 105.8, 1, 1),
            point("atm-2", "atm", 10.8, 106.7, 1, 1),
            point("bank-1", "bank_branch", 16.0, 108.2, 1, 1),  # not an ATM
        ],
    )
    nearest_atm.refresh(store)
    check(store, [(21.0, 105.8), (10.8, 106.7)], 3)
    store.insert(
        "access_points",
        [point("atm-1", "atm", 21.0, 105.8, 0, 2), point("atm-2", "atm", 13.8, 109.2, 1, 2)],
    )
    nearest_atm.refresh(store)
    check(store, [(13.8, 109.2)], 5)
    # the coverage query reads it: the stored km rounded, and 50 km in the score when none
    commune = next(iter(stored(store)))
    [unit] = store.query(
        "SELECT province_code FROM admin_units FINAL WHERE commune_code = {c:UInt32}",
        {"c": commune},
    )
    store.insert(
        "commune_programme_stats",
        [
            {
                "period": "2026-01",
                "province_code": unit["province_code"],
                "commune_code": commune,
                "programme": "social_assistance",
                "beneficiaries_due": 100,
                "beneficiaries_paid": 40,
                "beneficiaries_paid_cashless": 10,
                "beneficiaries_paid_twice": 0,
                "beneficiaries_paid_unknown": 0,
                "payments_returned": 0,
                "payments_by_channel": {},
                "amount_by_channel": {},
                "failures_by_reason": {},
                "seconds_to_pay": [],
                "version": 1,
                "updated_at": AT,
            }
        ],
    )
    [row] = store.query(COVERAGE_GAPS_SQL, {"period": "2026-01"})
    km = stored(store)[commune][1]
    assert row["nearest_atm_km"] == round(km, 3)
    assert row["gap_score"] == pytest.approx(90 * (1 + min(km, 50) / 10) / (1 + 0), abs=1e-3)
    store.insert("access_points", [point("atm-2", "atm", 13.8, 109.2, 0, 3)])
    nearest_atm.refresh(store)
    check(store, [], 6)
    [row] = store.query(COVERAGE_GAPS_SQL, {"period": "2026-01"})
    assert row["nearest_atm_km"] is None
    assert row["gap_score"] == pytest.approx(90 * 6, abs=1e-3)


def test_a_late_write_of_an_older_refresh_never_wins(store: ClickHouseStore) -> None:
    store.insert("access_points", [point("atm-1", "atm", 21.0, 105.8, 1, 1)])
    nearest_atm.refresh(store)
    older = store.query("SELECT * FROM commune_nearest_atm FINAL")
    store.insert("access_points", [point("atm-1", "atm", 10.8, 106.7, 1, 2)])
    nearest_atm.refresh(store)
    store.insert(nearest_atm.TABLE, older)  # a slow worker's snapshot lands last
    check(store, [(10.8, 106.7)], 2)


def test_a_national_set_of_atms_is_refreshed_within_a_small_memory_cap(
    store: ClickHouseStore,
) -> None:
    """The refresh's working memory is one running minimum per commune, not communes x ATMs.

    2,809 open ATMs (the national month's count) against every commune, under ClickHouse's own
    per-query cap (`max_memory_usage`, enforced by chDB's MemoryTracker). The `arrayMin` form
    this replaced needed about 730 MB here and fails under the cap; the join needs about 40 MB.
    """
    store.command(
        "INSERT INTO access_points SELECT concat('atm-', toString(number)), 'atm', 'x',"
        " 8 + (number % 1500) / 100.0, 102 + (number % 900) / 100.0, 1, 1, 1, 1, now64(3)"
        " FROM numbers(2809)"
    )
    store.command(nearest_atm.REFRESH_SQL.rstrip() + "\nSETTINGS max_memory_usage = 200000000\n")
    atms = [(8 + (n % 1500) / 100.0, 102 + (n % 900) / 100.0) for n in range(2809)]
    check(store, atms, 2809)
