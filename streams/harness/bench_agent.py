"""The payments agent's own CPU per event, in one process, with and without the folded cache.

`python -m streams.harness.bench_agent [--events N] [--batch B] [--scenario national-month|periods]
[--cache-rows R,R,...]` ingests N events of the scenario first (not timed), then, for each
cache size in turn and on a fresh chDB store each time, hands them to `PaymentsAgent.process`
in batches of B events and prints the process CPU seconds (chDB's threads included) per
event, the cache's hits and misses, and the figures stored. No broker, no Faust, no ingest
helper: the agent's ledger path alone. CPU time, not wall time, so a run on a shared
machine still compares its lines with each other (docs/benchmarks.md). `periods` is a
24-month scenario of 10 communes (as in the bench's growth stage): there every batch reads
the months before and after it, which the cache keeps.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson
from faust.types import EventT

from simulators.generator import PaymentCycle
from simulators.scenario import load_scenario
from streams.domain.ingest import Arrival, MessageResult, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from streams.pipeline.agent import PaymentsAgent
from streams.settings import Settings
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from streams.storage.sink import ClickHouseSink


class _Topic:
    async def send(self, **message: Any) -> None:
        return None


class _Message:
    topic, partition, offset = "bench", 0, 0


@dataclass
class _Event:
    value: bytes
    message: _Message


@dataclass(frozen=True)
class AgentRun:
    """One pass of the events through a fresh agent and store."""

    cache_rows: int
    cpu_s: float
    events: int
    hits: int
    misses: int
    figures: dict[str, int]

    def line(self) -> str:
        """One line of output."""
        return (
            f"cache_rows={self.cache_rows} cpu_s={self.cpu_s:.2f} "
            f"us_per_event={1e6 * self.cpu_s / self.events:.0f} hits={self.hits} "
            f"misses={self.misses} figures={self.figures}"
        )


def scenario_events(scenario: str, events: int) -> list[bytes]:
    """The first `events` events of `scenario` (seed 0), as JSON."""
    if scenario == "periods":
        from streams.harness.bench_growth import monthly_periods
        from streams.harness.testing import build_scenario

        built = build_scenario(
            name="bench-agent",
            communes=10,
            beneficiaries=4000,
            periods=monthly_periods("2024-01", 24),
        )
        cycle = PaymentCycle(built, 0)
    else:
        cycle = PaymentCycle(load_scenario(scenario), 0)
    return [orjson.dumps(e) for e in itertools.islice(cycle.events(), events)]


def run_agent(
    values: Sequence[bytes],
    ingested: Sequence[MessageResult],
    batch: int,
    cache_rows: int,
    pseudonymize: Pseudonymizer,
) -> AgentRun:
    """Process every value in batches on a fresh store; CPU seconds of the processing only."""
    with tempfile.TemporaryDirectory(prefix="welfare-agent-") as tmp:
        store = ClickHouseStore(chdb_dsn(Path(tmp) / "chdb"), "bench")
        store.open()
        try:
            migrate(store)
            settings = Settings(_env_file=None, ledger_cache_rows=cache_rows)
            agent = PaymentsAgent(settings, ClickHouseSink(store), pseudonymize)
            started = time.process_time()
            for i in range(0, len(values), batch):
                events = [_Event(v, _Message()) for v in values[i : i + batch]]
                batch_events = cast(list[EventT], events)  # what the agent reads of an event
                asyncio.run(
                    agent.process(batch_events, _Topic(), _Topic(), ingested[i : i + batch])
                )
            cpu = time.process_time() - started
            row = store.query(
                "SELECT sum(beneficiaries_due) AS due, sum(beneficiaries_paid) AS paid, "
                "sum(beneficiaries_paid_cashless) AS cashless, count() AS rows "
                "FROM commune_programme_stats FINAL"
            )[0]
        finally:
            store.close()
    return AgentRun(
        cache_rows,
        cpu,
        len(values),
        agent.folded.hits,
        agent.folded.misses,
        {k: int(v) for k, v in row.items()},
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="python -m streams.harness.bench_agent")
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=4_000)
    parser.add_argument("--scenario", default="national-month")
    parser.add_argument("--cache-rows", default="0,50000,0,50000")
    args = parser.parse_args(argv)
    pseudonymize = Pseudonymizer(b"bench-agent-key-" * 2)
    values = scenario_events(args.scenario, args.events)
    ingested = [ingest_message(v, pseudonymize, Arrival.at()) for v in values]
    for rows in (int(r) for r in args.cache_rows.split(",")):
        print(run_agent(values, ingested, args.batch, rows, pseudonymize).line(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
