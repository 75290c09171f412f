"""The summary lines `make bench` ends with (streams/harness/bench.py)."""

from __future__ import annotations

from streams.harness.bench import BenchResult, national_month_label


def _result(**changes: object) -> BenchResult:
    fields: dict[str, object] = dict(
        events=200_000,
        scenario="national-month",
        produce_events_per_s=1.0,
        raw_consume_events_per_s=80_000.0,
        pipeline_events_per_s=20_000.0,
        pipeline_seconds=10.0,
        worker_peak_rss_mb=512.4,
        query_p50_ms=3.0,
        query_p99_ms=12.34,
        queries=10,
    )
    fields.update(changes)
    return BenchResult(**fields)  # type: ignore[arg-type]


def test_the_national_month_is_labelled_when_extrapolated() -> None:
    assert national_month_label(200_000, 10.0) == "250 (extrapolated from 200000 events)"
    assert national_month_label(5_000_000, 231.6) == "232"


def test_the_summary_ends_with_the_new_figures_in_order() -> None:
    lines = _result(sql_reference_seconds=0.4).summary_lines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "pipeline_events_per_s",
        "raw_consume_events_per_s",
        "ratio",
        "worker_peak_rss_mb",
        "query_p99_ms",
        "sql_reference_events_per_s",
        "ratio_to_sql",
        "national_month_s",
        "scale_out_ratio",
    ]
    assert "sql_reference_events_per_s=500000" in lines
    assert "ratio_to_sql=0.040" in lines
    assert lines[-1] == "scale_out_ratio=n/a (not measured)"


def test_no_reference_line_without_a_reference_run() -> None:
    names = [line.split("=", 1)[0] for line in _result().summary_lines()]
    assert "sql_reference_events_per_s" not in names and "ratio_to_sql" not in names


def test_growth_and_freshness_lines_come_before_scale_out() -> None:
    lines = _result(rss_growth_ratio=1.04, freshness_p99_ms=1234.4).summary_lines()
    assert lines[-4:] == [
        "national_month_s=250 (extrapolated from 200000 events)",
        "rss_growth_ratio=1.040",
        "freshness_p99_ms=1234",
        "scale_out_ratio=n/a (not measured)",
    ]


def test_scale_out_is_the_two_worker_rate_over_the_one_worker_rate() -> None:
    lines = _result(workers_2_events_per_s=30_000.0).summary_lines()
    assert lines[-1] == "scale_out_ratio=1.500"
