"""The pure parts of the bench's memory-growth stage (streams/harness/bench_growth.py)."""

from __future__ import annotations

import os

import pytest

from streams.harness.bench_growth import growth_ratio, monthly_periods, rss_mb, split_by_period


def test_monthly_periods_cross_years() -> None:
    periods = monthly_periods("2024-01", 24)
    assert periods[0] == "2024-01" and periods[11] == "2024-12" and periods[12] == "2025-01"
    assert periods[-1] == "2025-12" and len(set(periods)) == 24


def test_the_ratio_compares_the_last_three_with_the_first_three() -> None:
    peaks = [100.0, 120.0, 110.0] + [500.0] * 18 + [130.0, 150.0, 140.0]
    assert growth_ratio(peaks) == pytest.approx(150 / 120)
    with pytest.raises(ValueError):
        growth_ratio([1.0] * 5)


def test_events_go_with_their_period_and_access_points_with_the_first() -> None:
    events = [
        {"event_id": "a", "payload": {"kind": "atm"}},
        {"event_id": "b", "payload": {"period": "2024-01"}},
        {"event_id": "c", "payload": {"period": "2024-02"}},
        {"event_id": "d", "payload": {"reason": "late"}},
    ]
    split = split_by_period(events, ["2024-01", "2024-02"])
    assert [[line.count(b'"event_id"') for line in part] for part in split] == [[1, 1], [1, 1]]
    assert b'"a"' in split[0][0] and b'"d"' in split[1][1]


def test_rss_of_this_process_and_of_a_gone_one() -> None:
    assert rss_mb(os.getpid()) > 1
    assert rss_mb(2**22 + 12345) == 0.0


def test_freshness_takes_the_first_reading_covering_each_chunk() -> None:
    from streams.harness.bench_freshness import freshness_ms

    sends = [(10.0, 100), (10.05, 200)]
    # A reading before the second chunk was sent never counts for it, even if it covers it.
    polls = [(10.02, 50), (10.04, 100), (10.06, 150), (10.30, 200)]
    got = freshness_ms(sends, polls)
    assert len(got) == 200
    assert got[0] == pytest.approx(40) and got[99] == pytest.approx(40)
    assert got[100] == pytest.approx(250) and got[-1] == pytest.approx(250)
    with pytest.raises(ValueError):
        freshness_ms([(11.0, 300)], polls)
