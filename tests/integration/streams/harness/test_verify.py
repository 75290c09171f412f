"""Ops workflow on the real Tansu broker, a real worker process and chDB: `replay --scenario`
sends a simulated scenario with faults while writing its truth; `verify` waits until the
deployment has caught up and exits 0 when every level matches, 1 naming the commune and field
of an altered row, 2 with one line when it cannot tell."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from streams.cli.main import main
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import EmbeddedRun, WorkerHandle, embedded_settings
from streams.replay.kafka_io import LagProbe
from streams.settings import Settings
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from tests.support.names import unique

pytestmark = pytest.mark.integration


def _settings(data_dir: Path, broker: EmbeddedBroker) -> Settings:
    base = Settings(
        _env_file=None,
        app_id=unique("wm"),
        events_topic=unique("events"),
        dead_letter_topic=unique("dlq"),
        alerts_topic=unique("alerts"),
        pseudonym_key=SecretStr("verify-test-key-0123456789"),
    )
    return embedded_settings(base, data_dir, broker.bootstrap_servers)


def _use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    for name in Settings.env_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)


def _wait_caught_up(settings: Settings, worker: WorkerHandle, timeout_s: float = 240) -> None:
    probe = LagProbe(
        settings.kafka_bootstrap_servers, settings.app_id, settings.events_topic, exact_end=True
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            done, end = probe.offsets()
            if end and done >= end:
                return
            assert worker.process is not None and worker.process.poll() is None, worker.log()
            assert time.monotonic() < deadline, f"{done} of {end} after {timeout_s}s"
            time.sleep(0.5)
    finally:
        probe.close()


def test_replay_scenario_then_verify(
    broker: EmbeddedBroker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir = tmp_path / "data"
    settings = _settings(data_dir, broker)
    _use(monkeypatch, settings)
    truth_path = tmp_path / "truth.json"
    assert (
        main(
            [
                "replay",
                "--scenario",
                "alerts-drill",
                "--seed",
                "3",
                "--truth",
                str(truth_path),
                "--duplicates",
                "0.05",
                "--out-of-order",
                "0.05",
                "--malformed",
                "0.01",
            ]
        )
        == 0
    )
    truth = json.loads(truth_path.read_text())
    assert sum(truth["malformed_by_class"].values()) > 0
    replayed = capsys.readouterr().out  # Vietnamese by default
    assert "đã ghi số liệu gốc vào" in replayed and re.search(
        r"đã gửi lại [\d.]+ sự kiện", replayed
    )

    worker = WorkerHandle(settings, EmbeddedRun(data_dir))
    worker.start()
    try:
        _wait_caught_up(settings, worker)
    finally:
        worker.stop()  # chDB allows one process per data dir: verify reads after the worker

    # Server-mode settings: the group's lag on the broker, then the store.
    assert main(["verify", "--truth", str(truth_path), "--timeout", "60"]) == 0
    equal = capsys.readouterr().out  # Vietnamese by default, with Vietnamese number formats
    totals = truth["totals"]
    cashless, due = totals["beneficiaries_paid_cashless"], totals["beneficiaries_due"]
    assert equal.startswith("khớp: ")
    assert f"{cashless:,} / {due:,} (".replace(",", ".") in equal.replace("\n", " ")
    assert re.search(r"\(\d+,\d\d%\)", equal)
    # The data dir's worker is stopped and nobody serves it: that cannot tell, in one line.
    assert main(["verify", "--truth", str(truth_path), "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"chưa thể kết luận: không có dịch vụ nào đang chạy cho {data_dir}; "
        f"hãy khởi động bằng `welfare-monitor serve --data-dir {data_dir}`"
    )
    offline = ["verify", "--truth", str(truth_path), "--data-dir", str(data_dir), "--offline"]
    assert main([*offline, "--format", "json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["status"] == "equal" and verdict["differences"] == []

    # One statistics row altered: a newer version of a commune's row with one more due.
    store = ClickHouseStore(chdb_dsn(settings.chdb_path), settings.clickhouse_database)
    store.open()
    try:
        row = store.query(
            "SELECT * FROM commune_programme_stats FINAL "
            "ORDER BY commune_code, programme, period LIMIT 1"
        )[0]
        store.insert(
            "commune_programme_stats",
            [
                row
                | {"beneficiaries_due": row["beneficiaries_due"] + 1, "version": row["version"] + 1}
            ],
        )
    finally:
        store.close()
    assert main([*offline, "--format", "json"]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["status"] == "different"
    commune_level = [d for d in verdict["differences"] if d["level"] == "communes"]
    assert commune_level == [
        {
            "level": "communes",
            "key": str((row["period"], row["province_code"], row["commune_code"])),
            "field": "beneficiaries_due",
            "expected": row_due_in_truth(truth, row),
            "found": row_due_in_truth(truth, row) + 1,
        }
    ]
    assert main(offline) == 1
    table = capsys.readouterr().out
    assert str(row["commune_code"]) in table and "beneficiaries_due" in table
    assert "chỗ khác với số liệu gốc" in table and "giá trị đúng" in table

    # Cannot tell: no data there, or the broker is gone.
    assert (
        main(
            [
                "verify",
                "--truth",
                str(truth_path),
                "--data-dir",
                str(tmp_path / "nothing"),
                "--offline",
                "--lang",
                "en",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("cannot tell:") and len(err.strip().splitlines()) == 1
    assert "holds no chDB data" in err
    broker.stop()
    assert main(["verify", "--truth", str(truth_path), "--timeout", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chưa thể kết luận:") and "Traceback" not in err


def row_due_in_truth(truth: dict[str, object], row: dict[str, object]) -> int:
    """The truth's commune-level due for the altered row's commune and period."""
    communes = truth["communes"]
    assert isinstance(communes, list)
    return int(
        next(
            r["beneficiaries_due"]
            for r in communes
            if r["period"] == row["period"] and r["commune_code"] == row["commune_code"]
        )
    )


def test_verify_with_an_unreadable_truth_cannot_tell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "t.json"
    bad.write_text("{}")
    assert main(["verify", "--truth", str(bad), "--data-dir", str(tmp_path), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "is not a truth file" in err and len(err.strip().splitlines()) == 1
    assert main(["verify", "--truth", str(bad), "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "không phải tệp số liệu gốc" in err and len(err.strip().splitlines()) == 1


def test_replay_needs_input_or_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--lang", "en"]) == 1
    assert "replay needs --input FILE or --scenario NAME" in capsys.readouterr().err
    assert main(["replay", "--input", "x.jsonl", "--truth", "t.json"]) == 1
    assert "lỗi: --truth và các cờ gây lỗi chỉ dùng cùng --scenario" in capsys.readouterr().err
