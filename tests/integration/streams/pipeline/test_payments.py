"""The payments agent's batch work on a real chDB ledger, without Faust: topics collect."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.domain.pseudonym import Pseudonymizer
from streams.pipeline.agent import PaymentsAgent
from streams.settings import Settings
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from streams.storage.sink import ClickHouseSink
from tests.support.faust_fakes import Event, Topic
from tests.support.names import unique
from tests.support.scenarios import simulate, small_scenario

pytestmark = pytest.mark.integration  # a real chDB ledger


class Sink(ClickHouseSink):
    """The real chDB sink, remembering every row written."""

    def __init__(self, store: ClickHouseStore) -> None:
        super().__init__(store)
        self.rows: dict[str, list[dict[str, Any]]] = {}

    async def write(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        await super().write(table, rows)
        self.rows.setdefault(table, []).extend(rows)


def file_of(events: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "file_id": "00000000-0000-4000-8000-000000000001",
            "schema_version": 1,
            "source": "test",
            "created_at": "2023-06-05T01:00:00Z",
            "events": events,
        }
    )


def run(agent: PaymentsAgent, values: list[bytes]) -> tuple[Sink, Topic]:
    dead = Topic()
    asyncio.run(agent.process([Event(v, i) for i, v in enumerate(values)], Topic(), dead))
    return agent.sink, dead  # type: ignore[return-value]


@pytest.fixture(scope="module")
def events(binh_dinh: Any) -> list[dict[str, Any]]:
    generated, _ = simulate(small_scenario(binh_dinh, 200, 20))
    return [e for e in generated if e["event_type"].startswith("payment.")]


def stats_rows(agent: PaymentsAgent) -> list[dict[str, Any]]:
    """The statistics ClickHouse holds now (the latest version of each row)."""
    rows = agent.sink.store.query("SELECT * FROM commune_programme_stats FINAL")
    return sorted(
        ({k: v for k, v in r.items() if k not in ("version", "updated_at")} for r in rows),
        key=lambda r: (r["commune_code"], r["programme"]),
    )


def ledger_rows(agent: PaymentsAgent) -> list[dict[str, Any]]:
    rows = agent.sink.store.query(
        "SELECT * EXCEPT received_at FROM ledger_payments FINAL ORDER BY event_id"
    )
    return rows


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Any]:
    """Opens migrated chDB stores, one at a time (chDB allows one session per process)."""
    opened: list[ClickHouseStore] = []

    def open_one() -> ClickHouseStore:
        for store in opened:
            store.close()
        store = ClickHouseStore(chdb_dsn(tmp_path / unique("chdb")), unique("test"))
        store.open()
        migrate(store)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def new_agent(store: ClickHouseStore) -> PaymentsAgent:
    return PaymentsAgent(Settings(_env_file=None), Sink(store), Pseudonymizer(b"k" * 32))


def test_a_file_counts_like_its_events_sent_alone(
    events: list[dict[str, Any]], stores: Any
) -> None:
    alone = new_agent(stores())
    run(alone, [orjson.dumps(e) for e in events])
    alone_stats, alone_ledger = stats_rows(alone), ledger_rows(alone)
    filed = new_agent(stores())
    run(filed, [file_of(events[i : i + 70]) for i in range(0, len(events), 70)])
    assert ledger_rows(filed) == alone_ledger
    assert stats_rows(filed) == alone_stats
    assert sum(r["beneficiaries_due"] for r in alone_stats) == sum(
        1 for e in events if e["event_type"] == "payment.scheduled"
    )


def test_bad_events_in_a_file_are_dead_lettered_by_index_and_the_rest_counted(
    events: list[dict[str, Any]], stores: Any
) -> None:
    agent = new_agent(stores())
    batch = copy.deepcopy(events[:30])
    batch[4]["payload"]["amount_vnd"] = 0
    batch[9]["payload"]["citizen_id"] = "123"
    del batch[17]["occurred_at"]
    sink, dead = run(agent, [file_of(batch), file_of(batch)])  # the second: a redelivery
    letters = sink.rows["dead_letters"]
    assert [(r["source_offset"], r["source_index"], r["error_class"]) for r in letters] == [
        (0, 5, "non_positive_amount"),
        (0, 10, "invalid_cccd"),
        (0, 18, "missing_field"),
        (1, 5, "non_positive_amount"),
        (1, 10, "invalid_cccd"),
        (1, 18, "missing_field"),
    ]
    assert [dict(m["headers"])["welfare.errors.file.index"] for m in dead.sent][:3] == [
        b"5",
        b"10",
        b"18",
    ]
    for record in letters:
        assert batch[9]["payload"]["citizen_id"] not in str(record)
    # every good event once, the redelivered file changed nothing
    assert len(sink.rows["ledger_payments"]) == len(ledger_rows(agent)) == 27


def test_an_access_point_event_seen_in_an_earlier_batch_only_rewrites_its_row(
    events: list[dict[str, Any]], binh_dinh: Any, stores: Any
) -> None:
    generated, _ = simulate(small_scenario(binh_dinh, 200, 20))
    opened = next(e for e in generated if e["event_type"] == "access_point.opened")
    agent = new_agent(stores())
    run(agent, [orjson.dumps(opened)])
    run(agent, [orjson.dumps(opened)])  # redelivered in a later batch: no change
    rows = agent.sink.rows["access_points"]  # type: ignore[attr-defined]
    assert len(rows) == 2 and rows[0] == {**rows[1], "updated_at": rows[0]["updated_at"]}
    assert len(agent.sink.rows["ledger_events"]) == 1  # type: ignore[attr-defined]
    assert "dead_letters" not in agent.sink.rows  # type: ignore[attr-defined]
    # the nearest-ATM table was recomputed from the access point (streams/storage/nearest_atm.py)
    [nearest] = agent.sink.store.query(
        "SELECT max(version) AS v, max(has_atm) AS atm FROM commune_nearest_atm FINAL"
    )
    assert (nearest["v"], nearest["atm"]) == (1, int(opened["payload"]["kind"] == "atm"))


def test_statistics_written_batch_by_batch_equal_one_batch_of_everything(
    events: list[dict[str, Any]], stores: Any
) -> None:
    at_once = new_agent(stores())
    run(at_once, [orjson.dumps(e) for e in events])
    expected = stats_rows(at_once)
    agent = new_agent(stores())
    shuffled = events[::-1]  # every batch touches its communes again, in reverse event order
    for i in range(0, len(shuffled), 37):
        run(agent, [orjson.dumps(e) for e in shuffled[i : i + 37]])
    assert stats_rows(agent) == expected
    assert sum(r["beneficiaries_due"] for r in expected) == sum(
        1 for e in events if e["event_type"] == "payment.scheduled"
    )
