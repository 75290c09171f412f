"""Ingest in helper processes gives exactly what ingest in the worker gives."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import orjson
import pytest

from streams.domain.ingest import Arrival, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from streams.pipeline.ingest_pool import IngestPool, _split
from tests.conftest import simulate, small_scenario


def test_split_keeps_order_and_balances_bytes() -> None:
    values: list[bytes | None] = [b"a" * 10, b"b" * 10, None, b"c" * 30, b"d" * 5]
    chunks = _split(values, 2)
    assert [v for chunk in chunks for v in chunk] == values
    assert len(chunks) == 2
    assert _split(values, 1) == [values]
    assert _split([b"x"], 4) == [[b"x"]]


def test_the_pseudonymizer_travels_as_its_key() -> None:
    import pickle

    original = Pseudonymizer(b"k" * 32)
    assert pickle.loads(pickle.dumps(original))("012345678901") == original("012345678901")


@pytest.mark.integration
def test_helpers_ingest_exactly_like_the_worker(binh_dinh: Any) -> None:
    generated, _ = simulate(small_scenario(binh_dinh, 200, 20))
    values: list[bytes | None] = [orjson.dumps(e) for e in generated[:3000]]
    values += [b"{not json", None, orjson.dumps({"file_id": 1})]
    pseudonymize, arrival = Pseudonymizer(b"k" * 32), Arrival.at()
    pool = IngestPool(pseudonymize, 2)
    pool.start()
    try:
        helped = asyncio.run(pool.ingest(values, arrival))
    finally:
        pool.stop()
    assert helped == [ingest_message(v, pseudonymize, arrival) for v in values]


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


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
