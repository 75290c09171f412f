"""Ingest helper processes die with a worker killed with -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.integration
def test_helpers_die_with_a_killed_worker(tmp_path: Any) -> None:
    # A stand-in worker: starts a pool, waits until every helper has started (each holds one
    # rendezvous task until all have arrived, so no helper can take two), reports their pids,
    # then waits to be killed. Without the rendezvous one helper sometimes ran both chunks of
    # the ingest (2 runs in 20) while the other was still starting, so the test measured that
    # helper's start-up under load rather than its death with the worker.
    script = textwrap.dedent("""
        import asyncio, os, sys, time
        from streams.domain.ingest import Arrival
        from streams.pipeline.ingest_pool import IngestPool
        from streams.domain.pseudonym import Pseudonymizer

        def arrive(directory, helpers):
            open(os.path.join(directory, str(os.getpid())), "w").close()
            deadline = time.monotonic() + 120
            while len(os.listdir(directory)) < helpers and time.monotonic() < deadline:
                time.sleep(0.02)
            return os.getpid()

        if __name__ == "__main__":
            pool = IngestPool(Pseudonymizer(b"k" * 32), 2)
            pool.start()
            asyncio.run(pool.ingest([b"{}", b"{}"], Arrival.at()))
            tasks = [pool._executor.submit(arrive, sys.argv[1], 2) for _ in range(2)]
            assert len({task.result() for task in tasks}) == 2
            print(*pool._executor._processes, flush=True)
            sys.stdin.read()
    """)
    path = tmp_path / "worker.py"
    path.write_text(script)
    arrivals = tmp_path / "arrivals"
    arrivals.mkdir()
    worker = subprocess.Popen(
        [sys.executable, str(path), str(arrivals)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=os.getcwd(),
    )
    assert worker.stdout is not None
    helpers = [int(pid) for pid in worker.stdout.readline().split()]
    assert helpers
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in helpers):
        time.sleep(0.1)
    left = [pid for pid in helpers if _alive(pid)]
    for pid in left:  # do not leave them behind when the assertion fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
