"""Embedded mode: broker, worker and chDB on this machine, for `run`, `demo` and the tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from schemas.i18n import _
from streams.domain.ingest import redact
from streams.domain.pseudonym import Pseudonymizer
from streams.errors import InputError, PipelineError
from streams.harness.broker import EmbeddedBroker, free_port
from streams.processes import python_module_args, spawn, stop, tail
from streams.replay.kafka_io import (
    EventProducer,
    LagProbe,
    ensure_topics,
    event_lines,
    packed_events,
)
from streams.replay.payment_files import FilePacker
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.queries import Results, read_results


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


def count_events(path: Path) -> int:
    """Non-blank lines of an input file; InputError when it has none."""
    total = count_lines(path)
    if total == 0:
        raise InputError(f"{path} is empty: give a file of events, one JSON object per line")
    return total


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


KEY_FILE = "pseudonym.key"


def data_dir_key(data_dir: Path) -> SecretStr:
    """The data dir's own pseudonym key (`D/pseudonym.key`, readable by its owner only),
    created on first use: every run into the dir gives a citizen the same pseudonym, so the
    ledger continues and duplicates across runs are recognised."""
    path = data_dir / KEY_FILE
    try:
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(Pseudonymizer.ephemeral_key_secret().get_secret_value())
        return SecretStr(path.read_text().strip())
    except OSError as e:
        raise InputError(
            f"cannot read or create the pseudonym key {path}: "
            f"{e.strerror or e}; check the data dir's permissions"
        ) from e


def embedded_settings(base: Settings, data_dir: Path, bootstrap_servers: str) -> Settings:
    """Settings for a worker of an embedded run: chDB in `data_dir`, PSEUDONYM_KEY or the
    data dir's own key."""
    key = base.pseudonym_key or data_dir_key(data_dir)
    return base.model_copy(
        update={
            "kafka_bootstrap_servers": bootstrap_servers,
            "clickhouse_url": None,
            "chdb_path": data_dir / "chdb",
            "faust_datadir": data_dir / "faust",
            "pseudonym_key": key,
            "web_enabled": True,
            "web_port": free_port(),
            # Tansu's ListOffsets under-reports log ends, which Faust's table recovery
            # trusts; see streams/replay/end_offsets.py. (Apache Kafka, in server mode, needs none.)
            "broker_exact_end_offsets": True,
        }
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a worker child: ours without any setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in Settings.env_names()}
    return env | settings.to_env()


@dataclass(frozen=True)
class Produced:
    """What loading a file into the events topic sent."""

    lines: int
    messages: int  # fewer than lines when events travel in payment files
    objects: int = 0  # lines that are JSON objects: the others cannot be events
    oversize: tuple[int, ...] = ()  # line numbers too big to send (dead-lettered)


def produce_file(
    settings: Settings,
    input_path: Path,
    total: int,
    observer: RunObserver,
    speed: float | None = None,
) -> Produced:
    """Send every line of `input_path` to the events topic (in payment files of
    `settings.replay_file_events` events), reporting progress in lines."""
    with input_path.open("rb") as lines:
        return produce_lines(settings, lines, total, observer, speed)


def produce_lines(
    settings: Settings,
    lines: Iterable[bytes],
    total: int | None,
    observer: RunObserver,
    speed: float | None = None,
) -> Produced:
    """Send event lines (a file, or a generator's output as it is made) to the events topic."""
    observer.started("produce", total)
    sent = 0

    def on_sent(n: int) -> None:
        nonlocal sent
        sent += n
        observer.advanced("produce", sent)

    with EventProducer(
        settings.kafka_bootstrap_servers,
        settings.events_topic,
        settings.replay_file_events,
        key=settings.replay_key,
        delivery_timeout_s=settings.replay_delivery_timeout_s,
    ) as producer:
        producer.send_lines(lines, on_sent, speed=speed)
    if total is None:
        observer.notice(f"sent {sent:,} events")
    return Produced(sent, producer.messages, producer.objects, tuple(producer.oversize))


def count_messages(input_path: Path, file_events: int) -> int:
    """How many messages `produce_file` will send for `input_path` (a dry run of packing)."""
    if file_events <= 1:
        return count_lines(input_path)
    packer = FilePacker(file_events, "count")
    messages = 0
    with input_path.open("rb") as lines:
        for line, facts in event_lines(lines):
            messages += len(packer.add(facts.key, line, facts.is_object))
    return messages + len(packer.flush())


class WorkerHandle:
    """A worker child process of an embedded run, and waiting until it has stored everything.

    The worker acknowledges a message only after its rows are in ClickHouse, so committed
    offsets that add up to the number of messages sent (offsets start at 0 on the fresh
    embedded topic) mean every event is stored. The topic's end offsets are not used: Tansu
    under-reports them (see `embedded_settings`).
    """

    def __init__(
        self, settings: Settings, paths: EmbeddedRun, log_path: Path | None = None
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.log_path = log_path or paths.worker_log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._probe: LagProbe | None = None

    def start(self) -> None:
        """Start a worker process (applying migrations first)."""
        self.settings.faust_datadir.parent.mkdir(parents=True, exist_ok=True)
        self.process = spawn(
            python_module_args("streams", "worker", "--migrate"),
            self.log_path,
            worker_env(self.settings),
        )
        self.starts += 1

    def kill(self) -> None:
        """kill -9 the worker and reap it."""
        if self.process is None or self.process.poll() is not None:
            raise PipelineError(f"no worker is running; last log lines:\n{self.log()}")
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        """Stop the worker (SIGTERM, then SIGKILL) and close the offsets probe."""
        if self.process is not None:
            stop(self.process)
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    def log(self, lines: int = 30) -> str:
        """The end of the worker's log, citizen IDs masked."""
        return redact(tail(self.log_path, lines))

    def committed(self) -> int:
        """Sum of the group's committed offsets on the events topic."""
        if self._probe is None:
            self._probe = LagProbe(
                self.settings.kafka_bootstrap_servers,
                self.settings.app_id,
                self.settings.events_topic,
            )
        return self._probe.offsets()[0]

    def wait_until(
        self,
        condition: Callable[[int], bool],
        on_progress: Callable[[int], None] | None = None,
        stall_timeout_s: float = 180.0,
        poll_s: float = 0.2,
    ) -> int:
        """Poll committed offsets until `condition` holds; PipelineError when the worker
        exits or nothing moves for `stall_timeout_s`."""
        last_done, last_change = -1, time.monotonic()
        while True:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise PipelineError(
                    f"the worker exited with code {code}; last log lines:\n{self.log()}"
                )
            done = self.committed()
            if on_progress is not None:
                on_progress(done)
            if condition(done):
                return done
            if done != last_done:
                last_done, last_change = done, time.monotonic()
            elif time.monotonic() - last_change > stall_timeout_s:
                raise PipelineError(
                    f"no progress for {stall_timeout_s:.0f}s ({done} messages processed); "
                    f"see {self.log_path}"
                )
            time.sleep(poll_s)


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
        self.produced: Produced | None = None  # what the last run sent

    def run(
        self,
        input_path: Path,
        data_dir: Path,
        broker: EmbeddedBroker | None = None,
        produce: bool = True,
        on_processed: Callable[[Settings], None] | None = None,
        lines: Sequence[bytes] | None = None,
    ) -> Results:
        """Process every event of `input_path`; return the results read from chDB.

        With `broker`, that running broker is used (and left running); with
        `produce=False` the events are expected on the topic already, e.g. to replay a topic
        into a fresh consumer group. `on_processed` runs once every event is stored, while
        the worker (and its live page) still runs. With `lines`, those event lines are sent
        instead of the file's, from memory (nothing is written to disk).
        """
        total = len(lines) if lines is not None else count_events(input_path)
        run_paths = EmbeddedRun(data_dir)
        own_broker = broker is None
        broker = broker or EmbeddedBroker(run_paths.broker_log)
        from streams.harness.workers import WorkerGroup  # it builds on WorkerHandle, above

        worker: WorkerGroup | None = None
        try:
            if own_broker:
                broker.start()
            settings = embedded_settings(self.base, data_dir, broker.bootstrap_servers)
            if self.base.pseudonym_key is None:
                self.observer.notice(
                    _(
                        "PSEUDONYM_KEY is not set: citizen IDs are pseudonymised with the data "
                        "dir's own key ({path}); keep it with the data."
                    ).format(path=data_dir / KEY_FILE)
                )
            ensure_topics(settings.kafka_bootstrap_servers, settings.topic_layout())
            worker = WorkerGroup(settings, run_paths)
            worker.start()
            self.observer.notice(
                _("live page: {url} (open it to watch the counts climb)").format(
                    url=f"http://{settings.web_host}:{settings.web_port}/"
                )
            )
            if produce:
                self.produced = (
                    produce_lines(settings, lines, total, self.observer)
                    if lines is not None
                    else self._produce(settings, input_path, total)
                )
                messages = self.produced.messages
            else:
                messages = count_messages(
                    input_path, packed_events(settings.replay_file_events, settings.replay_key)
                )
            self.observer.started("process", messages)
            worker.wait_until(
                lambda done: done >= messages,
                lambda done: self.observer.advanced("process", done),
                self.stall_timeout_s,
            )
            if on_processed is not None:
                on_processed(settings)
        finally:
            if worker is not None:
                worker.stop()
            if own_broker:
                broker.stop()
        store = open_store(settings)
        try:
            return read_results(store)
        finally:
            store.close()

    def _produce(self, settings: Settings, input_path: Path, total: int) -> Produced:
        return produce_file(settings, input_path, total, self.observer)
