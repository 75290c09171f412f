"""Scenario runs on the test kit's embedded service (the real broker, a worker process and
chDB), shared by the session fixtures `binh_dinh_run` and `drill_run` (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulators.faults import FaultInjector, FaultSpec
from simulators.generator import PaymentCycle
from simulators.scenario import load_scenario
from streams.domain.alerts import AlertRules
from streams.harness.testing import ServiceFactory
from streams.settings import Settings
from streams.storage.queries import Results

FAULTS = FaultSpec(duplicates=0.05, out_of_order=0.05, malformed=0.01, redeliver=0.0001)


@dataclass
class Run:
    """A scenario sent with faults to an embedded service of the test kit (the real broker,
    a worker process and chDB), caught up and stopped: its chDB can be opened."""

    results: Results
    truth: dict[str, Any]
    citizen_ids: set[str]
    data_dir: Path
    settings: Settings

    @property
    def bootstrap_servers(self) -> str:
        """The session's shared broker, which still holds the run's topics."""
        return self.settings.kafka_bootstrap_servers


def rules(settings: Settings) -> AlertRules:
    """The alert thresholds of `settings`."""
    return AlertRules.of(settings)


def run_on(services: ServiceFactory, name: str, file_events: int) -> Run:
    """Simulate `name` with FAULTS and replay it to a new service of the test kit, in payment
    files of `file_events` events (0: one event per message); wait, then stop the worker."""
    cycle = PaymentCycle(load_scenario(name), seed=0)
    ids: set[str] = set()

    def remember(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for event in events:
            if "citizen_id" in event["payload"]:
                ids.add(event["payload"]["citizen_id"])
            yield event

    service = services.start(name)
    service.replay(
        FaultInjector(FAULTS, 0, cycle.truth).lines(remember(cycle.events())),
        file_events=file_events,
    )
    results = service.wait()
    service.stop()
    refresh_followup(service.data_dir, service.settings)
    return Run(results, cycle.truth.to_json(), ids, service.data_dir, service.settings)


def refresh_followup(data_dir: Path, settings: Settings) -> None:
    """Fill the follow-up table of a stopped run's chDB, as the operators' cron does
    (`welfare-monitor followup refresh`, docs/server-mode.md): the commune dashboard's
    follow-up panel reads that table only."""
    from streams.cli.followup import refresh
    from streams.storage.clickhouse_store import ClickHouseStore
    from streams.storage.factory import chdb_dsn

    store = ClickHouseStore(chdb_dsn(data_dir / "chdb"), settings.clickhouse_database)
    store.open()
    try:
        refresh(store)
    finally:
        store.close()
