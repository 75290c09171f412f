"""The whole pipeline on real parts: Tansu broker, a Faust worker process, chDB."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from simulators.faults import MALFORMED_CLASSES, malformed_line
from simulators.generator import PaymentCycle
from simulators.jsonl import write_jsonl
from simulators.scenario import load_scenario
from streams.embedded import EmbeddedPipeline
from streams.queries import Results
from streams.settings import Settings
from streams.storage.chdb_store import ChdbStore
from tests.conftest import first_payment, unique

pytestmark = pytest.mark.integration

COUNT_KEYS = ("beneficiaries_due", "beneficiaries_paid", "beneficiaries_paid_cashless")


@dataclass
class Run:
    results: Results
    truth: dict[str, object]
    citizen_ids: set[str]
    data_dir: Path
    settings: Settings
    malformed: dict[str, int]


def malformed_lines(payment: dict[str, object]) -> tuple[list[bytes], dict[str, int]]:
    """One broken message per malformed class the worker detects on its own.

    conflicting_duplicate needs the agent's event-id memory, which the streams issue adds.
    """
    classes = [c for c in MALFORMED_CLASSES if c != "conflicting_duplicate"]
    rng = random.Random(0)
    return [malformed_line(c, payment, rng) for c in classes], dict.fromkeys(classes, 1)


@pytest.fixture(scope="module")
def binh_dinh_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("binh-dinh")
    cycle = PaymentCycle(load_scenario("binh-dinh-2023-06"), seed=0)
    events = list(cycle.events())
    bad, classes = malformed_lines(first_payment(events))
    path = tmp / "events.jsonl"
    with path.open("wb") as f:
        write_jsonl(events, f)
        f.write(b"\n".join(bad) + b"\n")
    settings = Settings(
        _env_file=None,
        app_id=unique("wm"),
        events_topic=unique("events"),
        dead_letter_topic=unique("dlq"),
    )
    data_dir = tmp / "data"
    results = EmbeddedPipeline(settings).run(path, data_dir)
    ids = {str(e["payload"]["citizen_id"]) for e in events  # type: ignore[index]
           if "citizen_id" in e["payload"]}  # type: ignore[operator]
    return Run(results, cycle.truth.to_json(), ids, data_dir, settings, classes)


def test_headline_is_142_of_127450(binh_dinh_run: Run) -> None:
    [province] = binh_dinh_run.results.provinces
    assert province["period"] == "2023-06"
    assert province["province_code"] == 52
    assert province["beneficiaries_paid_cashless"] == 142
    assert province["beneficiaries_due"] == 127_450


def test_every_commune_equals_the_ground_truth(binh_dinh_run: Run) -> None:
    got = [
        {k: row[k] for k in ("period", "province_code", "commune_code", *COUNT_KEYS)}
        for row in binh_dinh_run.results.communes
    ]
    expected = [
        {k: row[k] for k in ("period", "province_code", "commune_code", *COUNT_KEYS)}
        for row in binh_dinh_run.truth["communes"]  # type: ignore[attr-defined]
    ]
    assert got == expected
    assert binh_dinh_run.results.provinces[0]["beneficiaries_paid"] == (
        binh_dinh_run.truth["totals"]["beneficiaries_paid"]  # type: ignore[index]
    )


def test_bad_input_is_dead_lettered_by_class(binh_dinh_run: Run) -> None:
    got = {r["error_class"]: r["events"] for r in binh_dinh_run.results.dead_letters}
    assert got == binh_dinh_run.malformed


def test_no_citizen_id_in_clickhouse_or_logs(binh_dinh_run: Run) -> None:
    store = ChdbStore(binh_dinh_run.data_dir / "chdb", binh_dinh_run.settings.clickhouse_database)
    store.open()
    try:
        tables = [r["name"] for r in store.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase()"
        )]
        assert "commune_payment_totals" in tables
        dumps = [
            orjson.dumps(store.query(f"SELECT * FROM `{table}`")).decode()  # noqa: S608
            for table in tables
        ]
    finally:
        store.close()
    logs = [p.read_text(errors="replace") for p in (binh_dinh_run.data_dir / "logs").glob("*")]
    found = {
        run for text in dumps + logs for run in re.findall(r"\d{12}", text)
    } & binh_dinh_run.citizen_ids
    assert found == set()
