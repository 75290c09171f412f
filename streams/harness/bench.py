"""`make bench`: throughput of the embedded pipeline against the Kafka client's own limit.

One run: simulate N events, load them into a topic, then measure
1. a plain aiokafka consumer decoding every message's JSON (the client-side limit),
2. the pipeline: a fresh worker until every event is acknowledged, i.e. in ClickHouse,
3. the worker's peak RSS, and the latency of every dashboard panel query on the result.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from simulators.scenario import load_scenario
from streams.domain.ingest import FILE_KEY
from streams.errors import PipelineError
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import (
    EmbeddedRun,
    RunObserver,
    embedded_settings,
    produce_file,
)
from streams.harness.sql_reference import sql_reference
from streams.harness.workers import WorkerGroup
from streams.replay.kafka_io import ensure_topics
from streams.settings import Settings
from streams.storage import open_store


@dataclass(frozen=True)
class BenchResult:
    """The figures of one bench run."""

    events: int
    scenario: str
    produce_events_per_s: float
    raw_consume_events_per_s: float
    pipeline_events_per_s: float
    pipeline_seconds: float
    worker_peak_rss_mb: float
    query_p50_ms: float
    query_p99_ms: float
    queries: int
    sql_reference_seconds: float | None = None
    history_months: int = 0
    history_seconds: float | None = None
    rss_growth_ratio: float | None = None
    growth_periods_mb: tuple[float, ...] = ()
    freshness_p50_ms: float | None = None
    freshness_p99_ms: float | None = None
    workers_2_events_per_s: float | None = None  # the same pipeline with --workers 2

    @property
    def sql_reference_events_per_s(self) -> float | None:
        """Events per second of the one-statement SQL reference (harness/sql_reference.py)."""
        if not self.sql_reference_seconds:
            return None
        return self.events / self.sql_reference_seconds

    @property
    def ratio(self) -> float:
        """Pipeline rate over the raw client rate."""
        return self.pipeline_events_per_s / self.raw_consume_events_per_s

    def summary_lines(self) -> list[str]:
        """The machine-readable last lines `make bench` prints."""
        return [
            f"pipeline_events_per_s={self.pipeline_events_per_s:.0f}",
            f"raw_consume_events_per_s={self.raw_consume_events_per_s:.0f}",
            f"ratio={self.ratio:.3f}",
            f"worker_peak_rss_mb={self.worker_peak_rss_mb:.0f}",
            f"query_p99_ms={self.query_p99_ms:.1f}",
            *self.extra_lines(),
        ]

    def extra_lines(self) -> list[str]:
        """The issue-13 figures: the SQL reference, the national month, scale-out."""
        lines = []
        sql_rate = self.sql_reference_events_per_s
        if sql_rate is not None:
            lines += [
                f"sql_reference_events_per_s={sql_rate:.0f}",
                f"ratio_to_sql={self.pipeline_events_per_s / sql_rate:.3f}",
            ]
        lines.append(f"national_month_s={national_month_label(self.events, self.pipeline_seconds)}")
        if self.rss_growth_ratio is not None:
            lines.append(f"rss_growth_ratio={self.rss_growth_ratio:.3f}")
        if self.freshness_p99_ms is not None:
            lines.append(f"freshness_p99_ms={self.freshness_p99_ms:.0f}")
        if self.workers_2_events_per_s is None:
            lines.append("scale_out_ratio=n/a (not measured)")
        else:
            ratio = self.workers_2_events_per_s / self.pipeline_events_per_s
            lines.append(f"scale_out_ratio={ratio:.3f}")
        return lines


NATIONAL_MONTH_EVENTS = 5_000_000


def national_month_label(events: int, seconds: float) -> str:
    """The national month's end-to-end seconds, labelled as extrapolated unless measured."""
    if events >= NATIONAL_MONTH_EVENTS:
        return f"{seconds:.0f}"
    estimate = seconds * NATIONAL_MONTH_EVENTS / events
    return f"{estimate:.0f} (extrapolated from {events} events)"


def write_events(scenario: str, events: int, path: Path) -> int:
    """The first `events` events of a scenario (seed 0) as JSON lines; returns the count."""
    cycle = PaymentCycle(load_scenario(scenario), 0)
    with path.open("wb") as f:
        write_lines((orjson.dumps(e) for e in itertools.islice(cycle.events(), events)), f)
    return min(events, cycle.truth.events)


async def _raw_consume(bootstrap: str, topic: str, messages: int) -> float:
    """Events per second a plain aiokafka consumer decodes from `topic` (all `messages`)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen = events = 0
    started = time.perf_counter()
    try:
        while seen < messages:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batches.values():
                for record in records:
                    decoded = orjson.loads(record.value)
                    is_file = type(decoded) is dict and FILE_KEY in decoded
                    events += len(decoded["events"]) if is_file else 1
                seen += len(records)
            if time.perf_counter() - started > 600:
                raise PipelineError(f"raw consumer read {seen} of {messages} in 600 s")
    finally:
        await consumer.stop()
    return events / (time.perf_counter() - started)


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """Live child processes of `pid`."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def worker_peak_rss_mb(pid: int) -> float:
    """The worker's peak RSS plus its ingest helpers' (a sum of peaks: an upper bound)."""
    return peak_rss_mb(pid) + sum(peak_rss_mb(child) for child in children(pid))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# Template-variable values that match no row (no period sorts before it, no unit has code 0).
NO_ROWS_VALUES = {"period": "0000-00", "province": "0", "commune": "0"}


def query_latencies(settings: Settings, rounds: int = 10) -> list[float]:
    """Milliseconds per dashboard panel query, every panel `rounds` times. Each template
    variable takes the first value its query returns; a variable whose query returns no rows
    (no statistics yet, or none in the chosen province) takes a value that selects nothing
    (`NO_ROWS_VALUES`), so the panels are still timed."""
    from dashboards.build import build_all
    from dashboards.macros import TimeRange, expand
    from dashboards.panels import ALL, VARIABLE_QUERIES

    store = open_store(settings)
    try:
        now = datetime.now(UTC)
        window = TimeRange(now - timedelta(days=1), now + timedelta(hours=1))
        values = {"programme": ALL}
        for name in ("period", "province", "commune"):
            found = store.query(expand(VARIABLE_QUERIES[name], values, window))
            first = found[0] if found else {name: NO_ROWS_VALUES[name]}
            values[name] = str(first.get("__value", first.get(name)))
        sqls = [
            expand(t["rawSql"], values, window)
            for board in build_all().values()
            for panel in board["panels"]
            for t in panel["targets"]
        ]
        timings = []
        for _ in range(rounds):
            for sql in sqls:
                started = time.perf_counter()
                store.query(sql)
                timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        store.close()


FRESHNESS_RATE = 2_000  # events/s of the freshness stage (streams/harness/bench_freshness.py)
GROWTH_BENEFICIARIES = 4_000  # per period, in 10 communes (streams/harness/bench_growth.py)
HISTORY_LEDGER_ROWS = 5_000_000  # ledger rows per generated month: a national month


def history_and_queries(
    settings: Settings, months: int, on_stage: Callable[[str], None]
) -> tuple[list[float], float | None]:
    """Add `months` generated national months (streams/harness/bench_history.py), then time every
    dashboard panel query and every live-page query; returns (timings ms, load seconds)."""
    from streams.harness.bench_history import (
        load_history,
        page_query_latencies,
        today_period,
        wait_for_merges,
    )
    from streams.storage.queries import latest_period

    store = open_store(settings)
    try:
        latest = latest_period(store) or today_period()
        loaded = None
        if months:
            on_stage(f"loading {months} national months of history (INSERT ... SELECT)")
            loaded = load_history(store, latest, months, HISTORY_LEDGER_ROWS)
            on_stage("waiting for ClickHouse to merge the generated history")
            waited = wait_for_merges(store)
            on_stage(f"merges done after {waited:.0f} s")
        rows = store.query(
            "SELECT any(commune_code) AS c FROM commune_programme_stats WHERE period = {p:String}",
            {"p": latest},
        )
        commune = int(rows[0]["c"]) if rows else 0
        on_stage("live-page queries")
        page = page_query_latencies(store, latest, commune, rounds=10)
    finally:
        store.close()
    on_stage("dashboard queries")
    return query_latencies(settings) + page, loaded


def run_bench(
    events: int,
    scenario: str,
    observer: RunObserver,
    on_stage: Callable[[str], None],
    file_events: int | None = None,
    history_months: int = 12,
    growth_periods: int = 24,
    freshness_seconds: int = 30,
) -> BenchResult:
    """One full bench run in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="welfare-bench-") as tmp:
        data_dir = Path(tmp)
        events_path = data_dir / "events.jsonl"
        on_stage(f"simulating {events:,} events of {scenario}")
        total = write_events(scenario, events, events_path)
        paths = EmbeddedRun(data_dir)
        with EmbeddedBroker(paths.broker_log) as broker:
            base = Settings(_env_file=None, log_level="warn")
            if file_events is not None:
                base = base.model_copy(update={"replay_file_events": file_events})
            settings = embedded_settings(base, data_dir, broker.bootstrap_servers)
            ensure_topics(settings.kafka_bootstrap_servers, settings.topic_layout())
            on_stage("loading the topic")
            started = time.perf_counter()
            messages = produce_file(settings, events_path, total, observer).messages
            produce_rate = total / (time.perf_counter() - started)
            on_stage(f"raw aiokafka consumer ({messages:,} messages)")
            raw_rate = asyncio.run(
                _raw_consume(settings.kafka_bootstrap_servers, settings.events_topic, messages)
            )
            on_stage("pipeline (fresh worker until every event is in ClickHouse)")
            pipeline_s, rss = _run_worker(settings, paths, messages, observer)
            on_stage("pipeline with --workers 2 (a fresh group and store, same topic)")
            two = settings.model_copy(
                update={
                    "app_id": f"{settings.app_id}-workers-2",
                    "embedded_workers": 2,
                    "chdb_path": data_dir / "workers-2" / "chdb",
                }
            )
            workers_2_s, _ = _run_worker(
                two, EmbeddedRun(data_dir / "workers-2"), messages, observer
            )
        timings, history_s = history_and_queries(settings, history_months, on_stage)
        on_stage("SQL reference (chDB, one statement over the event file)")
        reference = sql_reference(events_path, secrets.token_bytes(32))
    growth = None
    if growth_periods:
        from streams.harness.bench_growth import rss_growth

        growth = rss_growth(growth_periods, GROWTH_BENEFICIARIES, on_stage)
    freshness: list[float] = []
    if freshness_seconds:
        from streams.harness.bench_freshness import measure_freshness

        with tempfile.TemporaryDirectory(prefix="welfare-bench-") as tmp:
            fresh_path = Path(tmp) / "events.jsonl"
            write_events(scenario, FRESHNESS_RATE * (freshness_seconds + 1), fresh_path)
            freshness = measure_freshness(fresh_path, FRESHNESS_RATE, on_stage)
    return BenchResult(
        events=total,
        scenario=scenario,
        produce_events_per_s=produce_rate,
        raw_consume_events_per_s=raw_rate,
        pipeline_events_per_s=total / pipeline_s,
        pipeline_seconds=pipeline_s,
        worker_peak_rss_mb=rss,
        query_p50_ms=statistics.median(timings),
        query_p99_ms=_percentile(timings, 0.99),
        queries=len(timings),
        sql_reference_seconds=reference.seconds,
        history_months=history_months,
        history_seconds=history_s,
        rss_growth_ratio=None if growth is None else growth.ratio,
        growth_periods_mb=() if growth is None else tuple(growth.peaks_mb),
        freshness_p50_ms=statistics.median(freshness) if freshness else None,
        freshness_p99_ms=_percentile(freshness, 0.99) if freshness else None,
        workers_2_events_per_s=total / workers_2_s,
    )


def _run_worker(
    settings: Settings, paths: EmbeddedRun, messages: int, observer: RunObserver
) -> tuple[float, float]:
    """Seconds until a fresh group (EMBEDDED_WORKERS processes) stored every message, and
    the peak RSS of its store process (the only one with one worker)."""
    started = time.perf_counter()
    worker = WorkerGroup(settings, paths)
    worker.start()
    observer.started("process", messages)
    try:
        worker.wait_until(
            lambda done: done >= messages, lambda done: observer.advanced("process", done)
        )
        elapsed = time.perf_counter() - started
        assert worker.store.process is not None
        return elapsed, worker_peak_rss_mb(worker.store.process.pid)
    finally:
        worker.stop()
