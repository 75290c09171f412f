"""Batches bounded by bytes, not messages: a payment file and a single event differ 500-fold.

Faust's `take_events(max_, within)` counts messages. With payment files in the topic, a
batch of 2,000 messages could hold a million events (minutes of work, hundreds of MB);
with single events, a batch of 20 would waste the per-batch cost. `take_bytes` is Faust's
`take_events` (faust-streaming 0.15, pinned) with the buffer bounded by the messages' bytes
instead: a batch closes when it holds `max_bytes` or `within` seconds have passed. Acks work
as in `take_events`: every event of a batch is acknowledged after the consumer is done
with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any, cast

import faust
from faust.streams import _tracks_buffer_agen
from faust.types import ChannelT, EventT
from mode import Seconds, want_seconds
from mode.utils.futures import notify


class BatchingStream(faust.Stream):
    """Faust's Stream with `take_bytes`; the app makes every agent stream one of these."""

    @_tracks_buffer_agen
    async def take_bytes(
        self, max_bytes: int, within: Seconds, *, ack: bool = True, idle: bool = False
    ) -> AsyncGenerator[Sequence[EventT], None]:
        """Yield lists of events of at most about `max_bytes` value bytes (at least one).

        With `ack=False` the consumer acknowledges each event itself (`Stream.ack`), for
        consumers that keep a batch past the next one; with `idle=True` an empty list comes
        every `within` seconds while nothing arrives, so such a consumer can finish it.
        """
        events: list[EventT] = []
        size = 0
        buffer_full = asyncio.Event()
        buffer_consumed = asyncio.Event()
        timeout = want_seconds(within) if within else None
        stream_enable_acks: bool = self.enable_acks
        buffer_consuming: asyncio.Future[Any] | None = None
        channel_it = self.channel.__aiter__()

        async def add_to_buffer(value: Any) -> Any:
            nonlocal buffer_consuming, size
            try:
                if buffer_consuming is not None:
                    try:
                        await buffer_consuming
                    finally:
                        buffer_consuming = None
                event = self.current_event
                if event is None:
                    raise RuntimeError("take_bytes found current_event is None")
                events.append(event)
                size += len(event.message.value or b"") + 64  # 64: headers and bookkeeping
                if size >= max_bytes:
                    buffer_full.set()
                    buffer_consumed.clear()
                    await self.wait(buffer_consumed)  # type: ignore[arg-type]  # as in Faust
            except asyncio.CancelledError:  # pragma: no cover
                raise
            except Exception as exc:
                self.log.exception("Error adding to take buffer: %r", exc)
                await self.crash(exc)
            return value

        self.enable_acks = False  # this method acks, after the consumer is done
        self.add_processor(add_to_buffer)
        self._enable_passive(cast(ChannelT, channel_it))
        try:
            while not self.should_stop:
                await self.wait_for_stopped(
                    buffer_full,  # type: ignore[arg-type]  # as in Faust
                    timeout=timeout,  # type: ignore[arg-type]
                )
                if events:
                    buffer_consuming = self.loop.create_future()
                    try:
                        yield list(events)
                    finally:
                        if ack:
                            for event in events:
                                await self.ack(event)
                        events.clear()
                        size = 0
                        notify(buffer_consuming)
                        buffer_full.clear()
                        buffer_consumed.set()
                elif idle:
                    yield []
        finally:
            self.enable_acks = stream_enable_acks
            self._processors.remove(add_to_buffer)
