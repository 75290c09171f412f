import asyncio

from faust.types import TP
from faust.types.tuples import ConsumerMessage

from streams.app import _ack_processed_only, _contiguous_new_offset, reread_skipped


def message(tracked: bool) -> ConsumerMessage:
    m = ConsumerMessage("events", 0, 7, 0.0, 0, None, b"k", b"v", None)
    m.tracked = tracked
    return m


def test_a_message_no_stream_took_is_not_acknowledged() -> None:
    # Skipped during a rebalance: acknowledging it would let its offset be committed unread.
    skipped = message(tracked=False)
    assert _ack_processed_only(None, skipped) is False
    assert skipped.acked is False


class _Consumer:
    """The consumer state `_contiguous_new_offset` and `reread_skipped` read."""

    def __init__(self, committed: int | None, acked: list[int], read: int | None,
                 in_flight: tuple[int, ...] = ()) -> None:
        self.tp = TP("events", 0)
        self._committed_offset = {self.tp: committed}
        self._acked = {self.tp: list(acked)}
        self._acked_index = {self.tp: set(acked)}
        self._read_offset = {self.tp: read}
        self._unacked_messages = {
            ConsumerMessage("events", 0, o, 0.0, 0, None, b"k", b"v", None) for o in in_flight}
        self.sought: list[dict[TP, int]] = []

    def assignment(self) -> set[TP]:
        return {self.tp}

    async def seek_wait(self, offsets: dict[TP, int]) -> None:
        self.sought.append(dict(offsets))


def test_commits_continue_exactly_from_the_committed_offset() -> None:
    c = _Consumer(committed=0, acked=[0, 1, 2, 5], read=5)
    assert _contiguous_new_offset(c, c.tp) == 3
    assert c._acked[c.tp] == [5]


def test_no_commit_past_a_message_nobody_acknowledged() -> None:
    # Faust's own rule commits 169 here: with committed offset 0, `if committed_offset:` is
    # false and the skipped offsets 0..167 are jumped over.
    c = _Consumer(committed=0, acked=[168], read=168)
    assert _contiguous_new_offset(c, c.tp) is None
    assert _contiguous_new_offset(_Consumer(committed=None, acked=[3], read=3), c.tp) is None


def test_a_partition_stuck_behind_a_skipped_message_is_read_again() -> None:
    c = _Consumer(committed=10, acked=[12, 13], read=13)
    stalled: dict[TP, object] = {}
    for _ in range(2):
        assert asyncio.run(reread_skipped(c, "events", stalled)) == []
    assert asyncio.run(reread_skipped(c, "events", stalled)) == [c.tp]
    assert c.sought == [{c.tp: 10}]


def test_a_message_in_flight_is_not_taken_for_skipped() -> None:
    c = _Consumer(committed=10, acked=[], read=30, in_flight=(10, 11))
    stalled: dict[TP, object] = {}
    for _ in range(5):
        assert asyncio.run(reread_skipped(c, "events", stalled)) == []
    assert c.sought == []


def test_a_message_waiting_behind_other_partitions_is_not_taken_for_skipped() -> None:
    # Nothing of the partition acknowledged, the fetcher past it, but the agent is busy
    # with other messages: it is most likely in the stream's queue.
    c = _Consumer(committed=10, acked=[], read=30)
    stalled: dict[TP, object] = {}
    for _ in range(5):
        assert asyncio.run(reread_skipped(c, "events", stalled, busy=True)) == []
    for _ in range(2):
        assert asyncio.run(reread_skipped(c, "events", stalled, busy=False)) == []
    assert asyncio.run(reread_skipped(c, "events", stalled, busy=False)) == [c.tp]


def test_offsets_being_committed_are_not_taken_for_skipped() -> None:
    # _new_offset took 10..19 out of the acknowledged list; the commit of 20 is under way.
    c = _Consumer(committed=10, acked=[20, 21], read=21)
    c._committing = {c.tp: 20}  # type: ignore[attr-defined]
    stalled: dict[TP, object] = {}
    for _ in range(5):
        assert asyncio.run(reread_skipped(c, "events", stalled)) == []
