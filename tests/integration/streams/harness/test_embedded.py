"""The whole pipeline on real parts: Tansu broker, a Faust worker process, chDB.

binh-dinh-2023-06 is sent with duplicates, reordering, malformed messages of every class and
redelivered batches; every level of the result must equal the simulator's ground truth.
"""

from __future__ import annotations

import re

import orjson
import pytest

from simulators.faults import MALFORMED_CLASSES
from streams.harness.testing import ServiceFactory
from streams.harness.verify import compare
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.queries import Results
from tests.support.names import unique
from tests.support.runs import Run, rules

pytestmark = pytest.mark.integration


def test_headline_is_142_of_127450_despite_faults(binh_dinh_run: Run) -> None:
    [province] = binh_dinh_run.results.provinces
    assert (province["period"], province["province_code"]) == ("2023-06", 52)
    assert province["beneficiaries_paid_cashless"] == 142
    assert province["beneficiaries_due"] == 127_450
    assert binh_dinh_run.truth["faults"]["duplicates"] > 10_000
    assert binh_dinh_run.truth["faults"]["redelivered_batches"] > 0


def test_every_level_equals_the_ground_truth_under_faults(binh_dinh_run: Run) -> None:
    assert compare(binh_dinh_run.results, binh_dinh_run.truth, rules(binh_dinh_run.settings)) == []


def test_every_malformed_class_is_dead_lettered_as_often_as_injected(binh_dinh_run: Run) -> None:
    got = {r["error_class"]: r["events"] for r in binh_dinh_run.results.dead_letters}
    assert set(got) == set(MALFORMED_CLASSES)
    assert got == binh_dinh_run.truth["malformed_by_class"]


def test_each_alert_kind_and_the_coverage_ranking_match_the_drill(drill_run: Run) -> None:
    kinds = {a["kind"] for a in drill_run.results.alerts}
    assert kinds == {"low_cashless_rate", "cashless_rate_drop", "paid_twice", "unknown_beneficiary"}
    assert compare(drill_run.results, drill_run.truth, rules(drill_run.settings)) == []
    assert len(drill_run.results.coverage) == len(drill_run.truth["coverage"])


def test_a_fresh_consumer_group_replaying_the_topic_gets_identical_results(
    drill_run: Run, welfare_services: ServiceFactory
) -> None:
    """A second service of the test kit reads the drill's events topic (still on the shared
    broker) with a new consumer group into a fresh store."""
    service = welfare_services.start(
        "drill-again", app_id=unique("wm-replay"), events_topic=drill_run.settings.events_topic
    )
    again = service.wait()
    service.stop()

    def timeless(results: Results) -> Results:
        alerts = [{k: v for k, v in a.items() if k != "raised_at"} for a in results.alerts]
        return Results(**{**results.__dict__, "alerts": alerts})

    assert timeless(again) == timeless(drill_run.results)
    assert again.nation and again.alerts


def _tables(run: Run) -> list[str]:
    store = ClickHouseStore(chdb_dsn(run.data_dir / "chdb"), run.settings.clickhouse_database)
    store.open()
    try:
        tables = [
            r["name"]
            for r in store.query(
                "SELECT name FROM system.tables WHERE database = currentDatabase()"
            )
        ]
        assert {
            "commune_programme_stats",
            "dead_letters",
            "alerts",
            "access_points",
            "pipeline_health",
            "ledger_payments",
            "ledger_events",
            "ledger_ids",
        } <= set(tables)
        return [
            orjson.dumps(store.query(f"SELECT * FROM `{table}`")).decode()  # noqa: S608
            for table in tables
        ]
    finally:
        store.close()


def _topics(bootstrap: str) -> set[str]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return set(consumer.topics())
    finally:
        consumer.close()


def _topic_values(bootstrap: str, topics: list[str]) -> list[str]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    consumer.subscribe(topics)
    values = [(m.value or b"").decode(errors="replace") + repr(m.headers) for m in consumer]
    consumer.close()
    return values


@pytest.mark.parametrize("which", ["binh_dinh_run", "drill_run"])
def test_no_citizen_id_in_clickhouse_topics_or_logs(
    which: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(which)
    texts = _tables(run)
    texts += [p.read_text(errors="replace") for p in (run.data_dir / "logs").glob("*")]
    s = run.settings
    downstream = [
        t
        for t in _topics(run.bootstrap_servers)
        if t.startswith(s.app_id) or t in (s.dead_letter_topic, s.alerts_topic)
    ]
    assert s.dead_letter_topic in downstream and s.alerts_topic in downstream
    texts += _topic_values(run.bootstrap_servers, downstream)
    assert len(texts) > 10
    found = {digits for text in texts for digits in re.findall(r"\d{12}", text)}
    assert found & run.citizen_ids == set()
    assert run.citizen_ids


def test_health_rows_show_throughput_and_dead_letters(drill_run: Run) -> None:
    store = ClickHouseStore(
        chdb_dsn(drill_run.data_dir / "chdb"), drill_run.settings.clickhouse_database
    )
    store.open()
    try:
        [row] = store.query(
            "SELECT sum(events) AS events, sum(dead_letters) AS dead, max(events_per_s) AS peak,"
            " min(consumer_lag) AS lag FROM pipeline_health"
        )
    finally:
        store.close()
    assert int(row["events"]) > 0 and float(row["peak"]) > 0
    assert 0 < int(row["dead"]) <= sum(drill_run.truth["malformed_by_class"].values())
    assert int(row["lag"]) >= 0
