"""The bench's report: the markdown table in docs/benchmarks.md and the machine it ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime
from pathlib import Path

from streams.harness.bench import FRESHNESS_RATE, GROWTH_BENEFICIARIES, BenchResult

MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"


def machine() -> str:
    """One line describing this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            line
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ).split()[1]
        gib = f"{int(memory) / 1024**2:.0f} GiB"
    except (OSError, StopIteration):
        gib = "? GiB"
    return (
        f"{cpu}, {os.cpu_count()} cores, {gib} RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def report_markdown(result: BenchResult, when: datetime) -> str:
    """The generated part of docs/benchmarks.md."""
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        or "unknown"
    )
    return "\n".join(
        [
            MARK_BEGIN,
            f"Last run: {when:%Y-%m-%d %H:%M} UTC, commit `{commit}`, `make bench` "
            f"({result.events:,} events of `{result.scenario}`).",
            "",
            f"Machine: {machine()}.",
            "",
            "| figure | value |",
            "|---|---|",
            f"| pipeline, end to end until in ClickHouse | {result.pipeline_events_per_s:,.0f} "
            f"events/s ({result.pipeline_seconds:.1f} s, worker start included) |",
            f"| raw aiokafka consumer decoding the JSON | {result.raw_consume_events_per_s:,.0f} "
            "events/s |",
            f"| ratio | {result.ratio:.3f} |",
            f"| loading the topic (kafka-python, lz4) | {result.produce_events_per_s:,.0f} "
            "events/s |",
            f"| worker peak RSS | {result.worker_peak_rss_mb:,.0f} MB |",
            f"| dashboard and live-page queries ({result.queries} runs, "
            f"{_history_note(result)}) | p50 {result.query_p50_ms:.1f} ms, "
            f"p99 {result.query_p99_ms:.1f} ms |",
            *[
                f"| `{name}` | {value} |"
                for name, value in (line.split("=", 1) for line in result.extra_lines())
            ],
            *_growth_rows(result),
            *(
                [
                    f"| freshness at {FRESHNESS_RATE:,} events/s, sent to stored (1 partition) | "
                    f"p50 {result.freshness_p50_ms:,.0f} ms, "
                    f"p99 {result.freshness_p99_ms:,.0f} ms |"
                ]
                if result.freshness_p99_ms is not None
                else []
            ),
            MARK_END,
        ]
    )


def _growth_rows(result: BenchResult) -> list[str]:
    if not result.growth_periods_mb:
        return []
    peaks = ", ".join(f"{mb:.0f}" for mb in result.growth_periods_mb)
    return [
        f"| worker + helpers RSS per period, {len(result.growth_periods_mb)} periods of "
        f"{GROWTH_BENEFICIARIES:,} beneficiaries (MB) | {peaks} |"
    ]


def _history_note(result: BenchResult) -> str:
    if not result.history_months:
        return "the run's month only"
    return (
        f"the run's month plus {result.history_months} generated national months, "
        f"loaded in {result.history_seconds or 0:.0f} s"
    )


def update_benchmarks_file(path: Path, generated: str) -> None:
    """Replace the generated block of `path`, keeping the hand-written log around it."""
    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else ("# Benchmarks\n\n" + MARK_BEGIN + "\n" + MARK_END + "\n")
    )
    if MARK_BEGIN in text and MARK_END in text:
        head, rest = text.split(MARK_BEGIN, 1)
        tail_text = rest.split(MARK_END, 1)[1]
        text = head + generated + tail_text
    else:
        text = text.rstrip() + "\n\n" + generated + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
