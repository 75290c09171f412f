"""Shared fixtures: the real Tansu broker and chDB stores, each test with unique names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from simulators.faults import FaultInjector, FaultSpec
from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from simulators.scenario import Scenario, load_scenario
from streams.domain.alerts import AlertRules
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import EmbeddedPipeline
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
    """A scenario sent with faults through the real broker, a worker process and chDB."""

    results: Results
    truth: dict[str, Any]
    citizen_ids: set[str]
    events_path: Path
    data_dir: Path
    settings: Settings


def rules(settings: Settings) -> AlertRules:
    """The alert thresholds of `settings`."""
    return AlertRules.of(settings)


def run_scenario(
    name: str, tmp: Path, broker: EmbeddedBroker, faults: FaultSpec = FAULTS,
    file_events: int = 500,
) -> Run:
    """Simulate `name` with `faults` and run it through the embedded pipeline on `broker`,
    in payment files of `file_events` events (0: one event per message)."""
    cycle = PaymentCycle(load_scenario(name), seed=0)
    ids: set[str] = set()

    def remember(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for event in events:
            if "citizen_id" in event["payload"]:
                ids.add(event["payload"]["citizen_id"])
            yield event

    path = tmp / "events.jsonl"
    with path.open("wb") as f:
        write_lines(FaultInjector(faults, 0, cycle.truth).lines(remember(cycle.events())), f)
    settings = Settings(
        _env_file=None, app_id=unique("wm"), events_topic=unique("events"),
        dead_letter_topic=unique("dlq"), alerts_topic=unique("alerts"),
        pseudonym_key=SecretStr("embedded-test-key-0123456789"),  # same pseudonyms on replay
        replay_file_events=file_events,
    )
    data_dir = tmp / "data"
    results = EmbeddedPipeline(settings).run(path, data_dir, broker=broker)
    return Run(results, cycle.truth.to_json(), ids, path, data_dir, settings)


@pytest.fixture(scope="session")
def session_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One real broker for the session's scenario runs (each run has its own topics)."""
    with EmbeddedBroker(tmp_path_factory.mktemp("broker") / "broker.log") as running:
        yield running


@pytest.fixture(scope="session")
def binh_dinh_run(
    tmp_path_factory: pytest.TempPathFactory, session_broker: EmbeddedBroker
) -> Run:
    """binh-dinh-2023-06 with every fault, in payment files, run once per session."""
    return run_scenario("binh-dinh-2023-06", tmp_path_factory.mktemp("binh-dinh"), session_broker)


@pytest.fixture(scope="session")
def drill_run(tmp_path_factory: pytest.TempPathFactory, session_broker: EmbeddedBroker) -> Run:
    """The alerts-drill scenario with every fault, one event per message, once per session."""
    return run_scenario("alerts-drill", tmp_path_factory.mktemp("drill"), session_broker,
                        file_events=0)
