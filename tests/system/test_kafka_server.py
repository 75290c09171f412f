"""The Apache Kafka fixture: it serves, survives kill -9 with its data, and leaves no JVM."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.replay.kafka_io import ensure_topics
from tests.support.kafka_server import (
    ROOT,
    KafkaServer,
    kafka_version,
    random_cluster_id,
    resolve_jars,
)
from tests.support.names import unique

pytestmark = pytest.mark.integration


def read_all(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(values) < expected and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            values += [r.value for r in records]
    consumer.close()
    return values


def test_the_jars_are_kafka_4_from_the_pom_and_cached() -> None:
    jars = resolve_jars()
    assert kafka_version().startswith("4.")
    assert (jars / f"kafka_2.13-{kafka_version()}.jar").exists()
    assert jars.is_relative_to(ROOT / ".cache")
    started = time.monotonic()
    assert resolve_jars() == jars
    assert time.monotonic() - started < 1, "a second resolve must reuse the cache"


def test_cluster_ids_never_read_as_an_option() -> None:
    """One id in 64 started with "-" and kafka-storage format took it for an option."""
    ids = {random_cluster_id() for _ in range(5_000)}
    assert len(ids) == 5_000
    assert all(len(i) == 22 and "-" not in i for i in ids)


def test_a_killed_broker_restarts_on_its_port_with_every_acknowledged_record(
    tmp_path: Path,
) -> None:
    with KafkaServer(tmp_path / "kafka") as server:
        bootstrap = server.bootstrap_servers
        topic = unique("restart")
        ensure_topics(bootstrap, {topic: 1})
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        for i in range(100):
            producer.send(topic, f"record {i}".encode())
        producer.flush()
        producer.close()
        pid = server.pid
        assert pid is not None
        server.kill()
        assert not server.alive()
        server.start()
        assert server.bootstrap_servers == bootstrap and server.starts == 2
        assert read_all(bootstrap, topic, 100) == [f"record {i}".encode() for i in range(100)]
    assert not server.alive()
    assert not Path(f"/proc/{pid}").exists()


CHILD = """
import sys, time
from pathlib import Path
from tests.support.kafka_server import KafkaServer
server = KafkaServer(Path(sys.argv[1]))
server.start()
print(server.pid, flush=True)
time.sleep(600)
"""


def test_the_broker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """A test process killed with -9 runs no teardown: PR_SET_PDEATHSIG must end the JVM."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "kafka")],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip().isdigit(), "the child did not start Kafka"
        jvm = int(line)
        assert Path(f"/proc/{jvm}").exists()
        child.kill()
        child.wait(10)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{jvm}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Path(f"/proc/{jvm}").exists(), "the Kafka JVM outlived its parent"
    finally:
        child.kill()
        child.wait(10)
