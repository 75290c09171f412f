"""Scenarios and their events for tests that need speed rather than scale."""

from __future__ import annotations

from simulators.generator import PaymentCycle
from simulators.scenario import Scenario


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
