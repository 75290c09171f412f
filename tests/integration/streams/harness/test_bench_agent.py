"""`python -m streams.harness.bench_agent`: the agent-only CPU bench stores the same figures with
and without the folded cache, on a scenario whose batches read their neighbour months."""

from __future__ import annotations

import pytest

from streams.domain.ingest import Arrival, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from streams.harness.bench_agent import run_agent, scenario_events

pytestmark = pytest.mark.integration


def test_the_figures_are_the_same_with_and_without_the_cache() -> None:
    pseudonymize = Pseudonymizer(b"k" * 32)
    values = scenario_events("periods", 6_000)
    ingested = [ingest_message(v, pseudonymize, Arrival.at()) for v in values]
    without = run_agent(values, ingested, 500, 0, pseudonymize)
    cached = run_agent(values, ingested, 500, 200_000, pseudonymize)
    assert without.figures == cached.figures
    assert without.figures["due"] > 0
    assert (without.hits, without.misses) == (0, 0)
    assert cached.hits > 0
    assert "us_per_event=" in cached.line()
