"""`serve --data-dir D` keeps the embedded service up until Ctrl-C; `replay --data-dir D` and
`verify --data-dir D` find it through D/service.json, while the worker owns the store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import start_serve

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "streams"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "CLICKHOUSE_"))}
    env.pop("PSEUDONYM_KEY", None)
    env.pop("LANGUAGE", None)  # the default language
    return env


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_serve_replay_verify_then_ctrl_c(tmp_path: Path) -> None:
    data_dir = tmp_path / "served"
    serve = start_serve(data_dir, tmp_path / "serve.log", _env())
    try:
        info = json.loads((data_dir / "service.json").read_text())
        assert info["pid"] == serve.pid
        key = data_dir / "pseudonym.key"
        assert key.stat().st_mode & 0o777 == 0o600

        second = subprocess.run(
            [*CLI, "serve", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        )
        assert second.returncode == 1
        # Vietnamese by default.
        assert f"đang được tiến trình {serve.pid} phục vụ" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1

        truth = tmp_path / "truth.json"
        sent = subprocess.run(
            [
                *CLI,
                "replay",
                "--data-dir",
                str(data_dir),
                "--scenario",
                "alerts-drill",
                "--truth",
                str(truth),
                "--malformed",
                "0.01",
                "--duplicates",
                "0.02",
            ],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=300,
        )
        assert sent.returncode == 0, sent.stderr
        verified = subprocess.run(
            [
                *CLI,
                "verify",
                "--data-dir",
                str(data_dir),
                "--truth",
                str(truth),
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=300,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert json.loads(verified.stdout)["status"] == "equal"
        children = _children(serve.pid)
        assert len(children) == 2  # the broker and the worker
    finally:
        serve.send_signal(signal.SIGINT)
        code = serve.wait(60)
    served = (tmp_path / "serve.log").read_text()
    assert code == 0, served
    assert f"đang phục vụ {data_dir}: broker" in served and "trang theo dõi http://" in served
    assert not (data_dir / "service.json").exists()
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_replay_to_a_data_dir_nobody_serves(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "replay", "--data-dir", str(tmp_path), "--input", "x", "--lang", "en"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert result.returncode == 1
    assert "no service is running for" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
