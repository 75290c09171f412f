"""The CLI contract: names, output formats, and one-line errors instead of tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from streams.cli.main import main

pytestmark = pytest.mark.integration


def test_unknown_scenario_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--scenario", "atlantis-2099"]) == 1
    err = capsys.readouterr().err
    assert "unknown scenario 'atlantis-2099'" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unreadable_input_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--input", str(tmp_path / "missing.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and "Traceback" not in err


def test_unreachable_broker_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("{}\n")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    assert main(["replay", "--input", str(events)]) == 1
    err = capsys.readouterr().err
    assert "unreachable at 127.0.0.1:1" in err and "Traceback" not in err


def test_clickhouse_down_is_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLICKHOUSE_URL", "http://127.0.0.1:1")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach ClickHouse at http://127.0.0.1:1" in err and "Traceback" not in err


def test_worker_refuses_to_start_without_a_pseudonym_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    assert main(["worker"]) == 1
    assert "PSEUDONYM_KEY is not set" in capsys.readouterr().err


def test_simulate_then_run_prints_json_rows_matching_the_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ID", f"cli-{tmp_path.name}")
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    events, truth_path = tmp_path / "events.jsonl", tmp_path / "truth.json"
    assert (
        main(
            [
                "simulate",
                "--scenario",
                "binh-dinh-2023-06",
                "--seed",
                "3",
                "--out",
                str(events),
                "--truth",
                str(truth_path),
            ]
        )
        == 0
    )
    # Keep the run short: the first 3 communes' events (each commune's events are contiguous).
    lines = events.read_bytes().splitlines()
    communes = sorted({orjson.loads(line)["payload"]["commune_code"] for line in lines})[:3]
    subset = [line for line in lines if orjson.loads(line)["payload"]["commune_code"] in communes]
    events.write_bytes(b"\n".join(subset) + b"\n")
    capsys.readouterr()

    assert (
        main(
            [
                "run",
                "--input",
                str(events),
                "--format",
                "json",
                "--data-dir",
                str(tmp_path / "data"),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert "khóa riêng của thư mục dữ liệu" in captured.err  # the data dir's own key (vi)
    truth = json.loads(truth_path.read_text())
    keys = (
        "period",
        "province_code",
        "commune_code",
        "beneficiaries_due",
        "beneficiaries_paid",
        "beneficiaries_paid_cashless",
    )
    expected = [{k: c[k] for k in keys} for c in truth["communes"] if c["commune_code"] in communes]
    assert [{k: r[k] for k in keys} for r in rows] == expected
    assert (tmp_path / "data" / "chdb").is_dir()


@pytest.mark.parametrize("file_events", [None, "0"])
def test_replay_sends_every_line_to_the_broker(
    any_broker: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_events: str | None
) -> None:
    from kafka import KafkaConsumer, TopicPartition

    from streams.domain.ingest import unpack
    from streams.harness.broker import EmbeddedBroker
    from tests.support.kafka_server import KafkaServer

    broker = any_broker
    assert isinstance(broker, EmbeddedBroker | KafkaServer)
    topic = f"replay-{tmp_path.name}"
    events = tmp_path / "e.jsonl"
    assert main(["simulate", "--scenario", "binh-dinh-2023-06", "--out", str(events)]) == 0
    lines = events.read_bytes().splitlines()[:500]
    events.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    monkeypatch.setenv("EVENTS_TOPIC", topic)
    monkeypatch.setenv("TOPIC_PARTITIONS", "2")
    extra = ["--file-events", file_events] if file_events is not None else []
    assert main(["replay", "--input", str(events), *extra]) == 0

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers)
    consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
    consumer.seek_to_beginning()
    received: list[bytes] = []
    messages = 0
    for _ in range(50):
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                messages += 1
                received += [orjson.dumps(e) for e in unpack(record.value)[0]]
        if len(received) >= len(lines):
            break
    consumer.close()
    assert sorted(received) == sorted(lines)
    if file_events is None:  # the default packs each commune's events into payment files
        assert messages < len(lines) / 5
    else:
        assert messages == len(lines)
