"""An offset gap does not stall commits (real Tansu broker, real Faust worker process).

Tansu 0.x does not support transactional producers (InitProducerId with a transactional
id answers UnknownError, tried with aiokafka 0.14.0), so transaction markers cannot be
written. The gaps here are written the way log compaction leaves them instead: one record
batch whose records carry offset deltas with holes (Kafka's record batch v2 keeps each
record's offset delta; Tansu stores the batch as sent, so a consumer reads offsets 0, 1,
3, 4 of a batch appended with deltas 0, 1, 3, 4). aiokafka then fetches across the hole
as it does across a transaction marker or a compacted offset.

Three holes: inside the first batch (the fetcher jumps over it), at the committed offset
while the worker runs, and at the committed offset where a restarted worker seeks to.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from kafka import KafkaAdminClient

from streams.harness.broker import EmbeddedBroker
from streams.replay.kafka_io import ensure_topics
from tests.support.names import unique

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[4]
WORKER = Path(__file__).with_name("gap_worker.py")


def append_batch(bootstrap: str, topic: str, deltas: list[int]) -> None:
    """Append one record batch whose records have these offset deltas."""

    async def send() -> None:
        builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 1 << 20)
        now = int(time.time() * 1000)
        for delta in deltas:
            builder.append(delta, now, b"k", b"v%d" % delta, [])
        client = AIOKafkaClient(bootstrap_servers=bootstrap)
        await client.bootstrap()
        try:
            await client.force_metadata_update()
            leader = client.cluster.leader_for_partition(TopicPartition(topic, 0))
            request = ProduceRequest(None, -1, 10_000, [(topic, [(0, bytes(builder.build()))])])
            response = await client.send(leader, request)
            assert response.topics[0][1][0][1] == 0, response  # error_code
        finally:
            await client.close()

    asyncio.run(send())


def committed(admin: KafkaAdminClient, group: str, topic: str) -> int | None:
    offsets = admin.list_group_offsets(group).get(group, {})
    meta = offsets.get(TopicPartition(topic, 0))
    return None if meta is None else int(meta.offset)


def wait_committed(
    admin: KafkaAdminClient,
    group: str,
    topic: str,
    want: int,
    worker: subprocess.Popen[bytes],
    timeout_s: float = 90.0,
) -> None:
    deadline = time.monotonic() + timeout_s
    seen = None
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker died"
        seen = committed(admin, group, topic)
        if seen == want:
            return
        time.sleep(0.5)
    raise AssertionError(f"committed offset {seen}, expected {want}: commits stalled")


def start_worker(bootstrap: str, group: str, topic: str, tmp: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open(tmp / "worker.log", "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                bootstrap,
                group,
                topic,
                str(tmp / "faust"),
                str(tmp / "processed.txt"),
            ],
            cwd=tmp,
            env=env,
            stdout=log,
            stderr=log,
        )


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_offset_gaps_do_not_stall_commits(broker: EmbeddedBroker, tmp_path: Path) -> None:
    bootstrap = broker.bootstrap_servers
    topic, group = unique("gaps"), unique("gapgroup")
    ensure_topics(bootstrap, {topic: 1})
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    append_batch(bootstrap, topic, [0, 1, 3, 4])  # offsets 0 1 _ 3 4
    worker = start_worker(bootstrap, group, topic, tmp_path)
    try:
        wait_committed(admin, group, topic, 5, worker)
        append_batch(bootstrap, topic, [1, 2])  # _ 6 7: the hole is the committed offset
        wait_committed(admin, group, topic, 8, worker)
        stop(worker)
        append_batch(bootstrap, topic, [1, 2])  # _ 9 10: a restarted worker seeks to 8
        worker = start_worker(bootstrap, group, topic, tmp_path)
        wait_committed(admin, group, topic, 11, worker)
    finally:
        stop(worker)
        admin.close()
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]
    processed = (tmp_path / "processed.txt").read_text().split()
    assert sorted({int(o) for o in processed}) == [0, 1, 3, 4, 6, 7, 9, 10]
