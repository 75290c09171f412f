"""The consumer overrides on Faust's real aiokafka Consumer (faust-streaming 0.15.3).

Each test builds a real `faust.App` with a Table and a GlobalTable, takes its real
`app.consumer` (faust/transport/drivers/aiokafka.py `Consumer`) and sets the bookkeeping
Faust's fetcher would have set (faust/transport/consumer.py: `_drain_messages` records gaps
at lines 1206-1223, `ack` fills `_acked` at 825-853). Only the calls that would reach the
broker (seek_to_committed, earliest_offsets, seek_wait, _commit, assignment) are replaced
on the instance. Upstream's own function is run on the same state where the two differ.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import faust
import pytest
from faust.transport.consumer import Consumer
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from streams import faust_ext
from streams.faust_ext.versions import UPSTREAM

EVENTS = "events"


@pytest.fixture
def app() -> Iterator[faust.App]:
    faust_ext.install()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = faust.App(
        f"t{uuid.uuid4().hex[:8]}",
        broker="kafka://127.0.0.1:1",
        store="memory://",
        autodiscover=False,
    )
    app.Table("buckets", default=None, partitions=2)
    app.GlobalTable("access-points", default=None, partitions=1)
    app.topics.acking_topics.add(EVENTS)  # as subscribing an agent to it does
    yield app
    asyncio.set_event_loop(None)
    loop.close()


def consumer_with(
    app: faust.App,
    tp: TP,
    committed: int | None,
    acked: list[int],
    gap: Sequence[tuple[int, int]] = (),
) -> Any:
    consumer: Any = app.consumer
    consumer._committed_offset[tp] = committed
    consumer._acked[tp] = list(acked)
    consumer._acked_index[tp] = set(acked)
    for begin, end in gap:
        consumer._gap[tp].addi(begin, end)
    return consumer


def upstream_new_offset(
    app: faust.App,
    tp: TP,
    committed: int | None,
    acked: list[int],
    gap: Sequence[tuple[int, int]] = (),
) -> int | None:
    fresh = faust.App(f"u{uuid.uuid4().hex[:8]}", broker="kafka://127.0.0.1:1", autodiscover=False)
    consumer = consumer_with(fresh, tp, committed, acked, gap)
    return UPSTREAM["Consumer._new_offset"](consumer, tp)


def message(offset: int, tracked: bool, partition: int = 0) -> ConsumerMessage:
    m = ConsumerMessage(EVENTS, partition, offset, 0.0, 0, None, b"k", b"v", None)
    m.tracked = tracked
    return m


def test_the_overrides_are_on_the_real_consumer(app: faust.App) -> None:
    assert isinstance(app.consumer, Consumer)
    for name, override in faust_ext.consumer.OVERRIDES.items():
        assert getattr(type(app.consumer), name) is override


def test_a_message_no_stream_took_is_not_acknowledged(app: faust.App) -> None:
    tp = TP(EVENTS, 0)
    consumer = consumer_with(app, tp, committed=7, acked=[])
    skipped, taken = message(7, tracked=False), message(8, tracked=True)
    assert consumer.ack(skipped) is False and skipped.acked is False
    assert consumer.ack(taken) is True
    assert consumer._acked[tp] == [8]
    assert consumer._new_offset(tp) is None  # 7 was skipped: nothing may be committed


def test_a_gap_at_the_committed_offset_is_committed_across(app: faust.App) -> None:
    # The example: Faust returns 14; the override before faust_ext returned None,
    # and the partition never committed again.
    tp = TP(EVENTS, 0)
    assert upstream_new_offset(app, tp, 11, [12, 13], gap=[(11, 12)]) == 14
    consumer = consumer_with(app, tp, committed=11, acked=[12, 13], gap=[(11, 12)])
    assert consumer._new_offset(tp) == 14
    assert consumer._acked[tp] == [] and not consumer._gap[tp]


def test_gaps_between_acknowledged_offsets_are_committed_across(app: faust.App) -> None:
    tp = TP(EVENTS, 0)
    consumer = consumer_with(
        app, tp, committed=0, acked=[0, 1, 4, 5, 9], gap=[(2, 4), (6, 8), (20, 25)]
    )
    # 8 is neither acknowledged nor a gap: stop there; the gap beyond 9 stays for later.
    assert consumer._new_offset(tp) == 8
    assert consumer._acked[tp] == [9]
    assert sorted((i.begin, i.end) for i in consumer._gap[tp]) == [(20, 25)]


def test_no_commit_past_an_unacknowledged_committed_offset(app: faust.App) -> None:
    # Faust commits 169 with committed offset 0 (`if committed_offset:` is false) and 14
    # with committed 10 (one missing offset tolerated): both jump over a skipped message.
    tp = TP(EVENTS, 0)
    assert upstream_new_offset(app, tp, 0, [168]) == 169
    assert upstream_new_offset(app, tp, 10, [11, 12, 13]) == 14
    assert consumer_with(app, tp, committed=0, acked=[168])._new_offset(tp) is None
    assert consumer_with(app, TP(EVENTS, 1), 10, [11, 12, 13])._new_offset(TP(EVENTS, 1)) is None
    assert consumer_with(app, TP(EVENTS, 2), None, [3])._new_offset(TP(EVENTS, 2)) is None


def test_offsets_below_the_committed_one_are_dropped(app: faust.App) -> None:
    tp = TP(EVENTS, 0)
    consumer = consumer_with(app, tp, committed=30, acked=[30, 31], gap=[(5, 9)])
    assert consumer._new_offset(tp) == 32
    assert consumer._acked[tp] == []


def test_a_gap_holds_exactly_the_offsets_jumped_over(app: faust.App) -> None:
    # The fetcher read 9, then 12 (faust/transport/consumer.py:1213-1215 calls
    # `_add_gap(tp, r_offset + 1, offset)`). Faust records 11..12 when 10 is committed: it
    # misses 10 and counts 12, the message just fetched, as a hole.
    tp = TP(EVENTS, 0)
    consumer: Any = consumer_with(app, tp, committed=10, acked=[])
    asyncio.get_event_loop().run_until_complete(consumer._add_gap(tp, 10, 12))
    assert sorted((i.begin, i.end) for i in consumer._gap[tp]) == [(10, 12)]
    upstream: Any = consumer_with(faust.App("u", broker="kafka://127.0.0.1:1"), tp, 10, [])
    asyncio.get_event_loop().run_until_complete(UPSTREAM["Consumer._add_gap"](upstream, tp, 10, 12))
    assert sorted((i.begin, i.end) for i in upstream._gap[tp]) == [(11, 13)]
    # A later message acknowledged first (batches confirmed out of order) must not carry the
    # commit past 12, which is still being processed.
    consumer.ack(message(13, tracked=True))
    assert consumer._new_offset(tp) == 12


def seeking_consumer(
    app: faust.App, committed: dict[TP, int | None], sought: list[dict[TP, int]]
) -> Any:
    consumer: Any = app.consumer

    async def seek_to_committed() -> dict[TP, int | None]:
        return dict(committed)

    async def earliest_offsets(*tps: TP) -> dict[TP, int]:
        return {tp: 3 for tp in tps}

    async def seek_wait(offsets: dict[TP, int]) -> None:
        sought.append(dict(offsets))

    consumer.seek_to_committed = seek_to_committed
    consumer.earliest_offsets = earliest_offsets
    consumer.seek_wait = seek_wait
    return consumer


def test_perform_seek_seeks_source_partitions_and_leaves_changelogs_alone(
    app: faust.App,
) -> None:
    bucket_changelog = TP(f"{app.conf.id}-buckets-changelog", 0)  # active or standby
    global_changelog = TP(f"{app.conf.id}-access-points-changelog", 0)
    committed = {
        TP(EVENTS, 0): 0,
        TP(EVENTS, 1): None,
        TP(EVENTS, 2): 7,
        bucket_changelog: None,
        global_changelog: -1,
    }
    sought: list[dict[TP, int]] = []
    consumer = seeking_consumer(app, committed, sought)
    asyncio.get_event_loop().run_until_complete(consumer.perform_seek())
    # aiokafka sought events/2 itself (offset > 0); 0 and missing are sought here.
    assert sought == [{TP(EVENTS, 0): 0, TP(EVENTS, 1): 3}]
    assert {tp: consumer._committed_offset[tp] for tp in committed if tp.topic == EVENTS} == {
        TP(EVENTS, 0): 0,
        TP(EVENTS, 1): 3,
        TP(EVENTS, 2): 7,
    }
    assert {tp: consumer._read_offset[tp] for tp in committed if tp.topic == EVENTS} == {
        TP(EVENTS, 0): -1,
        TP(EVENTS, 1): 2,
        TP(EVENTS, 2): 6,
    }
    # Changelogs: never sought, and their offsets as Faust's own perform_seek sets them.
    upstream_app = faust.App("u", broker="kafka://127.0.0.1:1", autodiscover=False)
    upstream = seeking_consumer(upstream_app, committed, [])
    run = asyncio.get_event_loop().run_until_complete
    run(UPSTREAM["Consumer.perform_seek"](upstream))
    for tp in (bucket_changelog, global_changelog):
        assert consumer._read_offset.get(tp, "unset") == upstream._read_offset.get(tp, "unset")
        assert consumer._committed_offset.get(tp, "unset") == upstream._committed_offset.get(
            tp, "unset"
        )
    assert consumer._read_offset[bucket_changelog] is None


def test_commit_does_not_flush_the_producer(app: faust.App) -> None:
    consumer: Any = app.consumer
    tp, revoked = TP(EVENTS, 0), TP(EVENTS, 1)
    committed: list[dict[TP, int]] = []

    async def commit(offsets: dict[TP, int]) -> bool:
        assert consumer._committing == offsets  # visible to reread_skipped meanwhile
        committed.append(dict(offsets))
        return True

    async def flush() -> None:
        raise AssertionError("the producer was flushed")

    consumer._commit = commit
    consumer.assignment = lambda: {tp}
    app.producer.flush = flush  # type: ignore[method-assign]
    ok = asyncio.get_event_loop().run_until_complete(consumer._commit_offsets({tp: 12, revoked: 5}))
    assert ok is True and committed == [{tp: 12}]
    assert consumer._committed_offset[tp] == 12 and consumer._committing == {}


def stuck_consumer(
    app: faust.App, committed: int, acked: list[int], read: int, in_flight: tuple[int, ...] = ()
) -> tuple[Any, list[dict[TP, int]]]:
    consumer: Any = consumer_with(app, TP(EVENTS, 0), committed, acked)
    consumer._read_offset[TP(EVENTS, 0)] = read
    for offset in in_flight:
        m = message(offset, tracked=True)
        consumer._unacked_messages.add(m)
        consumer.__dict__.setdefault("_keep", []).append(m)  # the set is weak
    sought: list[dict[TP, int]] = []

    async def seek_wait(offsets: dict[TP, int]) -> None:
        sought.append(dict(offsets))

    consumer.seek_wait = seek_wait
    consumer.assignment = lambda: {TP(EVENTS, 0), TP("other", 0)}
    return consumer, sought


def reread(consumer: Any, stalled: dict[TP, Any], busy: bool = False) -> list[TP]:
    return asyncio.get_event_loop().run_until_complete(
        faust_ext.reread_skipped(consumer, EVENTS, stalled, busy)
    )


def test_a_partition_stuck_behind_a_skipped_message_is_read_again(app: faust.App) -> None:
    consumer, sought = stuck_consumer(app, committed=10, acked=[12, 13], read=13)
    stalled: dict[TP, Any] = {}
    assert [reread(consumer, stalled) for _ in range(3)] == [[], [], [TP(EVENTS, 0)]]
    assert sought == [{TP(EVENTS, 0): 10}]
    assert consumer._read_offset[TP(EVENTS, 0)] == 9  # a hole at 10 would become a gap


def test_a_message_in_flight_or_queued_is_not_taken_for_skipped(app: faust.App) -> None:
    consumer, sought = stuck_consumer(app, committed=10, acked=[], read=30, in_flight=(10, 11))
    stalled: dict[TP, Any] = {}
    assert [reread(consumer, stalled) for _ in range(5)] == [[]] * 5
    queued, queued_sought = stuck_consumer(app, committed=10, acked=[], read=30)
    assert [reread(queued, {}, busy=True) for _ in range(5)] == [[]] * 5
    assert sought == queued_sought == []
