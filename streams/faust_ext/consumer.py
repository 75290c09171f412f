"""The consumer overrides at-least-once needs (faust-streaming 0.15.3, aiokafka 0.14.0).

Faust's offsets mean "next to read" after a seek but "last read" after a fetch, and its gap
bookkeeping never records a hole at the committed offset (`_add_gap` starts at committed
+ 1) while counting the message after a hole as part of it; `_new_offset` makes up for
both by tolerating one unacknowledged offset after the committed one, and skips the check
altogether when the committed offset is 0. Those two leniencies lost messages skipped
during a rebalance (the kill -9 test). Here every offset means one thing:

- after a seek to `c`, the read offset is `c - 1` (nothing at or after `c` read yet), so a
  hole at `c` is seen by the fetcher like any other hole;
- a gap holds exactly the offsets the fetcher jumped over, from the committed one;
- a commit moves only across acknowledged offsets and gaps, starting at the committed one.

docs/reliability.md has one section per override, with the upstream lines and its test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from faust.transport.consumer import Consumer, ensure_TP
from faust.types import TP, Message
from faust.utils.functional import consecutive_numbers

_upstream_ack = Consumer.ack
_upstream_commit_offsets = Consumer._commit_offsets


def ack_processed_only(self: Any, message: Message) -> bool:
    """Consumer.ack that refuses messages no stream has taken (`tracked` is False).

    During a rebalance or a table recovery Faust's stream skips the messages it had fetched
    and acknowledges them; committed, they would be lost by a crash before they are read
    again. Left unacknowledged, they are read again from the committed offset.
    """
    if not message.tracked:
        return False
    return bool(_upstream_ack(self, message))


def source_partitions(consumer: Any, offsets: Mapping[Any, Any]) -> set[Any]:
    """The partitions of `offsets` that agents read (not table changelogs, which Faust's
    recovery positions itself: active, standby and GlobalTable partitions alike)."""
    return {tp for tp in offsets if not consumer._is_changelog_tp(tp)}


def new_offset_from_committed(self: Any, tp: TP) -> int | None:
    """Consumer._new_offset: the offset to commit, moving from the committed offset across
    acknowledged offsets and gaps only; None while the committed offset itself is neither.

    Gaps are merged in as Faust does (intervals up to the highest acknowledged offset),
    offsets already committed are dropped, and no leniency is kept: Faust commits past an
    unacknowledged offset right after the committed one, or past anything when the
    committed offset is 0 or unknown.
    """
    acked = self._acked[tp]
    committed = self._committed_offset[tp]
    if not acked or committed is None:
        return None
    highest = max(acked)
    gap = self._gap[tp]
    if gap:
        holes = [
            offset
            for interval in sorted(gap.overlap(0, highest), key=lambda i: i.begin)
            for offset in range(interval.begin, interval.end)
        ]
        if holes:
            acked.extend(holes)
            gap.chop(0, max(holes[-1] + 1, highest + 1))
    done = sorted({offset for offset in acked if offset >= committed})
    index = self._acked_index[tp]
    index.difference_update(offset for offset in acked if offset < committed)
    if not done or done[0] != committed:
        acked[:] = done
        return None
    batch = next(consecutive_numbers(done))
    acked[:] = done[len(batch) :]
    index.difference_update(batch)
    return int(batch[-1]) + 1


async def add_exact_gap(self: Any, tp: TP, offset_from: int, offset_to: int) -> None:
    """Consumer._add_gap recording exactly the offsets jumped over: from the committed
    offset on (Faust starts at committed + 1) and without `offset_to`, the message just
    fetched (Faust includes it, so a later acknowledgement committed it unprocessed)."""
    committed = self._committed_offset[tp]
    if committed is not None:
        offset_from = max(offset_from, committed)
    if offset_from < offset_to:
        gap = self._gap[tp]
        gap.addi(offset_from, offset_to)
        await asyncio.sleep(0)
        gap.merge_overlaps()


async def perform_seek_sources(self: Any) -> None:
    """Consumer.perform_seek that seeks every source partition to its committed offset,
    0 and missing included (aiokafka's seek_to_committed leaves those where the fetcher
    is, past messages skipped during a rebalance), and leaves changelog partitions to
    Faust's recovery, as upstream does."""
    committed = dict(await self.seek_to_committed())
    sources = {tp: committed[tp] for tp in source_partitions(self, committed)}
    others = {tp: offset for tp, offset in committed.items() if tp not in sources}
    self._read_offset.update(
        {
            tp: offset if offset is not None and offset >= 0 else None
            for tp, offset in others.items()
        }
    )
    self._committed_offset.update(
        {
            ensure_TP(tp): offset if offset else None
            for tp, offset in others.items()
            if offset is not None
        }
    )
    missing = [tp for tp, offset in sources.items() if offset is None or offset < 0]
    if missing:
        sources.update(await self.earliest_offsets(*missing))
    unsought = {tp: sources[tp] for tp in sources if tp in missing or not sources[tp]}
    if unsought:
        await self.seek_wait(unsought)
    mark_sought(self, sources)


def mark_sought(consumer: Any, offsets: Mapping[Any, int]) -> None:
    """Record that source partitions were sought to `offsets`: committed there, nothing at
    or after them read yet (so a hole at the offset itself becomes a gap)."""
    consumer._read_offset.update({tp: offset - 1 for tp, offset in offsets.items()})
    consumer._committed_offset.update({ensure_TP(tp): offset for tp, offset in offsets.items()})


async def commit_offsets_without_flush(
    self: Any, offsets: Mapping[TP, int], start_new_transaction: bool = True
) -> bool:
    """Consumer._commit_offsets without its `producer.flush()` first.

    Under load the agent refills Faust's send buffer as fast as the flush drains it:
    commits took up to 30 s. This worker needs no flush: a batch is acknowledged only after
    its changelog writes, dead letters and alerts are acknowledged by the broker. The
    offsets being committed are kept in `_committing` for `reread_skipped`.
    """
    if self.in_transaction:  # pragma: no cover - this app never uses transactions
        return bool(await _upstream_commit_offsets(self, offsets, start_new_transaction))
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


OVERRIDES: Mapping[str, Any] = {
    "ack": ack_processed_only,
    "_new_offset": new_offset_from_committed,
    "_add_gap": add_exact_gap,
    "perform_seek": perform_seek_sources,
    "_commit_offsets": commit_offsets_without_flush,
}


def install_consumer_overrides() -> None:
    """Put the overrides on Faust's Consumer (idempotent)."""
    for name, function in OVERRIDES.items():
        setattr(Consumer, name, function)


def read_offset(consumer: Any, tp: TP) -> int | None:
    """The last offset the consumer's fetcher handed over for `tp` (None: none yet)."""
    offset = consumer._read_offset.get(tp)
    return None if offset is None or offset < 0 else int(offset)


async def reread_skipped(
    consumer: Any, topic: str, stalled: dict[TP, Any], busy: bool = False
) -> list[TP]:
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
            or (not acked and not busy and read is not None and read >= committed)
        )
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
        offsets = {tp: consumer._committed_offset[tp] for tp in stuck}
        await consumer.seek_wait(offsets)
        mark_sought(consumer, offsets)
    return stuck
