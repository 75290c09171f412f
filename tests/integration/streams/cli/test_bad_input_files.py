"""`welfare-monitor run` on bad input files, through the real broker, worker and chDB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from simulators.scenario import load_scenario
from streams.cli.main import _data_dir_settings, main
from streams.storage import open_store
from tests.support.scenarios import simulate, small_scenario

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ID", f"cli-{tmp_path.name}")
    monkeypatch.setenv("PSEUDONYM_KEY", "bad-input-test-key-0123456789")


def test_a_10_mb_line_is_dead_lettered_and_the_rest_goes_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cli_env: None
) -> None:
    simulated, cycle = simulate(small_scenario(load_scenario("binh-dinh-2023-06"), 40, 10))
    events: list[Any] = simulated
    cccd = next(str(e["payload"]["citizen_id"]) for e in events if "citizen_id" in e["payload"])
    big = orjson.dumps(
        {
            "event_type": "payment.scheduled",
            "payload": {"citizen_id": cccd, "note": "x" * (10 * 1024 * 1024)},
        }
    )
    lines = [orjson.dumps(e) for e in events]
    lines.insert(5, big)  # line 6
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    data_dir = tmp_path / "data"
    code = main(
        [
            "run",
            "--input",
            str(path),
            "--format",
            "json",
            "--level",
            "nation",
            "--data-dir",
            str(data_dir),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err and "MessageSizeTooLarge" not in captured.err
    (nation,) = [json.loads(line) for line in captured.out.splitlines()]
    truth = cycle.truth.to_json()["totals"]
    assert nation["beneficiaries_due"] == truth["beneficiaries_due"]
    assert nation["beneficiaries_paid_cashless"] == truth["beneficiaries_paid_cashless"]
    store = open_store(_data_dir_settings(data_dir))
    try:
        dead = store.query("SELECT error_class, reason FROM dead_letters FINAL")
    finally:
        store.close()
    assert [r["error_class"] for r in dead] == ["oversize"]
    assert dead[0]["reason"].startswith("input line 6: ")
    assert cccd not in repr(dead)


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_file_without_events_says_so_with_the_dead_letter_counts(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], cli_env: None
) -> None:
    path = tmp_path / "payments.csv"
    path.write_bytes(b"citizen_id,amount\n079203012345,500000\n\x00\x9f\xff binary\n")
    # The table in the default language (Vietnamese), the JSON run with --lang en.
    lang = ["--lang", "en"] if fmt == "json" else []
    code = main(["run", "--input", str(path), "--format", fmt, *lang])
    captured = capsys.readouterr()
    assert code == 1
    (line,) = captured.err.strip().splitlines()[-1:]
    if fmt == "json":
        assert f"no line of {path} is an event" in line
    else:
        assert line.startswith(f"lỗi: không dòng nào của {path} là sự kiện")
    assert "bad_json: 2" in line and "invalid_utf8: 1" in line
    if fmt == "json":
        (row,) = [json.loads(out) for out in captured.out.splitlines()]
        assert row == {
            "error": "no_events",
            "input": str(path),
            "lines": 3,
            "dead_letters": {"bad_json": 2, "invalid_utf8": 1},
        }
    assert "079203012345" not in captured.out + captured.err
