"""The bench's freshness stage: event sent to row stored in ClickHouse at a steady rate.

A fresh embedded broker and worker, the events topic with ONE partition and one event
per message, so the worker's committed offset is the number of messages stored, in send
order. The worker acknowledges a message only after its ledger rows and figures are
written to ClickHouse (docs/ledger.md, "What a batch does", step 5), so a committed
offset above a message's position means its rows are visible. After a warm-up (the first
`rate` events, until acknowledged), the events are sent in chunks every 50 ms at `rate`
events per second while another thread reads the committed offset every 50 ms. An
event's freshness is the first reading that covers its chunk minus the chunk's send time:
an upper bound on send-to-visible (it includes the producer's linger, the worker's commit
interval and the 50 ms polling).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from streams.errors import PipelineError
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import EmbeddedRun, WorkerHandle, embedded_settings
from streams.replay.kafka_io import EventProducer, ensure_topics
from streams.settings import Settings

TICK_S = 0.05


def freshness_ms(sends: list[tuple[float, int]], polls: list[tuple[float, int]]) -> list[float]:
    """Per event, ms from its chunk's send to the first poll whose committed offset covers it.

    `sends`: (time, messages sent so far) after each chunk; `polls`: (time, committed).
    Both in time order. A chunk no poll covers raises ValueError.
    """
    out: list[float] = []
    previous = 0
    j = 0
    for sent_at, upto in sends:
        while j < len(polls) and (polls[j][0] < sent_at or polls[j][1] < upto):
            j += 1
        if j == len(polls):
            raise ValueError(f"no reading covers the chunk ending at message {upto}")
        out += [(polls[j][0] - sent_at) * 1000] * (upto - previous)
        previous = upto
    return out


def measure_freshness(events_path: Path, rate: int, on_stage: Callable[[str], None]) -> list[float]:
    """Run the stage over the lines of `events_path` (see the module's docstring)."""
    lines = [line for line in events_path.read_bytes().splitlines() if line.strip()]
    warm, paced = lines[:rate], lines[rate:]
    chunk = max(1, int(rate * TICK_S))
    with tempfile.TemporaryDirectory(prefix="welfare-fresh-") as tmp:
        data_dir = Path(tmp)
        paths = EmbeddedRun(data_dir)
        with EmbeddedBroker(paths.broker_log) as broker:
            base = Settings(_env_file=None, log_level="warn").model_copy(
                update={"topic_partitions": 1, "replay_file_events": 1}
            )
            settings = embedded_settings(base, data_dir, broker.bootstrap_servers)
            ensure_topics(settings.kafka_bootstrap_servers, settings.topic_layout())
            worker = WorkerHandle(settings, paths)
            worker.start()
            polls: list[tuple[float, int]] = []
            sends: list[tuple[float, int]] = []
            stop = threading.Event()

            def poll() -> None:
                while not stop.is_set():
                    polls.append((time.monotonic(), worker.committed()))
                    time.sleep(TICK_S)

            try:
                with EventProducer(settings.kafka_bootstrap_servers, settings.events_topic, 1) as p:
                    on_stage(f"freshness: warm-up ({len(warm):,} events)")
                    p.send_lines(warm)
                    worker.wait_until(lambda done: done >= len(warm))
                    on_stage(f"freshness: {len(paced):,} events at {rate:,} events/s")
                    poller = threading.Thread(target=poll, daemon=True)
                    poller.start()
                    started = time.monotonic()
                    for k in range(0, len(paced), chunk):
                        delay = started + k / rate - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                        p.send_lines(paced[k : k + chunk])
                        sends.append((time.monotonic(), len(warm) + min(k + chunk, len(paced))))
                deadline = time.monotonic() + 180
                while not polls or polls[-1][1] < len(lines):
                    if time.monotonic() > deadline or (
                        worker.process is not None and worker.process.poll() is not None
                    ):
                        raise PipelineError(
                            f"freshness: the worker stored {polls[-1][1] if polls else 0} of "
                            f"{len(lines)} messages; last log lines:\n{worker.log()}"
                        )
                    time.sleep(TICK_S)
            finally:
                stop.set()
                worker.stop()
    return freshness_ms(sends, polls)
