"""Several `run`s into one data dir continue its ledger (issue 13, items 1, 2 and 4).

Real parts: the Tansu broker, a Faust worker process per run, chDB in the data dir. A
multi-period scenario's events (with duplicates and reordering) are split by event time into
three files, so each period's retries, reversals and re-payments land in a later file than its
schedule; after the three runs every level equals the simulator's ground truth, in either
order, and a file sent twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import SecretStr

from simulators.faults import FaultInjector, FaultSpec
from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from simulators.scenario import load_scenario
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import EmbeddedPipeline
from streams.harness.testing import ServiceFactory
from streams.harness.verify import compare
from streams.settings import Settings
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.queries import Results
from tests.support.names import unique
from tests.support.runs import rules

pytestmark = pytest.mark.integration

LATE = ("payment.returned", "payment.failed")


def settings_for_one_run() -> Settings:
    """A run's settings: its own topics and group (as a fresh broker would give it), the same
    pseudonym key."""
    return Settings(
        _env_file=None,
        app_id=unique("wm"),
        events_topic=unique("events"),
        dead_letter_topic=unique("dlq"),
        alerts_topic=unique("alerts"),
        pseudonym_key=SecretStr("ledger-test-key-0123456789abcdef"),
        replay_file_events=200,
    )


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[str, Any]]:
    """The alerts drill (two periods, reversals, re-payments, double and unknown payments),
    smaller, with duplicates and reordering, split by event time into three files."""
    scenario = load_scenario("alerts-drill").model_copy(update={"beneficiaries": 1200})
    cycle = PaymentCycle(scenario, seed=1)
    spec = FaultSpec(duplicates=0.05, out_of_order=0.05, redeliver=0.001)
    lines = list(FaultInjector(spec, 1, cycle.truth).lines(cycle.events()))
    lines.sort(key=lambda line: orjson.loads(line)["occurred_at"])  # stable: copies stay put
    third = len(lines) // 3
    parts = [lines[:third], lines[third : 2 * third], lines[2 * third :]]
    tmp = tmp_path_factory.mktemp("split")
    paths = []
    for i, part in enumerate(parts):
        path = tmp / f"part{i}.jsonl"
        with path.open("wb") as f:
            write_lines(part, f)
        paths.append(path)
    # The split is the one the issue asks for: a period's schedule in one file, some of its
    # later events (failures, reversals, re-payments) in a later one.
    first = [orjson.loads(line) for line in parts[0]]
    later = [orjson.loads(line) for line in parts[1] + parts[2]]
    scheduled_early = {
        e["payload"]["period"] for e in first if e["event_type"] == "payment.scheduled"
    }
    assert any(e["event_type"] in LATE and e["payload"]["period"] in scheduled_early for e in later)
    assert any(
        e["event_type"] == "payment.succeeded"
        and e["payload"].get("attempt", 0) > 1
        and e["payload"]["period"] in scheduled_early
        for e in later
    )
    return paths, cycle.truth.to_json()


def run_all(paths: list[Path], data_dir: Path, broker: EmbeddedBroker) -> Results:
    results = None
    for path in paths:
        results = EmbeddedPipeline(settings_for_one_run()).run(path, data_dir, broker=broker)
    assert results is not None
    return results


def ledger_count(data_dir: Path) -> int:
    database = Settings(_env_file=None).clickhouse_database
    store = ClickHouseStore(chdb_dsn(data_dir / "chdb"), database)
    store.open()
    try:
        return int(store.query("SELECT uniqExact(event_id) AS n FROM ledger_payments")[0]["n"])
    finally:
        store.close()


def test_three_runs_into_one_data_dir_equal_the_truth_in_order_and_reversed(
    split: tuple[list[Path], dict[str, Any]], welfare_services: ServiceFactory, tmp_path: Path
) -> None:
    paths, truth = split
    forward = run_all(paths, tmp_path / "forward", welfare_services.broker)
    assert compare(forward, truth, rules(Settings(_env_file=None))) == []
    reverse = run_all(paths[::-1], tmp_path / "reverse", welfare_services.broker)
    assert compare(reverse, truth, rules(Settings(_env_file=None))) == []
    assert forward.nation == reverse.nation


def test_sending_a_file_twice_changes_nothing(
    split: tuple[list[Path], dict[str, Any]], tmp_path: Path
) -> None:
    paths, truth = split
    data_dir = tmp_path / "data"
    # Its own broker each time, as `welfare-monitor run` does.
    for path in (paths[0], paths[1], paths[1], paths[2], paths[0]):
        results = EmbeddedPipeline(settings_for_one_run()).run(path, data_dir)
    assert compare(results, truth, rules(Settings(_env_file=None))) == []
    payment_ids = {
        e["event_id"]
        for path in paths
        for line in path.read_bytes().splitlines()
        if (e := orjson.loads(line))["event_type"].startswith("payment.")
    }
    assert ledger_count(data_dir) == len(payment_ids)


def test_a_conflicting_duplicate_of_an_earlier_run_is_dead_lettered(
    split: tuple[list[Path], dict[str, Any]], welfare_services: ServiceFactory, tmp_path: Path
) -> None:
    paths, _ = split
    data_dir = tmp_path / "data"
    broker = welfare_services.broker
    first = EmbeddedPipeline(settings_for_one_run()).run(paths[1], data_dir, broker=broker)
    assert first.dead_letters == []
    lines = paths[1].read_bytes().splitlines()
    original = next(
        orjson.loads(line)
        for line in lines
        if orjson.loads(line)["event_type"] == "payment.succeeded"
    )
    conflicting = {
        **original,
        "payload": {**original["payload"], "amount_vnd": original["payload"]["amount_vnd"] + 1000},
    }
    second_file = tmp_path / "second.jsonl"
    second_file.write_bytes(orjson.dumps(conflicting) + b"\n" + orjson.dumps(original) + b"\n")
    second = EmbeddedPipeline(settings_for_one_run()).run(second_file, data_dir, broker=broker)
    assert [(r["error_class"], r["events"]) for r in second.dead_letters] == [
        ("conflicting_duplicate", 1)
    ]
    assert (second.nation, second.communes, second.programmes) == (
        first.nation,
        first.communes,
        first.programmes,
    )
