"""`--workers N`: what an ingest worker forwards, read by the store agent, stores exactly
what one worker stores from the same messages (streams/pipeline/forward.py), on a real chDB
ledger, without Faust."""

# ruff: noqa: F811 (the fixtures `events` and `stores` come from test_payments)

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from typing import Any

import orjson
import pytest

from streams.domain.ingest import Arrival, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from streams.errors import PipelineError
from streams.pipeline import forward
from streams.pipeline.agent import PaymentsAgent
from streams.pipeline.forward import forwards, take_forwarded
from streams.pipeline.outputs import BatchOutput, Health, Source
from tests.integration.streams.pipeline.test_payments import (  # noqa: F401 (fixtures)
    Topic,
    events,
    file_of,
    ledger_rows,
    new_agent,
    run,
    stats_rows,
    stores,
)

pytestmark = pytest.mark.integration  # a real chDB ledger

KEY = Pseudonymizer(b"k" * 32)


def forwarded(values: list[bytes]) -> list[tuple[bytes, bytes]]:
    """What an ingest worker sends for `values` read at offsets 0, 1, ... of partition 0."""
    arrival = Arrival.at()
    out = []
    for offset, value in enumerate(values):
        result = ingest_message(value, KEY, arrival)
        out += forwards(Source("events", 0, offset), result)
    return out


def store_forwarded(agent: PaymentsAgent, messages: list[tuple[bytes, bytes]]) -> Topic:
    """The store agent's work on `messages`, as one batch; returns the dead-letter topic."""
    out = BatchOutput()
    for _, value in messages:
        take_forwarded(value, out, agent.health)
    dead = Topic()
    asyncio.run(agent.store(out, Topic(), dead, len(messages)))
    return dead


def letters(agent: PaymentsAgent) -> list[tuple[Any, ...]]:
    rows = agent.sink.store.query(
        "SELECT source_topic, source_partition, source_offset, source_index, error_class "
        "FROM dead_letters FINAL ORDER BY source_offset, source_index"
    )
    return [tuple(r.values()) for r in rows]


def values_with_faults(events: list[dict[str, Any]]) -> list[bytes]:
    """Payment files of the events (several communes each), then a copy of the first file
    with one event altered (a conflicting duplicate), a bad event and a line that is no
    JSON."""
    files = [file_of(events[i : i + 70]) for i in range(0, len(events), 70)]
    altered = copy.deepcopy(events[:70])
    altered[3]["payload"]["amount_vnd"] += 1000
    altered[8]["payload"]["amount_vnd"] = 0
    return [*files, file_of(altered), b"{not json"]


def test_forwarded_facts_store_what_one_worker_stores(
    events: list[dict[str, Any]], stores: Any
) -> None:
    values = values_with_faults(events)
    one = new_agent(stores())
    run(one, values)
    expected = ledger_rows(one), stats_rows(one), letters(one)
    split = PaymentsAgent(one.settings, new_agent(stores()).sink, None)  # chDB: one at a time
    messages = forwarded(values)
    # in two batches, as two store-agent batches would take them
    dead = store_forwarded(split, messages[: len(messages) // 2])
    dead.sent += store_forwarded(split, messages[len(messages) // 2 :]).sent
    assert (ledger_rows(split), stats_rows(split), letters(split)) == expected
    conflicts = [r for r in letters(split) if r[4] == "conflicting_duplicate"]
    assert conflicts == [("events", 0, len(values) - 2, 4, "conflicting_duplicate")]
    # The ingest worker announces rejections; the store announces only what it finds.
    assert [dict(m["headers"])["__connect.errors.exception.class.name"] for m in dead.sent] == [
        b"conflicting_duplicate"
    ]


def test_forwards_are_keyed_by_commune_chunked_and_carry_no_citizen_id(
    events: list[dict[str, Any]],
) -> None:
    batch = events[:300]
    communes = {str(e["payload"]["commune_code"]).encode() for e in batch}
    assert len(communes) >= 2
    messages = forwarded([file_of(batch)])
    assert {key for key, _ in messages} == communes
    for key, value in messages:
        body = orjson.loads(value)
        assert body["src"] == ["events", 0, 0]
        assert {str(item[2][6]).encode() for item in body["items"]} == {key}
        for e in batch:
            assert e["payload"]["citizen_id"].encode() not in value
    indexes = sorted(item[1] for _, v in messages for item in orjson.loads(v)["items"])
    assert indexes == list(range(1, 301))


def test_a_big_group_is_split_into_chunks(events: list[dict[str, Any]], monkeypatch: Any) -> None:
    monkeypatch.setattr(forward, "CHUNK_BYTES", 1000)
    codes = Counter(e["payload"]["commune_code"] for e in events)
    same = [e for e in events if e["payload"]["commune_code"] == codes.most_common(1)[0][0]]
    assert len(same) >= 10
    messages = forwarded([file_of(same)])
    assert len(messages) >= 3 and all(len(v) < 1000 + 600 for _, v in messages)
    out = BatchOutput()
    for _, value in messages:
        take_forwarded(value, out, Health())
    assert [index for _, index, _, _ in out.order] == list(range(1, len(same) + 1))


def test_an_unreadable_forward_stops_the_store_agent() -> None:
    for value in (b"x", orjson.dumps({"v": 99, "src": ["e", 0, 0], "items": []}), b'{"v":1}'):
        with pytest.raises(PipelineError, match="accepted topic"):
            take_forwarded(value, BatchOutput(), Health())


def test_an_event_value_is_forwarded_as_a_single_message_at_index_0() -> None:
    assert forwarded([b"[1]"])[0][0] == forward.REJECTED_KEY
    body = orjson.loads(forwarded([b"[1]"])[0][1])
    assert body["items"][0][:2] == ["r", 0]


def test_an_ingest_workers_health_row_reaches_the_store_agent_as_it_was_sent() -> None:
    """`--workers N`: an ingest worker's pipeline_health row (its events, dead letters by
    class, lag on the events topic) travels on the accepted topic and comes out as the row the
    store agent writes; the store's own counters do not count the forwarded events again."""
    health = Health(events=7)
    health.dead_letters["malformed_json"] += 2
    health.saw(1_700_000_000_000)
    row = health.row("ingest@host:1", 42)
    out, store_health = BatchOutput(), Health()
    take_forwarded(forward.health_message(row), out, store_health)
    assert out.health_rows == [row]
    assert out.health_rows[0]["at"].tzinfo is not None and out.order == []
    assert (row["events"], row["dead_letters"], row["consumer_lag"]) == (7, 2, 42)
    values = [v for _, v in forwarded([b"not json", b"{}"])]
    for value in values:
        take_forwarded(value, out, store_health)
    assert len(out.announced) == 2  # stored as dead letters, counted by the ingest worker
    assert store_health.events == 0 and not store_health.dead_letters
