"""welfare-monitor's test kit: a pytest plugin for ops teams' own tests.

Installing welfare-monitor registers it (entry point `pytest11: welfare_monitor`), so any
project's tests get:
- the `welfare_service` fixture: a real embedded service (Tansu broker, Faust worker, chDB)
  in a temporary directory, as a `ServiceHandle` with `replay`, `verify`, `figures`,
  `dead_letters` and `stop`;
- the session-scoped `welfare_services` fixture: `start()` services on one shared broker, for
  an expensive scenario run that many tests read (see docs/testing.md);
- `build_scenario(...)`: a small scenario in code (communes, beneficiaries, adoption), checked
  like a scenario file, and `FaultSpec` for the faults; `replay` of a scenario returns its
  ground truth.
The project's own integration tests use the same fixtures (tests/conftest.py). Heavy imports
wait until a fixture is used, so the plugin costs nothing to pytest runs that do not use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from simulators.faults import FaultSpec

if TYPE_CHECKING:
    from simulators.scenario import Scenario
    from streams.harness.service import EmbeddedService
    from streams.harness.verify import Difference
    from streams.settings import Settings
    from streams.storage.queries import Results

__all__ = [
    "FaultSpec",
    "ServiceFactory",
    "ServiceHandle",
    "build_scenario",
    "welfare_service",
    "welfare_services",
]

LEVELS = ("nation", "provinces", "communes", "programmes", "alerts", "coverage", "dead_letters")

_TEMPLATE: dict[str, Any] = {
    "title": "A scenario built in a test",
    "source": "streams.harness.testing.build_scenario",
    "cashless_failure_rate": 0.05,
    "failure_rate": 0.02,
    "retry_success_rate": 0.6,
    "programmes": {"social_assistance": 0.8, "meritorious_people": 0.2},
    "amount_vnd": {"social_assistance": 500000, "meritorious_people": 2055000},
    "cashless_channels": {"bank_account": 0.75, "e_wallet": 0.25},
    "cash_channels": {"post_office_cash": 0.7, "commune_cash": 0.3},
    "failure_reasons": {"identity_not_verified": 0.5, "name_mismatch": 0.5},
    "cashless_failure_reasons": {"invalid_account": 0.6, "closed_account": 0.4},
}


def build_scenario(
    *,
    name: str = "built-in-test",
    province_code: int = 52,
    communes: int = 3,
    beneficiaries: int = 600,
    periods: Iterable[str] = ("2024-01",),
    paid_cashless: int | None = None,
    adoption: Mapping[str, float] | None = None,
    starts_at: str = "2024-01-05T01:00:00Z",
    **fields: Any,
) -> Scenario:
    """A scenario over the first `communes` communes of a province, checked like a file.

    `paid_cashless` fixes the cashless count per period (else it is drawn from `adoption`,
    see simulators/README.md); any other scenario field can be given by name. A mistake
    raises `ScenarioFileError` naming every problem.
    """
    from schemas.reference import communes_of
    from simulators.errors import ScenarioFileError
    from simulators.scenario_check import check_data

    chosen = communes_of(province_code)[:communes]
    if len(chosen) < communes or communes < 1:
        raise ScenarioFileError(f"province {province_code} has no {communes} communes")
    raw = (
        _TEMPLATE
        | {
            "name": name,
            "periods": list(periods),
            "beneficiaries": beneficiaries,
            "starts_at": starts_at,
            "paid_cashless": paid_cashless,
            "region": {
                "province_codes": [province_code],
                "commune_code_range": [chosen[0].code, chosen[-1].code],
            },
            "adoption": dict(adoption or {}),
        }
        | fields
    )
    scenario, problems = check_data(raw)
    if scenario is None:
        raise ScenarioFileError("; ".join(map(str, problems)))
    return scenario


class ServiceHandle:
    """A running embedded service, as a test sees it."""

    def __init__(self, service: EmbeddedService) -> None:
        self.service = service

    @property
    def data_dir(self) -> Path:
        """Where the service keeps its chDB data and logs."""
        return self.service.data_dir

    def replay(
        self,
        source: Scenario | Iterable[Mapping[str, Any] | bytes] | Path,
        *,
        seed: int = 0,
        faults: FaultSpec | None = None,
        key: Literal["commune", "event", "none"] | None = None,
        file_events: int | None = None,
    ) -> dict[str, Any] | None:
        """Send events: a scenario (simulated with `faults`; returns its ground truth), an
        iterable of events (dicts or raw lines, sent as they are) or a JSON-lines file.
        `key` chooses how the producer keys the messages and `file_events` how many events
        go into one payment-file message (defaults: the service's REPLAY_KEY, commune, and
        REPLAY_FILE_EVENTS)."""
        from simulators.faults import FaultInjector
        from simulators.generator import PaymentCycle
        from simulators.scenario import Scenario
        from streams.harness.embedded import SilentObserver, produce_lines

        settings = self.service.settings
        assert settings is not None, "the service is not started"
        if key is not None:
            settings = settings.model_copy(update={"replay_key": key})
        if file_events is not None:
            settings = settings.model_copy(update={"replay_file_events": file_events})
        if isinstance(source, Scenario):
            cycle = PaymentCycle(source, seed)
            lines = FaultInjector(faults or FaultSpec(), seed, cycle.truth).lines(cycle.events())
            produce_lines(settings, lines, None, SilentObserver())
            return dict(cycle.truth.to_json())
        if isinstance(source, Path):
            with source.open("rb") as f:
                produce_lines(settings, f, None, SilentObserver())
            return None
        produce_lines(
            settings,
            (e if isinstance(e, bytes) else json.dumps(e).encode() for e in source),
            None,
            SilentObserver(),
        )
        return None

    def wait(self, timeout_s: float = 180.0) -> Results:
        """The figures once the worker has caught up with everything sent."""
        from streams.harness.catchup import GroupLag, wait_until_caught_up

        settings = self.service.settings
        assert settings is not None, "the service is not started"
        lag = GroupLag(settings)
        try:
            return wait_until_caught_up(self.service.results, lag, timeout_s).results
        finally:
            lag.close()

    def verify(self, truth: Mapping[str, Any], timeout_s: float = 180.0) -> list[Difference]:
        """Every difference from `truth` at every level, once caught up; [] when equal."""
        from streams.domain.alerts import AlertRules
        from streams.harness.verify import differences

        s = self.service.settings
        assert s is not None, "the service is not started"
        return differences(self.wait(timeout_s), truth, AlertRules.of(s))

    def figures(self, level: str = "communes") -> list[dict[str, Any]]:
        """The rows of one level (see LEVELS), once caught up."""
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
        rows: list[dict[str, Any]] = getattr(self.wait(), level)
        return rows

    def dead_letters(self) -> dict[str, int]:
        """Dead-lettered events by error class, once caught up."""
        return {r["error_class"]: r["events"] for r in self.wait().dead_letters}

    @property
    def settings(self) -> Settings:
        """The settings the worker runs with (topics, consumer group, chDB path, key)."""
        settings = self.service.settings
        assert settings is not None, "the service is not started"
        return settings

    @property
    def bootstrap_servers(self) -> str:
        """The broker's address, e.g. to read the dead-letter or alerts topic."""
        return self.settings.kafka_bootstrap_servers

    def stop(self) -> None:
        """Stop the worker, and the broker unless it is shared (`welfare_services`); the
        fixture does it at the end anyway. Afterwards the data dir's chDB can be opened
        (`verify --data-dir D --offline`, `report --data-dir D`)."""
        self.service.stop()


class ServiceFactory:
    """Embedded services on one shared broker, each in its own directory with its own
    topics and consumer group (`welfare_services`)."""

    def __init__(self, root: Path, key: str) -> None:
        from streams.harness.broker import EmbeddedBroker

        self.root = root
        self.key = key
        self.broker = EmbeddedBroker(root / "broker.log")
        self.services: list[EmbeddedService] = []

    @property
    def bootstrap_servers(self) -> str:
        """The shared broker's address."""
        return self.broker.bootstrap_servers

    def start(self, name: str = "service", **settings: Any) -> ServiceHandle:
        """A new service in `root/<name>-<random>`. `settings` override Settings fields;
        topics and the consumer group are unique unless given (e.g. `events_topic` of another
        service and a new `app_id`, to read its topic again into a fresh store)."""
        import uuid

        from pydantic import SecretStr

        from streams.harness.service import EmbeddedService
        from streams.settings import Settings

        tag = uuid.uuid4().hex[:10]
        unique: dict[str, Any] = {
            "app_id": f"wm-{tag}",
            "events_topic": f"events-{tag}",
            "dead_letter_topic": f"dlq-{tag}",
            "alerts_topic": f"alerts-{tag}",
            "pseudonym_key": SecretStr(self.key),
        }
        base = Settings(_env_file=None, **(unique | settings))
        service = EmbeddedService(self.root / f"{name}-{tag}", base, broker=self.broker)
        self.services.append(service)
        try:
            service.start()
        except BaseException:
            service.stop()
            raise
        return ServiceHandle(service)

    def close(self) -> None:
        """Stop every service, then the broker."""
        try:
            for service in self.services:
                service.stop()
        finally:
            self.broker.stop()


KIT_KEY = "welfare-test-kit-key-0123456789"  # one key: the same pseudonyms in every service


@pytest.fixture
def welfare_service(tmp_path: Path) -> Iterator[ServiceHandle]:
    """A real embedded welfare-monitor service in a temporary directory."""
    from pydantic import SecretStr

    from streams.harness.service import EmbeddedService
    from streams.settings import Settings

    base = Settings(_env_file=None, pseudonym_key=SecretStr(KIT_KEY))
    with EmbeddedService(tmp_path / "welfare-monitor", base) as service:
        yield ServiceHandle(service)


@pytest.fixture(scope="session")
def welfare_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceFactory]:
    """Session-wide: `start()` as many embedded services as the session needs, on one shared
    broker, each with its own data dir, topics and consumer group; all stopped at the end.
    For expensive scenario runs that several tests read (build them in session fixtures)."""
    factory = ServiceFactory(tmp_path_factory.mktemp("welfare-monitor"), KIT_KEY)
    factory.broker.start()
    try:
        yield factory
    finally:
        factory.close()
