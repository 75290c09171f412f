"""Several worker processes in the embedded mode (issue 13, item 5; docs/workers.md).

`run --workers 2` and `serve --workers 3` start N ingest workers in one consumer group and one
store agent that owns the chDB directory. Every level must equal the simulator's truth
whatever the producer's keying, and whatever the workers and the broker do meanwhile: kill -9,
join, leave, a broker crash.

Under `--key none` the two copies of a *conflicting* duplicate (one event id, two contents)
may take different partitions, so which is stored first (and wins) depends on arrival; those
lines are left out of the `none` runs as in test_producer_keys.py (docs/workers.md, "Keys").
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from simulators.faults import FaultInjector
from simulators.generator import PaymentCycle
from streams.errors import PipelineError
from streams.harness.embedded import EmbeddedRun
from streams.harness.service import EmbeddedService
from streams.harness.testing import ServiceHandle
from streams.harness.workers import WorkerGroup
from streams.replay.kafka_io import LagProbe
from streams.settings import Settings
from tests.integration.streams.replay.test_producer_keys_broker import (
    FAULTS,
    scenario,
    without_conflicting_copies,
)
from tests.support.kafka_server import KafkaServer
from tests.support.names import unique
from tests.support.processes import start_serve
from tests.system.test_reliability import replay_speed

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "streams"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "CLICKHOUSE_"))}
    env.pop("PSEUDONYM_KEY", None)
    return env | {"LANGUAGE": "en"} | extra


def scenario_files(tmp: Path, key: str, seed: int = 3) -> tuple[Path, Path]:
    """The scenario's lines with FAULTS (less the conflicting copies under `none`) and its
    truth, as files."""
    if key == "none":
        lines, truth, _ = without_conflicting_copies(seed)
    else:
        cycle = PaymentCycle(scenario(), seed)
        lines = list(FaultInjector(FAULTS, seed, cycle.truth).lines(cycle.events()))
        truth = dict(cycle.truth.to_json())
    events, truth_path = tmp / f"events-{key}.jsonl", tmp / f"truth-{key}.json"
    events.write_bytes(b"".join(line.rstrip(b"\n") + b"\n" for line in lines))
    truth_path.write_text(json.dumps(truth))
    return events, truth_path


@pytest.mark.parametrize("key", ["commune", "event", "none"])
def test_run_with_two_workers_equals_the_truth_under_every_key(tmp_path: Path, key: str) -> None:
    events, truth = scenario_files(tmp_path, key)
    data_dir = tmp_path / "data"
    done = subprocess.run(
        [
            *CLI,
            "run",
            "--workers",
            "2",
            "--key",
            key,
            "--file-events",
            "50",
            "--input",
            str(events),
            "--data-dir",
            str(data_dir),
            "--truth",
            str(truth),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=540,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "matches the simulator's at every level" in done.stdout
    # The layout really was split: two ingest workers and one store agent, no single worker.
    logs = sorted(p.name for p in (data_dir / "logs").iterdir())
    assert logs == ["broker.log", "ingest-1.log", "ingest-2.log", "store.log"]
    if key != "none":  # the conflicting copies are in, and exact: the first sent is kept
        assert json.loads(truth.read_text())["malformed_by_class"]["conflicting_duplicate"] > 0


def _until(
    condition: Callable[[], bool], what: str, service: EmbeddedService, timeout_s: float = 180
) -> None:
    """Poll `condition`, restarting dead workers as `serve` does; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        service.supervise()
        time.sleep(0.2)


@pytest.mark.parametrize("broker_kind", ["tansu", "kafka"])
def test_serve_three_workers_killed_joined_left_and_a_broker_crash_lose_nothing(
    tmp_path: Path, broker_kind: str
) -> None:
    """`serve --workers 3` while `replay --key none` sends, one event per message: kill -9 of
    an ingest worker and of the store agent, a fourth ingest worker joins, one leaves, and
    (Apache Kafka) the broker is killed with -9 and restarted on its log dir; the killed
    workers are restarted as `serve` does. Every level then equals the truth.

    Tansu, the broker `serve` starts itself, keeps its log in memory: a killed Tansu has
    nothing to restart from (docs/ops.md), so on Tansu the broker step is left out and the
    service runs its own Tansu; on Kafka the service is given the running broker."""
    events, truth_path = scenario_files(tmp_path, "none", seed=5)
    truth = json.loads(truth_path.read_text())
    messages = sum(1 for line in events.read_bytes().splitlines() if line.strip())
    kafka = KafkaServer(tmp_path / "kafka") if broker_kind == "kafka" else None
    base = Settings(
        _env_file=None,
        app_id=unique("wm"),
        events_topic=unique("events"),
        dead_letter_topic=unique("dlq"),
        alerts_topic=unique("alerts"),
        pseudonym_key=SecretStr("workers-test-key-0123456789"),
        embedded_workers=3,
    )
    replay: subprocess.Popen[str] | None = None
    try:
        if kafka is not None:
            kafka.start()
        with EmbeddedService(tmp_path / "data", base, broker=kafka) as service:
            settings, group = service.settings, service.workers
            assert settings is not None and isinstance(group, WorkerGroup)
            assert len(group.ingest) == 3 and not group.dead()
            replay = subprocess.Popen(
                [
                    *CLI,
                    "replay",
                    "--data-dir",
                    str(service.data_dir),
                    "--input",
                    str(events),
                    "--key",
                    "none",
                    "--file-events",
                    "0",
                    "--speed",
                    str(replay_speed(events, 45)),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(),
            )
            probe = LagProbe(
                settings.kafka_bootstrap_servers,
                settings.app_id,
                settings.events_topic,
                exact_end=kafka is None,
            )
            try:
                _until(lambda: probe.offsets()[0] >= 0.15 * messages, "15% processed", service)
                assert replay.poll() is None, "the replay ended before the workers were killed"
                group.ingest[0].kill()
                group.store.kill()
                service.supervise()  # serve's loop restarts them
                group.add()
                _until(lambda: probe.offsets()[0] >= 0.35 * messages, "35% processed", service)
                group.leave(group.ingest[1])
                if kafka is not None:
                    _until(lambda: probe.offsets()[1] >= 0.5 * messages, "half sent", service)
                    assert replay.poll() is None, "the replay ended before the broker was killed"
                    kafka.kill()
                    time.sleep(3)
                    kafka.start()
            finally:
                probe.close()
            _until(
                lambda: replay is not None and replay.poll() is not None,
                "the replay",
                service,
                timeout_s=300,
            )
            out, err = replay.communicate()
            assert replay.returncode == 0, err
            assert len(group.ingest) == 3 and not group.dead()
            handle = ServiceHandle(service)
            diffs = handle.verify(truth, timeout_s=240)
            assert diffs == [], "\n".join(map(repr, diffs[:20]))
            assert handle.dead_letters() == truth["malformed_by_class"]
            assert service.worker_restarts >= 2
    finally:
        if replay is not None and replay.poll() is None:
            replay.kill()
            replay.wait(10)
        if kafka is not None:
            kafka.stop()


def test_a_single_worker_cannot_take_another(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, embedded_workers=1)
    with pytest.raises(PipelineError, match="--workers 2"):
        WorkerGroup(settings, EmbeddedRun(tmp_path)).add()


def test_serve_cli_with_two_workers_replays_and_verifies(tmp_path: Path) -> None:
    """`serve --workers 2` from the command line: the broker, two ingest workers and the
    store agent are its children; `replay` and `verify --data-dir` find it as with one."""
    events, truth = scenario_files(tmp_path, "commune", seed=7)
    data_dir = tmp_path / "served"
    serve = start_serve(data_dir, tmp_path / "serve.log", _env(), "--workers", "2")
    try:
        children = subprocess.run(
            ["pgrep", "-P", str(serve.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 4  # the broker, two ingest workers, the store agent
        for command in (
            ["replay", "--data-dir", str(data_dir), "--input", str(events)],
            ["verify", "--data-dir", str(data_dir), "--truth", str(truth)],
        ):
            done = subprocess.run(
                [*CLI, *command], capture_output=True, text=True, env=_env(), timeout=300
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    finally:
        serve.send_signal(signal.SIGINT)
        code = serve.wait(60)
    assert code == 0, (tmp_path / "serve.log").read_text()
    assert sorted(p.name for p in (data_dir / "logs").iterdir()) == [
        "broker.log",
        "ingest-1.log",
        "ingest-2.log",
        "store.log",
    ]


def test_ingest_workers_report_their_health_through_the_store_agent(tmp_path: Path) -> None:
    """`run --workers 2`: the ingest workers cannot open chDB, so their pipeline_health rows
    (events read, dead letters, lag on the events topic) reach the table through the store
    agent (streams/pipeline/forward.py); the lag panel sees the events backlog."""
    from streams.storage.clickhouse_store import ClickHouseStore
    from streams.storage.factory import chdb_dsn

    events, _ = scenario_files(tmp_path, "commune")
    data_dir = tmp_path / "data"
    done = subprocess.run(
        [*CLI, "run", "--workers", "2", "--input", str(events), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=_env(HEALTH_INTERVAL_S="0.5"),
        timeout=540,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    store = ClickHouseStore(chdb_dsn(data_dir / "chdb"), Settings().clickhouse_database)
    store.open()
    try:
        rows = store.query(
            "SELECT startsWith(worker, 'ingest@') AS ingest, uniqExact(worker) AS workers, "
            "sum(events) AS events, sum(dead_letters) AS dead, countIf(consumer_lag >= 0) AS lags "
            "FROM pipeline_health GROUP BY ingest ORDER BY ingest"
        )
    finally:
        store.close()
    store_row, ingest_row = ({k: int(v) for k, v in r.items()} for r in rows)
    assert ingest_row["workers"] == 2 and store_row["workers"] == 1
    assert ingest_row["events"] > 0 and ingest_row["dead"] > 0 and ingest_row["lags"] > 0
    # The store agent counts no event the ingest workers counted.
    assert store_row["events"] == 0
