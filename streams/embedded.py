"""Embedded mode: broker, worker and chDB on this machine, for `run`, `demo` and the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from streams.broker import EmbeddedBroker, free_port
from streams.errors import InputError, PipelineError
from streams.ingest import redact
from streams.kafka_io import EventProducer, LagProbe, ensure_topics
from streams.process import python_module_args, spawn, stop, tail
from streams.pseudonym import Pseudonymizer
from streams.queries import Results, read_results
from streams.settings import Settings
from streams.storage import open_store


class RunObserver(Protocol):
    """Receives progress from an embedded run (the CLI draws progress bars from it)."""

    def started(self, stage: str, total: int | None) -> None:
        """A stage began; `total` is its size when known."""

    def advanced(self, stage: str, completed: int) -> None:
        """A stage reached `completed` units."""

    def notice(self, message: str) -> None:
        """Something the person running it should know."""


class SilentObserver:
    """An observer that shows nothing."""

    def started(self, stage: str, total: int | None) -> None:
        return None

    def advanced(self, stage: str, completed: int) -> None:
        return None

    def notice(self, message: str) -> None:
        return None


@dataclass
class EmbeddedRun:
    """Where an embedded run keeps its data, logs and Faust state."""

    data_dir: Path
    worker_log: Path = field(init=False)
    broker_log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.worker_log = self.data_dir / "logs" / "worker.log"
        self.broker_log = self.data_dir / "logs" / "broker.log"


def count_lines(path: Path) -> int:
    """Non-blank lines of a file."""
    try:
        with path.open("rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from e


@contextmanager
def data_directory(data_dir: Path | None) -> Iterator[Path]:
    """`data_dir` (kept) or a temporary directory (removed afterwards)."""
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        yield data_dir
        return
    temp = Path(tempfile.mkdtemp(prefix="welfare-monitor-"))
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def embedded_settings(base: Settings, data_dir: Path, bootstrap_servers: str) -> Settings:
    """Settings for a worker of an embedded run: chDB in `data_dir`, an ephemeral key."""
    key = base.pseudonym_key or Pseudonymizer.ephemeral_key_secret()
    return base.model_copy(
        update={
            "kafka_bootstrap_servers": bootstrap_servers,
            "clickhouse_url": None,
            "chdb_path": data_dir / "chdb",
            "faust_datadir": data_dir / "faust",
            "pseudonym_key": key,
            "web_enabled": True,
            "web_port": free_port(),
            # Tansu's ListOffsets answers with the first offset of a partition's last record
            # batch + 1, not the log end, and Faust's table recovery stops at that answer: the
            # rest of the last changelog batch would be lost after a restart. One record per
            # batch makes the answer exact. (Apache Kafka, in server mode, needs none of this.)
            "producer_max_batch_size": 1,
        }
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a worker child: ours without any setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in Settings.env_names()}
    return env | settings.to_env()


def produce_file(
    settings: Settings,
    input_path: Path,
    total: int,
    observer: RunObserver,
    speed: float | None = None,
) -> int:
    """Send every line of `input_path` to the events topic, reporting progress."""
    observer.started("produce", total)
    sent = 0

    def on_sent(n: int) -> None:
        nonlocal sent
        sent += n
        observer.advanced("produce", sent)

    with input_path.open("rb") as lines, EventProducer(
        settings.kafka_bootstrap_servers, settings.events_topic
    ) as producer:
        producer.send_lines(lines, on_sent, speed=speed)
    return sent


class EmbeddedPipeline:
    """Runs events through a real broker, a real Faust worker process and chDB."""

    def __init__(
        self,
        base: Settings,
        observer: RunObserver | None = None,
        stall_timeout_s: float = 180.0,
    ) -> None:
        self.base = base
        self.observer = observer or SilentObserver()
        self.stall_timeout_s = stall_timeout_s

    def run(
        self,
        input_path: Path,
        data_dir: Path,
        broker: EmbeddedBroker | None = None,
        produce: bool = True,
        on_processed: Callable[[Settings], None] | None = None,
    ) -> Results:
        """Process every event of `input_path`; return the results read from chDB.

        With `broker`, that running broker is used (and left running); with
        `produce=False` the events are expected on the topic already, e.g. to replay a topic
        into a fresh consumer group. `on_processed` runs once every event is stored, while
        the worker (and its live page) still runs.
        """
        total = count_lines(input_path)
        run_paths = EmbeddedRun(data_dir)
        own_broker = broker is None
        broker = broker or EmbeddedBroker(run_paths.broker_log)
        worker: subprocess.Popen[bytes] | None = None
        try:
            if own_broker:
                broker.start()
            settings = embedded_settings(self.base, data_dir, broker.bootstrap_servers)
            if self.base.pseudonym_key is None:
                self.observer.notice(
                    "PSEUDONYM_KEY is not set: this run pseudonymises citizen IDs with an "
                    "ephemeral random key, so its pseudonyms match no other run."
                )
            ensure_topics(
                settings.kafka_bootstrap_servers,
                {settings.events_topic: settings.topic_partitions, settings.dead_letter_topic: 1,
                 settings.alerts_topic: 1},
            )
            worker = spawn(
                python_module_args("streams", "worker", "--migrate"),
                run_paths.worker_log,
                worker_env(settings),
            )
            self.observer.notice(
                f"live page: http://{settings.web_host}:{settings.web_port}/ "
                "(open it to watch the counts climb)"
            )
            if produce:
                self._produce(settings, input_path, total)
            self._wait_until_processed(settings, worker, run_paths.worker_log, total)
            if on_processed is not None:
                on_processed(settings)
        finally:
            if worker is not None:
                stop(worker)
            if own_broker:
                broker.stop()
        store = open_store(settings)
        try:
            return read_results(store)
        finally:
            store.close()

    def _produce(self, settings: Settings, input_path: Path, total: int) -> None:
        produce_file(settings, input_path, total, self.observer)

    def _wait_until_processed(
        self,
        settings: Settings,
        worker: subprocess.Popen[bytes],
        worker_log: Path,
        total: int,
    ) -> None:
        """Poll until the worker's committed offsets reach the end of the topic.

        The worker acknowledges events only after their rows are in ClickHouse, so a
        committed offset at the end of every partition means everything is stored.
        """
        self.observer.started("process", total)
        probe = LagProbe(settings.kafka_bootstrap_servers, settings.app_id, settings.events_topic)
        try:
            last_done, last_change = -1, time.monotonic()
            while True:
                if worker.poll() is not None:
                    raise PipelineError(
                        f"the worker exited with code {worker.returncode}; last log lines:\n"
                        + redact(tail(worker_log))
                    )
                done, end = probe.offsets()  # end: display only; Tansu may under-report
                self.observer.advanced("process", done)
                # Offsets start at 0 on the fresh embedded topic, so the committed offsets add
                # up to the number of events processed.
                if done >= total:
                    return
                if done != last_done:
                    last_done, last_change = done, time.monotonic()
                elif time.monotonic() - last_change > self.stall_timeout_s:
                    raise PipelineError(
                        f"no progress for {self.stall_timeout_s:.0f}s ({done} of {end} events "
                        f"processed); see {worker_log}"
                    )
                time.sleep(0.25)
        finally:
            probe.close()
