"""The Faust application: built from settings, agents attached, nothing connected until start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.transport.consumer import Consumer, ensure_TP
from faust.types import TP, Message
from faust.utils.functional import consecutive_numbers

from streams import end_offsets
from streams.batching import BatchingStream
from streams.durable_tables import DurableGlobalTable, DurableTable
from streams.settings import Settings

_original_ack = Consumer.ack


def _ack_processed_only(self: Any, message: Message) -> bool:
    """Consumer.ack that refuses messages no stream has taken (`tracked` is False).

    During a rebalance or a table recovery, Faust's stream iterator skips the messages it
    had already fetched and acknowledges them; their offsets can then be committed although
    the agent never saw them, and a crash before they are read again loses them (the kill -9
    test caught whole communes missing). Left unacknowledged, they are simply read again
    after Faust seeks back to the committed offsets at the end of the rebalance.
    """
    if not message.tracked:
        return False
    return bool(_original_ack(self, message))


def _contiguous_new_offset(self: Any, tp: TP) -> int | None:
    """Consumer._new_offset that never commits past an offset nobody acknowledged.

    Faust's version commits from the first acknowledged offset onwards whenever the
    committed offset is unknown or 0 (`if committed_offset:`), and counts offsets that the
    fetcher jumped over as done; messages fetched before a rebalance and skipped (never
    processed) were committed that way, and the kill -9 test lost them. Here the new offset
    must continue exactly from the committed one; otherwise nothing is committed until
    `reread_skipped` has the missing messages fetched again.
    """
    acked = self._acked[tp]
    if not acked:
        return None
    acked.sort()
    committed = self._committed_offset[tp]
    if committed is None or acked[0] != committed:
        return None
    batch = next(consecutive_numbers(acked))
    acked[: len(batch)] = []
    self._acked_index[tp].difference_update(batch)
    return int(batch[-1]) + 1


async def _perform_seek_keeping_zero(self: Any) -> None:
    """Consumer.perform_seek that also seeks partitions whose committed offset is 0 or
    missing (aiokafka's seek_to_committed leaves those where the fetcher happens to be, past
    any message fetched and skipped during a rebalance) and remembers that offset."""
    committed = dict(await self.seek_to_committed())
    missing = [tp for tp, offset in committed.items() if offset is None or offset < 0]
    if missing:
        committed.update(await self.earliest_offsets(*missing))
    not_sought = {tp: offset for tp, offset in committed.items() if not offset}
    if not_sought:
        await self.seek_wait(not_sought)
    self._read_offset.update({tp: offset if offset else None for tp, offset in committed.items()})
    self._committed_offset.update({ensure_TP(tp): offset for tp, offset in committed.items()})


_original_commit_offsets = Consumer._commit_offsets


async def _commit_offsets_without_flush(self: Any, offsets: Mapping[TP, int],
                                        start_new_transaction: bool = True) -> bool:
    """Consumer._commit_offsets without its `producer.flush()` first.

    That flush drains Faust's send buffer, and under load the agent refills it as fast as
    it drains: commits took up to 30 s, and offsets that `_new_offset` had already taken
    out of the acknowledged list looked skipped meanwhile. This worker needs no flush: a
    batch is acknowledged only after its changelog writes, dead letters and alerts are
    acknowledged by the broker. The offsets being committed are kept in `_committing`.
    """
    if self.in_transaction:  # pragma: no cover - this app never uses transactions
        return bool(await _original_commit_offsets(self, offsets, start_new_transaction))
    assignment = self.assignment()
    committable = {tp: offset for tp, offset in offsets.items() if tp in assignment}
    if not committable:
        return False
    self._committing = committable
    try:
        did_commit = bool(await self._commit(committable))
        if did_commit:
            self.app.tables.on_commit(committable)
    finally:
        self._committing = {}
    self._committed_offset.update(committable)
    self.app.monitor.on_tp_commit(committable)
    return did_commit


def guard_acks() -> None:
    """Install the acknowledgement and commit guards above (idempotent)."""
    Consumer.ack = _ack_processed_only  # type: ignore[method-assign]
    Consumer._new_offset = _contiguous_new_offset  # type: ignore[method-assign]
    Consumer.perform_seek = _perform_seek_keeping_zero  # type: ignore[method-assign]
    Consumer._commit_offsets = _commit_offsets_without_flush  # type: ignore[method-assign]


async def reread_skipped(consumer: Any, topic: str, stalled: dict[TP, Any],
                         busy: bool = False) -> list[TP]:
    """Have Faust fetch a partition again from its committed offset when the message there
    was passed over (skipped, not just waiting) for three checks in a row; returns the
    partitions found stuck.

    Passed over: not in flight and not acknowledged while later messages of the partition
    are; or, when nothing of it is acknowledged, the fetcher has read past it and the agent
    finished no batch since the last check (`busy` False), so it is not waiting in the
    stream's queue behind other partitions' messages. A needless re-read only re-delivers
    messages, which the agent handles idempotently, but costs their work again.
    """
    stuck = []
    in_flight = {(m.tp, m.offset) for m in list(consumer._unacked_messages)}
    for tp in consumer.assignment():
        if tp.topic != topic:
            continue
        committed = consumer._committed_offset.get(tp)
        if committed is None:
            continue
        # Offsets being committed right now have left the acknowledged list already.
        committed = max(committed, getattr(consumer, "_committing", {}).get(tp, committed))
        acked = consumer._acked.get(tp)
        read = consumer._read_offset.get(tp)
        passed_over = (tp, committed) not in in_flight and (
            (acked and min(acked) > committed)
            or (not acked and not busy and read is not None and read >= committed))
        state = (committed, read)
        if passed_over and stalled.get(tp, (None, 0))[0] == state:
            count = stalled[tp][1] + 1
        else:
            count = 1 if passed_over else 0
        stalled[tp] = (state, count)
        if count >= 3:
            stuck.append(tp)
    if stuck:
        stalled.clear()
        # seek_wait runs in Faust's consumer thread; aiokafka's seek called from this loop
        # races with its fetcher (KeyError in fetched_records).
        await consumer.seek_wait({tp: consumer._committed_offset[tp] for tp in stuck})
    return stuck


def broker_urls(bootstrap_servers: str) -> str:
    """Faust's broker URL list from a Kafka bootstrap string ("h1:9092,h2:9092")."""
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap_servers.split(","))


def create_app(settings: Settings) -> faust.App:
    """A Faust app configured from settings (no network I/O happens here)."""
    guard_acks()
    if settings.broker_exact_end_offsets:
        end_offsets.install(settings.kafka_bootstrap_servers)
    return faust.App(
        settings.app_id,
        broker=broker_urls(settings.kafka_bootstrap_servers),
        store=settings.faust_store_url,
        datadir=str(settings.faust_datadir),
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_batch_size=settings.producer_max_batch_size,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.broker_session_timeout_s,
        broker_heartbeat_interval=settings.broker_heartbeat_interval_s,
        broker_rebalance_timeout=settings.broker_rebalance_timeout_s,
        web_enabled=settings.web_enabled,
        web_host=settings.web_host,
        web_port=settings.web_port,
        table_cleanup_interval=30.0,
        Stream=BatchingStream,
        Table=DurableTable,
        GlobalTable=DurableGlobalTable,
        consumer_max_fetch_size=settings.consumer_max_fetch_bytes,
    )
