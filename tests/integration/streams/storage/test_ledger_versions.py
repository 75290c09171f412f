"""Ledger-derived row versions, cross-batch duplicates and alert reconciliation on real chDB.

ReplacingMergeTree(version) keeps the row with the highest version (ClickHouse
src/Processors/Merges/Algorithms/ReplacingSortedAlgorithm.cpp; FINAL applies the same
rule at read time), so a snapshot written late by a stale worker must carry a lower version
than the snapshot it would otherwise replace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.domain.pseudonym import Pseudonymizer
from streams.domain.statistics import CommuneId
from streams.pipeline.agent import PaymentsAgent
from streams.settings import Settings
from streams.storage import ledger
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from streams.storage.sink import ClickHouseSink, now_utc
from tests.support.faust_fakes import Event, Topic
from tests.support.names import unique
from tests.support.scenarios import simulate, small_scenario

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def events(binh_dinh: Any) -> list[dict[str, Any]]:
    generated, _ = simulate(small_scenario(binh_dinh, 150, 15))
    return [e for e in generated if e["event_type"].startswith("payment.")]


def agent_on(store: ClickHouseStore) -> PaymentsAgent:
    return PaymentsAgent(
        Settings(_env_file=None, alert_min_beneficiaries=1),
        ClickHouseSink(store),
        Pseudonymizer(b"k" * 32),
    )


def process(
    agent: PaymentsAgent,
    values: Sequence[bytes],
    alerts: Topic | None = None,
    dead: Topic | None = None,
) -> Topic:
    dead = dead or Topic()
    asyncio.run(agent.process([Event(v, i) for i, v in enumerate(values)], alerts or Topic(), dead))
    return dead


def final_stats(store: ClickHouseStore) -> dict[tuple[int, str], dict[str, Any]]:
    rows = store.query("SELECT * EXCEPT updated_at FROM commune_programme_stats FINAL")
    return {(int(r["commune_code"]), r["programme"]): r for r in rows}


def test_a_stale_snapshot_written_late_never_replaces_a_newer_row(
    store: ClickHouseStore, events: list[dict[str, Any]]
) -> None:
    agent = agent_on(store)
    process(agent, [orjson.dumps(e) for e in events[::2]])
    communes = {
        CommuneId(
            e["payload"]["period"], e["payload"]["province_code"], e["payload"]["commune_code"]
        )
        for e in events
    }
    stale = asyncio.run(ledger.read_figures(agent.sink, communes))  # a slow worker's read
    process(agent, [orjson.dumps(e) for e in events[1::2]])
    newer = final_stats(store)
    # The slow worker now writes what it computed from the smaller ledger.
    at = now_utc()
    late = [
        {
            "period": c.period,
            "province_code": c.province_code,
            "commune_code": c.commune_code,
            "programme": programme,
            **stats.row(),
            "version": f.version,
            "updated_at": at,
        }
        for c, f in stale.items()
        for programme, stats in f.per_programme.items()
    ]
    later_communes = {e["payload"]["commune_code"] for e in events[1::2]}
    for r in late:
        version = int(newer[(r["commune_code"], r["programme"])]["version"])
        if r["commune_code"] in later_communes:
            assert r["version"] < version
        else:  # nothing new there: the same ledger rows, the same snapshot
            assert r["version"] == version
    assert any(
        r["beneficiaries_paid"]
        != int(newer[(r["commune_code"], r["programme"])]["beneficiaries_paid"])
        for r in late
    )
    store.insert("commune_programme_stats", late)
    assert final_stats(store) == newer
    store.command("OPTIMIZE TABLE commune_programme_stats FINAL")
    assert final_stats(store) == newer
    # The version counts the commune-period's distinct events in the ledger.
    by_commune = {int(r["commune_code"]): int(r["version"]) for r in newer.values()}
    for code, version in by_commune.items():
        assert version == sum(1 for e in events if e["payload"]["commune_code"] == code)


def test_a_conflicting_duplicate_of_an_earlier_batch_is_dead_lettered(
    store: ClickHouseStore, events: list[dict[str, Any]]
) -> None:
    agent = agent_on(store)
    process(agent, [orjson.dumps(e) for e in events])
    original = next(e for e in events if e["event_type"] == "payment.succeeded")
    conflicting = {
        **original,
        "payload": {**original["payload"], "amount_vnd": original["payload"]["amount_vnd"] + 1},
    }
    before = final_stats(store)
    later = agent_on(store)  # another worker, nothing in memory
    # In either order within the batch, the stored copy decides: one dead letter, the
    # other copy is a plain duplicate.
    for batch in ([original, conflicting], [conflicting, original]):
        dead = process(later, [orjson.dumps(e) for e in batch])
        assert [
            (orjson.loads(m["value"])["error_class"], orjson.loads(m["value"])["source_offset"])
            for m in dead.sent
        ] == [("conflicting_duplicate", batch.index(conflicting))]
        assert final_stats(store) == before


def test_alerts_are_reconciled_from_the_table_and_never_stored_unannounced(
    store: ClickHouseStore, events: list[dict[str, Any]]
) -> None:
    scheduled = [e for e in events if e["event_type"] == "payment.scheduled"]
    # Only schedules: every commune is at 0% cashless, under the target: a low-rate alert.
    with pytest.raises(ConnectionError):
        process(agent_on(store), [orjson.dumps(e) for e in scheduled], alerts=Topic(fail=True))
    assert store.query("SELECT count() AS n FROM alerts")[0]["n"] in (0, "0")
    raised = Topic()
    process(agent_on(store), [orjson.dumps(e) for e in scheduled], alerts=raised)
    active = store.query("SELECT * FROM alerts FINAL WHERE active = 1")
    assert active and len(raised.sent) == len(active)
    # A fresh worker seeing the same events again announces nothing new.
    again = Topic()
    process(agent_on(store), [orjson.dumps(e) for e in scheduled], alerts=again)
    assert again.sent == []


def test_workers_sharing_communes_in_any_order_equal_one_worker(
    store: ClickHouseStore, events: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Events keyed by nothing (`--key none`): three workers with no shared memory take
    random slices of every commune, in shuffled order, with repeats; the rows they leave
    equal what one worker writes from all events in order."""
    import random

    rng = random.Random(7)
    shuffled = events + rng.sample(events, len(events) // 10)  # some redelivered
    rng.shuffle(shuffled)
    workers = [agent_on(store) for _ in range(3)]
    alerts = Topic()
    for i in range(0, len(shuffled), 23):
        process(rng.choice(workers), [orjson.dumps(e) for e in shuffled[i : i + 23]], alerts)
    shared = final_stats(store)
    shared_alerts = store.query(
        "SELECT * EXCEPT raised_at FROM alerts FINAL WHERE active = 1 ORDER BY ALL"
    )
    assert shared and shared_alerts
    store.close()
    alone = ClickHouseStore(chdb_dsn(tmp_path / "alone"), unique("test"))
    alone.open()
    try:
        migrate(alone)
        process(agent_on(alone), [orjson.dumps(e) for e in events])
        assert shared == final_stats(alone)
        assert shared_alerts == alone.query(
            "SELECT * EXCEPT raised_at FROM alerts FINAL WHERE active = 1 ORDER BY ALL"
        )
    finally:
        alone.close()
        store.open()  # the fixture closes it
