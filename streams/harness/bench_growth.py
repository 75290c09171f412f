"""The bench's memory-growth stage: one worker over 24 monthly periods of one scenario.

A scenario of `periods` consecutive months is built with streams.harness.testing.build_scenario,
its events split by period (access points go with the first) and sent one period at a
time to a fresh embedded broker; after each period the bench waits until the worker has
acknowledged everything sent, i.e. until it is in ClickHouse. Every 0.2 s while a period
is processed it samples the resident set (VmRSS) of the worker plus its ingest helpers.
`rss_growth_ratio` is the highest sample during the last 3 periods over the highest
sample during the first 3 (worker start included there).
"""

from __future__ import annotations

import operator
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import (
    EmbeddedRun,
    SilentObserver,
    WorkerHandle,
    embedded_settings,
    produce_file,
)
from streams.replay.kafka_io import ensure_topics
from streams.settings import Settings


def monthly_periods(first: str, count: int) -> list[str]:
    """`count` consecutive periods (YYYY-MM) from `first`."""
    year, month = (int(part) for part in first.split("-"))
    start = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(start, start + count)]


def rss_mb(pid: int) -> float:
    """Current resident set (VmRSS) of a live process, in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def growth_ratio(peaks: list[float], window: int = 3) -> float:
    """Highest of the last `window` period peaks over the highest of the first `window`."""
    if len(peaks) < 2 * window:
        raise ValueError(f"need at least {2 * window} periods, got {len(peaks)}")
    return max(peaks[-window:]) / max(peaks[:window])


@dataclass(frozen=True)
class Growth:
    """Per-period peak RSS (MB) of the worker and its helpers, and the events sent."""

    peaks_mb: list[float]
    events: int

    @property
    def ratio(self) -> float:
        return growth_ratio(self.peaks_mb)


def split_by_period(events: list[dict[str, Any]], periods: list[str]) -> list[list[bytes]]:
    """Each event's JSON line under its payload's period (others under the current one)."""
    index = {period: i for i, period in enumerate(periods)}
    out: list[list[bytes]] = [[] for _ in periods]
    current = 0
    for event in events:
        current = index.get(str(event.get("payload", {}).get("period")), current)
        out[current].append(orjson.dumps(event))
    return out


def rss_growth(periods: int, beneficiaries: int, on_stage: Callable[[str], None]) -> Growth:
    """Run the growth stage (see the module's docstring) in a temporary directory."""
    from streams.harness.bench import children
    from streams.harness.testing import build_scenario

    names = monthly_periods("2024-01", periods)
    scenario = build_scenario(
        name="bench-growth", periods=names, communes=10, beneficiaries=beneficiaries
    )
    cycle = PaymentCycle(scenario, 0)
    by_period = split_by_period(list(cycle.events()), names)
    observer = SilentObserver()
    with tempfile.TemporaryDirectory(prefix="welfare-growth-") as tmp:
        data_dir = Path(tmp)
        files = []
        for i, lines in enumerate(by_period):
            path = data_dir / f"period-{i:02d}.jsonl"
            with path.open("wb") as f:
                write_lines(iter(lines), f)
            files.append((path, len(lines)))
        paths = EmbeddedRun(data_dir)
        with EmbeddedBroker(paths.broker_log) as broker:
            settings = embedded_settings(
                Settings(_env_file=None, log_level="warn"), data_dir, broker.bootstrap_servers
            )
            ensure_topics(settings.kafka_bootstrap_servers, settings.topic_layout())
            worker = WorkerHandle(settings, paths)
            worker.start()
            peaks: list[float] = []
            sent = 0
            try:
                for i, (path, count) in enumerate(files):
                    on_stage(f"memory growth: period {i + 1} of {len(files)}")
                    sent += produce_file(settings, path, count, observer).messages
                    peak = [0.0]

                    def sample(_done: int, peak: list[float] = peak) -> None:
                        assert worker.process is not None
                        pid = worker.process.pid
                        total = rss_mb(pid) + sum(rss_mb(child) for child in children(pid))
                        peak[0] = max(peak[0], total)

                    worker.wait_until(partial(operator.le, sent), sample)
                    sample(0)
                    peaks.append(peak[0])
            finally:
                worker.stop()
    return Growth(peaks_mb=peaks, events=sum(len(lines) for lines in by_period))
