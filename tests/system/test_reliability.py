"""Kafka-system-test style proofs: kill -9 the worker mid-replay, take the store down
mid-run, kill -9 the broker mid-replay; afterwards every aggregate still equals the ground
truth, exactly.

The worker kill test runs on both brokers: Tansu as embedded runs use it, and Apache Kafka
as server mode uses it (RocksDB table store, no exact-end-offsets workaround). The other
worker tests are about the worker and the store, and run on Tansu only."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import SecretStr

from simulators.faults import FaultInjector, FaultSpec
from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from simulators.scenario import load_scenario
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import (
    EmbeddedRun,
    SilentObserver,
    WorkerHandle,
    count_lines,
    count_messages,
    embedded_settings,
    produce_file,
    worker_env,
)
from streams.harness.verify import compare
from streams.processes import python_module_args
from streams.replay.kafka_io import LagProbe, ensure_topics
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.queries import read_results
from tests.support.kafka_server import KafkaServer
from tests.support.names import unique
from tests.support.processes import children_of
from tests.support.runs import rules

pytestmark = pytest.mark.integration

FAULTS = FaultSpec(duplicates=0.02, out_of_order=0.02, malformed=0.002, redeliver=0.00005)


@dataclass
class Replay:
    path: Path
    total: int
    truth: dict[str, Any]


def simulate(name: str, tmp: Path) -> Replay:
    cycle = PaymentCycle(load_scenario(name), seed=11)
    path = tmp / "events.jsonl"
    with path.open("wb") as f:
        write_lines(FaultInjector(FAULTS, 11, cycle.truth).lines(cycle.events()), f)
    return Replay(path, count_lines(path), cycle.truth.to_json())


@pytest.fixture(scope="module")
def dien_bien(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    return simulate("dien-bien-2023-q1", tmp_path_factory.mktemp("dien-bien"))


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    return simulate("alerts-drill", tmp_path_factory.mktemp("drill"))


class Cluster:
    """A broker, a producer thread and a worker process that the test can kill and restart.

    On Apache Kafka the worker runs as in server mode: RocksDB tables, and Faust trusts the
    broker's end offsets (no `BROKER_EXACT_END_OFFSETS`). The store is chDB in both cases:
    no ClickHouse server runs in the tests.
    """

    def __init__(
        self, broker: EmbeddedBroker | KafkaServer, data_dir: Path, **overrides: Any
    ) -> None:
        if isinstance(broker, KafkaServer):
            overrides = {"table_store": "rocksdb"} | overrides
        base = Settings(
            _env_file=None,
            app_id=unique("wm"),
            events_topic=unique("events"),
            dead_letter_topic=unique("dlq"),
            alerts_topic=unique("alerts"),
            pseudonym_key=SecretStr("reliability-test-key-0123456789"),
            **overrides,
        )
        self.settings = embedded_settings(base, data_dir, broker.bootstrap_servers)
        if isinstance(broker, KafkaServer):
            self.settings = self.settings.model_copy(update={"broker_exact_end_offsets": False})
        self.worker = WorkerHandle(self.settings, EmbeddedRun(data_dir))
        ensure_topics(self.settings.kafka_bootstrap_servers, self.settings.topic_layout())

    def messages(self, replay: Replay) -> int:
        return count_messages(replay.path, self.settings.replay_file_events)

    def produce_in_background(self, replay: Replay) -> threading.Thread:
        thread = threading.Thread(
            target=produce_file,
            args=(self.settings, replay.path, replay.total, SilentObserver()),
            daemon=True,
        )
        thread.start()
        return thread

    def wait_until(self, condition: Callable[[int], bool], timeout_s: float = 240) -> int:
        return self.worker.wait_until(condition, stall_timeout_s=timeout_s)

    def results_problems(self, replay: Replay) -> list[str]:
        self.worker.stop()
        store = open_store(self.settings.model_copy(update={"store_outage_file": None}))
        try:
            results = read_results(store)
        finally:
            store.close()
        return compare(results, replay.truth, rules(self.settings))

    def close(self) -> None:
        self.worker.stop()


def clusters_on(
    broker: EmbeddedBroker | KafkaServer, tmp_path: Path
) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(**overrides: Any) -> Cluster:
        made.append(Cluster(broker, tmp_path / f"data{len(made)}", **overrides))
        return made[-1]

    yield make
    for cluster in made:
        cluster.close()


@pytest.fixture
def cluster_factory(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    """Clusters on Tansu."""
    yield from clusters_on(broker, tmp_path)


@pytest.fixture
def any_cluster_factory(
    any_broker: EmbeddedBroker | KafkaServer, tmp_path: Path
) -> Iterator[Callable[..., Cluster]]:
    """Clusters on Tansu, then on Apache Kafka."""
    yield from clusters_on(any_broker, tmp_path)


def test_kill_9_five_times_during_a_replay_loses_and_doubles_nothing(
    dien_bien: Replay, any_cluster_factory: Callable[..., Cluster]
) -> None:
    assert dien_bien.total >= 200_000
    store = os.environ.get("WM_TEST_TABLE_STORE")
    cluster = any_cluster_factory(**({"table_store": store} if store else {}))
    messages = cluster.messages(dien_bien)
    assert messages < dien_bien.total / 50, "the replay should travel in payment files"
    cluster.worker.start()
    producer = cluster.produce_in_background(dien_bien)
    rng = random.Random(2026)
    for share in sorted(rng.uniform(0.05, 0.9) for _ in range(5)):
        cluster.wait_until(lambda done, s=share: done >= s * messages)
        time.sleep(rng.uniform(0.0, 1.5))  # land anywhere inside a batch or a commit
        cluster.worker.kill()
        cluster.worker.start()
    producer.join(120)
    cluster.wait_until(lambda done: done >= messages)
    assert cluster.worker.starts == 6
    assert cluster.results_problems(dien_bien) == []


def test_a_store_outage_mid_run_holds_the_batch_and_loses_nothing(
    drill: Replay, cluster_factory: Callable[..., Cluster], tmp_path: Path
) -> None:
    switch = tmp_path / "clickhouse-is-down"
    # One event per message: the outage must land while the replay is still going.
    cluster = cluster_factory(store_outage_file=switch, replay_file_events=0)
    messages = cluster.messages(drill)
    cluster.worker.start()
    producer = cluster.produce_in_background(drill)
    cluster.wait_until(lambda done: done >= 0.3 * messages)
    switch.touch()
    time.sleep(3)  # batches in flight when the store went down finish or stall
    stalled = cluster.worker.committed()
    time.sleep(6)
    assert cluster.worker.committed() == stalled, "offsets moved on while the store was down"
    assert stalled < messages
    switch.unlink()
    producer.join(120)
    cluster.wait_until(lambda done: done >= messages)
    assert "injected outage" in cluster.worker.paths.worker_log.read_text(errors="replace")
    assert cluster.results_problems(drill) == []


def ingest_helpers(worker_pid: int) -> list[int]:
    """The worker's ingest helper processes (spawned multiprocessing children)."""
    found = []
    for pid in sorted(children_of(worker_pid)):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(pid)
    return found


def test_a_killed_ingest_helper_stops_the_worker_and_a_restart_loses_nothing(
    dien_bien: Replay, cluster_factory: Callable[..., Cluster]
) -> None:
    cluster = cluster_factory()
    messages = cluster.messages(dien_bien)
    cluster.worker.start()
    producer = cluster.produce_in_background(dien_bien)
    cluster.wait_until(lambda done: done >= 0.3 * messages)
    process = cluster.worker.process
    assert process is not None
    helpers = ingest_helpers(process.pid)
    assert len(helpers) == cluster.settings.ingest_processes
    os.kill(helpers[0], signal.SIGKILL)
    assert process.wait(60) == 70, "the worker must stop rather than carry on without it"
    assert "ingest helper process died" in cluster.worker.log(200)
    cluster.worker.start()
    producer.join(120)
    cluster.wait_until(lambda done: done >= messages)
    assert cluster.results_problems(dien_bien) == []


def replay_speed(path: Path, seconds: float) -> float:
    """The `replay --speed` that spreads the file's event time over about `seconds`."""
    times = []
    for line in path.read_bytes().splitlines():
        try:
            times.append(datetime.fromisoformat(orjson.loads(line)["occurred_at"]).timestamp())
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue  # the malformed lines
    return (max(times) - min(times)) / seconds


def test_kill_9_of_the_kafka_broker_mid_replay_loses_nothing(drill: Replay, tmp_path: Path) -> None:
    """Apache Kafka is killed with -9 while `welfare-monitor replay` is still sending and the
    worker processing, and restarted a few seconds later on the same port and log dir (what
    a supervisor does). The replay's producer must resend what was not acknowledged, the
    worker must carry on, and every level must equal the truth. Kafka only: the embedded
    Tansu keeps its log in memory, so a killed Tansu has nothing to restart from."""
    with KafkaServer(tmp_path / "kafka") as kafka:
        cluster = Cluster(kafka, tmp_path / "data", replay_file_events=0)
        replay: subprocess.Popen[str] | None = None
        try:
            messages = cluster.messages(drill)
            cluster.worker.start()
            replay = subprocess.Popen(
                python_module_args(
                    "streams",
                    "replay",
                    "--input",
                    str(drill.path),
                    "--speed",
                    str(replay_speed(drill.path, 60)),
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=worker_env(cluster.settings.model_copy(update={"language": "en"})),
            )
            probe = LagProbe(
                kafka.bootstrap_servers, cluster.settings.app_id, cluster.settings.events_topic
            )
            deadline = time.monotonic() + 120
            try:  # Kafka's end offsets are exact: kill once a quarter is in the topic
                while probe.offsets()[1] < 0.25 * messages and time.monotonic() < deadline:
                    assert replay.poll() is None, "the replay ended before the broker was killed"
                    time.sleep(0.1)
            finally:
                probe.close()
            assert replay.poll() is None, "the replay ended before the broker was killed"
            kafka.kill()
            time.sleep(3)
            assert replay.poll() is None, "the replay gave up while the broker was down"
            kafka.start()
            out, err = replay.communicate(timeout=300)
            assert replay.returncode == 0, err
            assert f"replayed {drill.total:,} events" in out
            cluster.wait_until(lambda done: done >= messages)
            assert cluster.worker.starts == 1, "the worker should ride out the broker restart"
            assert cluster.results_problems(drill) == []
        finally:
            if replay is not None and replay.poll() is None:
                replay.kill()
                replay.wait(10)
            cluster.close()
