"""The worker's agent loop, for each role a worker process can have (`WORKER_ROLE`).

- `all` (server mode, and embedded with one worker): ingest, ledger, rows, in one process.
- `ingest` (embedded, `--workers N`): ingest the events topic and forward what each message
  became to the accepted topic (streams/pipeline/forward.py); no store is opened.
- `store` (embedded, `--workers N`, exactly one): the accepted topic into the ledger and the
  rows, the live page; the only process that opens the chDB directory.

Commit order, the same for every role. A batch (at most `batch_max_bytes`, at most
`batch_within_s` apart) is
1. prepared: `all` and `ingest` hand its raw values to the ingest helpers as soon as it is
   taken, so the next batch is ingested while this one is handled;
2. handled as soon as it is prepared and the batch before it is handled (batches are handled
   in the order taken, never two at once; the next one fills meanwhile):
   `all` and `store` store its new events in the ledger, then the refolded rows, the
   alerts (announced before they are stored) and the dead letters (streams/pipeline/agent.py);
   `ingest` sends its dead letters and its forwards and waits until the broker has them all;
3. acknowledged, event by event, only then: Faust commits an offset once everything before it
   is acknowledged, so a crash at any point re-reads the batch, and the ledger makes the
   second pass a no-op (duplicates are dropped, rows rewritten with the same version).
Any exception stops the worker (exit 70) instead of letting Faust commit the batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import faust
import orjson
from faust.types import EventT, StreamT

from streams.domain.ingest import Arrival, MessageResult, Rejected, Rejection, redact
from streams.faust_ext import reread_skipped
from streams.pipeline import target_recheck
from streams.pipeline.agent import HEALTH_TABLE, PaymentsAgent, consumer_lag
from streams.pipeline.batching import BatchingStream
from streams.pipeline.forward import HEALTH_KEY, forwards, health_message, take_forwarded
from streams.pipeline.ingest_pool import IngestPool
from streams.pipeline.outputs import BatchOutput, Health, Source, dead_letter, sent
from streams.settings import Settings
from streams.storage.sink import ClickHouseSink

log = logging.getLogger(__name__)

Prepare = Callable[[Sequence[EventT]], Awaitable[Any]]
# Batches prepared or handled at once: one being handled, one being prepared.
IN_FLIGHT = 2
Handle = Callable[[Sequence[EventT], Any], Awaitable[None]]


def raw_topic(app: faust.App, name: str, partitions: int) -> Any:
    """A topic of bytes keys and values."""
    return app.topic(name, key_serializer="raw", value_serializer="raw", partitions=partitions)


class BatchLoop:
    """One agent over `topic`, batch by batch, in the commit order of the module doc."""

    def __init__(
        self, app: faust.App, settings: Settings, topic: str, prepare: Prepare, handle: Handle
    ) -> None:
        self.app = app
        self.settings = settings
        self.topic = topic
        self.prepare = prepare
        self.handle = handle
        self.batches_done = 0
        self._seen = 0
        self._stalled: dict[Any, Any] = {}

    def register(self, name: str) -> None:
        """Attach the agent and its gap check to the app."""
        topic = raw_topic(self.app, self.topic, self.settings.topic_partitions)
        self.app.agent(topic, name=name)(self.run)
        self.app.timer(interval=1.0)(self.reread_gaps)

    async def run(self, stream: StreamT) -> None:
        """Take batches; each one is prepared as soon as it is taken and handled as soon as
        it is prepared and the batch before it is handled, while the next one fills.

        At most `IN_FLIGHT` batches are prepared or handled at once; the next is taken only
        when one of them is done (back-pressure: the stream buffers nothing meanwhile).
        Faust waits for the acks before a rebalance goes on (stream_wait_empty); a stopping
        agent cancels its batches, unacknowledged, so they are read again."""
        batching = cast(BatchingStream, stream)
        in_flight: deque[asyncio.Task[None]] = deque()
        try:
            async for batch in batching.take_bytes(
                self.settings.batch_max_bytes, self.settings.batch_within_s, ack=False, idle=True
            ):
                if batch:
                    before = in_flight[-1] if in_flight else None
                    in_flight.append(asyncio.ensure_future(self.through(batching, batch, before)))
                while in_flight and (len(in_flight) >= IN_FLIGHT or in_flight[0].done()):
                    await in_flight.popleft()
        finally:
            for task in in_flight:
                task.cancel()

    async def through(
        self,
        stream: BatchingStream,
        batch: Sequence[EventT],
        before: asyncio.Future[None] | None,
    ) -> None:
        """Prepare `batch`, wait for the batch before it, handle it, then acknowledge its
        events. Any exception stops the worker (exit 70) before anything is acknowledged."""
        try:
            prepared = await self.prepare(batch)
            if before is not None:
                await before
            await self.handle(batch, prepared)
            for event in batch:
                await stream.ack(event)
            self.batches_done += 1
        except asyncio.CancelledError:
            raise
        except Exception as e:
            # Where it failed: code locations only, no values (they may hold IDs).
            log.critical(
                "batch failed, stopping the worker: %s\n%s",
                redact(repr(e)),
                "".join(traceback.format_tb(e.__traceback__)),
            )
            os._exit(70)

    async def reread_gaps(self) -> None:
        """Fetch a partition again whose message was passed over (streams/faust_ext)."""
        busy, self._seen = self.batches_done != self._seen, self.batches_done
        for tp in await reread_skipped(self.app.consumer, self.topic, self._stalled, busy):
            log.warning("re-reading %s from its committed offset: messages were skipped", tp)


class Ingest:
    """Preparing a batch in roles `all` and `ingest`: its raw values to the ingest helpers."""

    def __init__(self, pool: IngestPool) -> None:
        self.pool = pool

    async def prepare(self, batch: Sequence[EventT]) -> list[MessageResult]:
        """What each message of the batch became, in order."""
        return await self.pool.ingest([event.value for event in batch], Arrival.at())


class HealthRows:
    """The pipeline_health row a storing worker writes every `health_interval_s`."""

    def __init__(
        self, app: faust.App, sink: ClickHouseSink, agent: PaymentsAgent, topic: str
    ) -> None:
        self.app, self.sink, self.agent, self.topic = app, sink, agent, topic
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def register(self, interval_s: float) -> None:
        """Attach the timer to the app."""
        self.app.timer(interval=interval_s)(self.write)

    async def write(self) -> None:
        """Write the row of the interval since the last one."""
        lag = self.agent.lag(self.app, self.topic)
        await self.sink.write(HEALTH_TABLE, [self.agent.health.row(self.worker, lag)])


class IngestAndStore(Ingest):
    """Role `all`: ingest, then everything after it, in one process."""

    def __init__(
        self, app: faust.App, settings: Settings, sink: ClickHouseSink, pool: IngestPool
    ) -> None:
        super().__init__(pool)
        self.alerts = raw_topic(app, settings.alerts_topic, 1)
        self.dead_letters = raw_topic(app, settings.dead_letter_topic, 1)
        self.agent = PaymentsAgent(settings, sink, pool.pseudonymize)

    async def handle(self, batch: Sequence[EventT], ingested: list[MessageResult]) -> None:
        """Ledger, rows, alerts and dead letters of the batch."""
        await self.agent.process(batch, self.alerts, self.dead_letters, ingested)


class Forwarder(Ingest):
    """Role `ingest`: a batch's dead letters and forwards, sent and confirmed; its health
    rows every `health_interval_s`, through the accepted topic to the store agent."""

    def __init__(self, app: faust.App, settings: Settings, pool: IngestPool) -> None:
        super().__init__(pool)
        self.app, self.events_topic = app, settings.events_topic
        self.accepted = raw_topic(app, settings.accepted_topic, settings.topic_partitions)
        self.dead_letters = raw_topic(app, settings.dead_letter_topic, 1)
        self.health = Health()
        self.worker = f"ingest@{socket.gethostname()}:{os.getpid()}"
        self._quiet = False

    def register_health(self, interval_s: float) -> None:
        """Attach the health timer to the app."""
        self.app.timer(interval=interval_s)(self.send_health)

    async def send_health(self) -> None:
        """Send the row of the interval since the last one (the store agent writes it).

        An idle worker (nothing read, nothing waiting) sends one row saying so, then nothing
        until it has work again: `run` waits until the store agent has committed the accepted
        topic's log end, which a row every interval would keep moving."""
        lag = consumer_lag(self.app, self.events_topic)
        quiet = self.health.events == 0 and not self.health.dead_letters and lag <= 0
        if quiet and self._quiet:
            return
        self._quiet = quiet
        row = self.health.row(self.worker, lag)
        await sent([await self.accepted.send(key=HEALTH_KEY, value=health_message(row))])

    async def handle(self, batch: Sequence[EventT], ingested: list[MessageResult]) -> None:
        """Send everything a batch became; return once the broker has all of it."""
        pending: list[Any] = []
        for event, result in zip(batch, ingested, strict=True):
            source = Source.of(event)
            is_file, items = result
            self.health.events += len(items)
            for index, item in enumerate(items, start=1 if is_file else 0):
                if isinstance(item, Rejection):
                    self.health.dead_letters[item.error_class] += 1
                    record, headers = dead_letter(
                        source, Rejected(item.error_class, item.reason), index
                    )
                    pending.append(
                        await self.dead_letters.send(value=orjson.dumps(record), headers=headers)
                    )
            for key, value in forwards(source, result):
                pending.append(await self.accepted.send(key=key, value=value))
        await sent(pending)


class StoreForwarded:
    """Role `store`: what ingest workers forwarded, into the ledger and the rows."""

    def __init__(self, app: faust.App, settings: Settings, sink: ClickHouseSink) -> None:
        self.alerts = raw_topic(app, settings.alerts_topic, 1)
        self.dead_letters = raw_topic(app, settings.dead_letter_topic, 1)
        self.agent = PaymentsAgent(settings, sink, None)

    async def prepare(self, batch: Sequence[EventT]) -> BatchOutput:
        """The batch's forwarded items, decoded."""
        out = BatchOutput()
        for event in batch:
            take_forwarded(event.value, out, self.agent.health)
        return out

    async def handle(self, batch: Sequence[EventT], out: BatchOutput) -> None:
        """Ledger, rows, alerts and the dead letters the store finds; the ingest workers'
        health rows."""
        await self.agent.store(out, self.alerts, self.dead_letters, len(batch))
        if out.health_rows:
            await self.agent.sink.write(HEALTH_TABLE, out.health_rows)


def register_payments_agent(
    app: faust.App, settings: Settings, sink: ClickHouseSink, pool: IngestPool
) -> PaymentsAgent:
    """Role `all`: the payments agent over the events topic, and its health rows."""
    role = IngestAndStore(app, settings, sink, pool)
    BatchLoop(app, settings, settings.events_topic, role.prepare, role.handle).register("payments")
    HealthRows(app, sink, role.agent, settings.events_topic).register(settings.health_interval_s)
    target_recheck.register(app, role.agent, role.alerts, settings.target_recheck_interval_s)
    return role.agent


def register_ingest_agent(app: faust.App, settings: Settings, pool: IngestPool) -> Forwarder:
    """Role `ingest`: the events topic to the accepted topic."""
    role = Forwarder(app, settings, pool)
    BatchLoop(app, settings, settings.events_topic, role.prepare, role.handle).register("ingest")
    role.register_health(settings.health_interval_s)
    return role


def register_store_agent(app: faust.App, settings: Settings, sink: ClickHouseSink) -> PaymentsAgent:
    """Role `store`: the accepted topic into the ledger and the rows, and its health rows."""
    role = StoreForwarded(app, settings, sink)
    BatchLoop(app, settings, settings.accepted_topic, role.prepare, role.handle).register("store")
    HealthRows(app, sink, role.agent, settings.accepted_topic).register(settings.health_interval_s)
    target_recheck.register(app, role.agent, role.alerts, settings.target_recheck_interval_s)
    return role.agent
