from faust.types.tuples import ConsumerMessage

from streams.app import _ack_processed_only


def message(tracked: bool) -> ConsumerMessage:
    m = ConsumerMessage("events", 0, 7, 0.0, 0, None, b"k", b"v", None)
    m.tracked = tracked
    return m


def test_a_message_no_stream_took_is_not_acknowledged() -> None:
    # Skipped during a rebalance: acknowledging it would let its offset be committed unread.
    skipped = message(tracked=False)
    assert _ack_processed_only(None, skipped) is False
    assert skipped.acked is False
