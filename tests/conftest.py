"""Shared fixtures: the real Tansu broker and chDB stores, each test with unique names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.generator import PaymentCycle
from simulators.scenario import Scenario, load_scenario
from streams.broker import EmbeddedBroker
from streams.storage.chdb_store import ChdbStore


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A real Tansu broker on a free loopback port, stopped afterwards."""
    with EmbeddedBroker(tmp_path / "broker.log") as running:
        yield running


@pytest.fixture
def chdb_store(tmp_path: Path) -> Iterator[ChdbStore]:
    """An open chDB store on a fresh directory with a unique database name."""
    store = ChdbStore(tmp_path / "chdb", unique("test"))
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
