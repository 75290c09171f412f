"""Project fixtures: brokers and chDB stores with unique names, and the two scenario runs many
tests read, built on the test kit (streams/harness/testing.py: `welfare_services`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulators.faults import FaultInjector, FaultSpec
from simulators.generator import PaymentCycle
from simulators.scenario import Scenario, load_scenario
from streams.domain.alerts import AlertRules
from streams.harness.broker import EmbeddedBroker
from streams.harness.testing import ServiceFactory
from streams.settings import Settings
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.queries import Results
from tests.support.kafka_server import KafkaServer


@pytest.fixture(autouse=True)
def default_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in the default language, whatever LANGUAGE the shell exports (GNU
    gettext's LANGUAGE=en_US:en is common), and leaves it there (`main` sets it per call)."""
    from streams import i18n

    monkeypatch.delenv("LANGUAGE", raising=False)
    i18n.use(i18n.DEFAULT_LANGUAGE)
    yield
    i18n.use(i18n.DEFAULT_LANGUAGE)


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A real Tansu broker on a free loopback port, stopped afterwards."""
    with EmbeddedBroker(tmp_path / "broker.log") as running:
        yield running


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    """One Apache Kafka 4 broker (KRaft, from Maven Central's jars) for the session; each
    test uses its own topics. Tests that kill the broker start their own `KafkaServer`."""
    with KafkaServer(tmp_path_factory.mktemp("kafka")) as running:
        yield running


@pytest.fixture(params=["tansu", "kafka"])
def any_broker(request: pytest.FixtureRequest) -> EmbeddedBroker | KafkaServer:
    """Each broker in turn, for tests of server mode: Tansu (the embedded broker) and
    Apache Kafka (what a deployment runs)."""
    if request.param == "tansu":
        return request.getfixturevalue("broker")
    return request.getfixturevalue("kafka_server")


@pytest.fixture
def chdb_store(tmp_path: Path) -> Iterator[ClickHouseStore]:
    """An open chDB store on a fresh directory with a unique database name."""
    store = ClickHouseStore(chdb_dsn(tmp_path / "chdb"), unique("test"))
    store.open()
    yield store
    store.close()


@pytest.fixture(scope="session")
def binh_dinh() -> Scenario:
    """The headline scenario."""
    return load_scenario("binh-dinh-2023-06")


def small_scenario(base: Scenario, beneficiaries: int = 3000, cashless: int = 40) -> Scenario:
    """A smaller copy of a scenario, for tests that need speed rather than scale."""
    return base.model_copy(update={"beneficiaries": beneficiaries, "paid_cashless": cashless})


def first_payment(events: list[dict[str, object]]) -> dict[str, object]:
    """The first payment.scheduled event of a list."""
    return next(e for e in events if e["event_type"] == "payment.scheduled")


def simulate(scenario: Scenario, seed: int = 0) -> tuple[list[dict[str, object]], PaymentCycle]:
    """All events of a scenario and the cycle holding its ground truth."""
    cycle = PaymentCycle(scenario, seed)
    return list(cycle.events()), cycle


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
    return Run(results, cycle.truth.to_json(), ids, service.data_dir, service.settings)


@pytest.fixture(scope="session")
def binh_dinh_run(welfare_services: ServiceFactory) -> Run:
    """binh-dinh-2023-06 with every fault, in payment files, run once per session."""
    return run_on(welfare_services, "binh-dinh-2023-06", file_events=500)


@pytest.fixture(scope="session")
def drill_run(welfare_services: ServiceFactory) -> Run:
    """The alerts-drill scenario with every fault, one event per message, once per session."""
    return run_on(welfare_services, "alerts-drill", file_events=0)
