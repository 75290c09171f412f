"""Ctrl-C during an embedded run stops the broker and the worker: no orphan process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulators.generator import PaymentCycle
from simulators.jsonl import write_jsonl
from tests.support.processes import children_of
from tests.support.scenarios import small_scenario

pytestmark = pytest.mark.integration


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigint_mid_run_leaves_no_child_behind(tmp_path: Path, binh_dinh: object) -> None:
    events = tmp_path / "events.jsonl"
    with events.open("wb") as f:
        write_jsonl(PaymentCycle(small_scenario(binh_dinh, 20_000, 10)).events(), f)  # type: ignore[arg-type]
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streams",
            "run",
            "--input",
            str(events),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "APP_ID": f"sigint-{tmp_path.name}"},
    )
    deadline = time.monotonic() + 60
    children: set[int] = set()
    while len(children) < 2 and time.monotonic() < deadline:  # broker and worker
        children |= children_of(cli.pid)
        time.sleep(0.2)
    assert len(children) >= 2, "the run never started its broker and worker"
    time.sleep(2)
    cli.send_signal(signal.SIGINT)
    _, err = cli.communicate(timeout=60)
    assert cli.returncode == 130, err.decode()
    assert b"Traceback" not in err
    time.sleep(0.5)
    assert [pid for pid in children if alive(pid)] == []
