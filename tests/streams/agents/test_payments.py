"""The payments agent's batch work, without Faust or I/O: tables are dicts, sinks collect."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import orjson
import pytest

from streams.agents.payments import PaymentsAgent
from streams.aggregation import CommuneId
from streams.pseudonym import Pseudonymizer
from streams.settings import Settings
from tests.conftest import simulate, small_scenario


class Sink:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}

    async def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        self.rows.setdefault(table, []).extend(rows)

    async def query(self, sql: str) -> list[dict[str, Any]]:
        return []


class Topic:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, **message: Any) -> None:
        self.sent.append(message)


class Message:
    def __init__(self, offset: int) -> None:
        self.topic, self.partition, self.offset = "events", 0, offset


class Event:
    """What the agent reads of a Faust event (weak-referenceable, as Faust's are)."""

    def __init__(self, value: bytes, offset: int) -> None:
        self.value = value
        self.message = Message(offset)


def file_of(events: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"file_id": "00000000-0000-4000-8000-000000000001",
                         "schema_version": 1, "source": "test",
                         "created_at": "2023-06-05T01:00:00Z", "events": events})


def run(agent: PaymentsAgent, values: list[bytes]) -> tuple[Sink, Topic]:
    dead = Topic()
    asyncio.run(agent.process([Event(v, i) for i, v in enumerate(values)], Topic(), dead))
    return agent.sink, dead  # type: ignore[return-value]


@pytest.fixture(scope="module")
def events(binh_dinh: Any) -> list[dict[str, Any]]:
    generated, _ = simulate(small_scenario(binh_dinh, 200, 20))
    return [e for e in generated if e["event_type"].startswith("payment.")]


def stats_rows(agent: PaymentsAgent) -> list[dict[str, Any]]:
    rows = agent.sink.rows["commune_programme_stats"]  # type: ignore[attr-defined]
    return sorted(({k: v for k, v in r.items() if k not in ("version", "updated_at")}
                   for r in rows), key=lambda r: (r["commune_code"], r["programme"]))


def new_agent() -> PaymentsAgent:
    return PaymentsAgent(Settings(_env_file=None), Sink(),  # type: ignore[arg-type]
                         Pseudonymizer(b"k" * 32), buckets={}, access_points={})


def test_a_file_counts_like_its_events_sent_alone(events: list[dict[str, Any]]) -> None:
    alone, filed = new_agent(), new_agent()
    run(alone, [orjson.dumps(e) for e in events])
    run(filed, [file_of(events[i:i + 70]) for i in range(0, len(events), 70)])
    assert filed.buckets == alone.buckets
    assert stats_rows(filed) == stats_rows(alone)
    assert sum(r["beneficiaries_due"] for r in stats_rows(filed)) == sum(
        1 for e in events if e["event_type"] == "payment.scheduled")


def test_bad_events_in_a_file_are_dead_lettered_by_index_and_the_rest_counted(
    events: list[dict[str, Any]]
) -> None:
    agent = new_agent()
    batch = copy.deepcopy(events[:30])
    batch[4]["payload"]["amount_vnd"] = 0
    batch[9]["payload"]["citizen_id"] = "123"
    del batch[17]["occurred_at"]
    sink, dead = run(agent, [file_of(batch), file_of(batch)])  # the second: a redelivery
    letters = sink.rows["dead_letters"]
    assert [(r["source_offset"], r["source_index"], r["error_class"]) for r in letters] == [
        (0, 5, "non_positive_amount"), (0, 10, "invalid_cccd"), (0, 18, "missing_field"),
        (1, 5, "non_positive_amount"), (1, 10, "invalid_cccd"), (1, 18, "missing_field"),
    ]
    assert [dict(m["headers"])["welfare.errors.file.index"] for m in dead.sent][:3] == [
        b"5", b"10", b"18"]
    for record in letters:
        assert batch[9]["payload"]["citizen_id"] not in str(record)
    counted = sum(len(r["e"]) for bucket in agent.buckets.values() for r in bucket.values())
    assert counted == 27  # every good event once, the redelivered file changed nothing


def test_an_access_point_event_seen_in_an_earlier_batch_only_rewrites_its_row(
    events: list[dict[str, Any]], binh_dinh: Any
) -> None:
    generated, _ = simulate(small_scenario(binh_dinh, 200, 20))
    opened = next(e for e in generated if e["event_type"] == "access_point.opened")
    agent = new_agent()
    run(agent, [orjson.dumps(opened)])
    run(agent, [orjson.dumps(opened)])  # redelivered in a later batch: no change
    rows = agent.sink.rows["access_points"]  # type: ignore[attr-defined]
    assert len(rows) == 2 and rows[0]["access_point_id"] == rows[1]["access_point_id"]
    assert "dead_letters" not in agent.sink.rows  # type: ignore[attr-defined]


def test_statistics_kept_up_to_date_batch_by_batch_equal_a_recount(
    events: list[dict[str, Any]]
) -> None:
    # Many small batches: the cached statuses are updated beneficiary by beneficiary.
    agent = new_agent()
    for i in range(0, len(events), 37):
        run(agent, [orjson.dumps(e) for e in events[i:i + 37]])
    communes = {CommuneId(e["payload"]["period"], e["payload"]["province_code"],
                          e["payload"]["commune_code"]) for e in events}
    kept = {c: agent.commune_stats(c) for c in communes}
    agent.drop_caches()
    assert {c: agent.commune_stats(c) for c in communes} == kept
    assert sum(s.beneficiaries_due for c in kept.values() for s in c.values()) == sum(
        1 for e in events if e["event_type"] == "payment.scheduled")
