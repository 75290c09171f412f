"""Project fixtures, and fixtures only (helpers live in tests/support/): brokers and chDB
stores with unique names, and the two scenario runs many tests read, built on the test kit
(streams/harness/testing.py: `welfare_services`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.scenario import Scenario, load_scenario
from streams.harness.broker import EmbeddedBroker
from streams.harness.testing import ServiceFactory
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from tests.support.kafka_server import KafkaServer
from tests.support.names import unique
from tests.support.runs import Run, run_on


@pytest.fixture(autouse=True)
def default_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in the default language, whatever LANGUAGE the shell exports (GNU
    gettext's LANGUAGE=en_US:en is common), and leaves it there (`main` sets it per call)."""
    from schemas import i18n

    monkeypatch.delenv("LANGUAGE", raising=False)
    i18n.use(i18n.DEFAULT_LANGUAGE)
    yield
    i18n.use(i18n.DEFAULT_LANGUAGE)


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


@pytest.fixture
def store(chdb_store: ClickHouseStore) -> ClickHouseStore:
    """`chdb_store` with every migration applied."""
    migrate(chdb_store)
    return chdb_store


@pytest.fixture(scope="session")
def binh_dinh() -> Scenario:
    """The headline scenario."""
    return load_scenario("binh-dinh-2023-06")


@pytest.fixture(scope="session")
def binh_dinh_run(welfare_services: ServiceFactory) -> Run:
    """binh-dinh-2023-06 with every fault, in payment files, run once per session."""
    return run_on(welfare_services, "binh-dinh-2023-06", file_events=500)


@pytest.fixture(scope="session")
def drill_run(welfare_services: ServiceFactory) -> Run:
    """The alerts-drill scenario with every fault, one event per message, once per session."""
    return run_on(welfare_services, "alerts-drill", file_events=0)
