"""The payments agent's batch work, without Faust or I/O: tables are dicts, sinks collect."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from streams.agents.payments import PaymentsAgent
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
    async def send(self, **message: Any) -> None:
        return None


class Message:
    def __init__(self, offset: int) -> None:
        self.topic, self.partition, self.offset = "events", 0, offset


class Event:
    """What the agent reads of a Faust event (weak-referenceable, as Faust's are)."""

    def __init__(self, value: bytes, offset: int) -> None:
        self.value = value
        self.message = Message(offset)


def test_an_access_point_event_seen_in_an_earlier_batch_only_rewrites_its_row(
    binh_dinh: Any,
) -> None:
    generated, _ = simulate(small_scenario(binh_dinh, 200, 20))
    opened = next(e for e in generated if e["event_type"] == "access_point.opened")
    sink = Sink()
    agent = PaymentsAgent(Settings(_env_file=None), sink,  # type: ignore[arg-type]
                          Pseudonymizer(b"k" * 32), buckets={}, access_points={})
    for offset in (0, 1):  # the second batch: a redelivery that changes nothing
        asyncio.run(agent.process([Event(orjson.dumps(opened), offset)], Topic(), Topic()))
    rows = sink.rows["access_points"]
    assert [r["access_point_id"] for r in rows] == [opened["payload"]["access_point_id"]] * 2
    assert "dead_letters" not in sink.rows
