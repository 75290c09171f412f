"""Processes as the tests see them, read from /proc on their own (not through the code under
test: `streams.harness.bench` has its own reading, for its measurements)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def children_of(pid: int) -> set[int]:
    """Direct children of `pid`, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def start_serve(
    data_dir: Path, log_path: Path, env: dict[str, str], *args: str, timeout_s: float = 180.0
) -> subprocess.Popen[bytes]:
    """`welfare-monitor serve --data-dir DATA_DIR [ARGS]` as a child process, returned once it
    has written its service.json; fails the test with its log if it exits or takes too long."""
    with log_path.open("wb") as log:
        serve = subprocess.Popen(
            [sys.executable, "-m", "streams", "serve", "--data-dir", str(data_dir), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + timeout_s
    while not (data_dir / "service.json").exists():
        if serve.poll() is not None or time.monotonic() > deadline:
            serve.kill()
            serve.wait()
            raise AssertionError(f"serve did not come up:\n{log_path.read_text()}")
        time.sleep(0.5)
    return serve
