"""Ingest (decode, validate, pseudonymise) in helper processes, beside the worker's loop.

Ingest was a third of the worker's time and needs no state, so it runs in helper
processes while the worker merges the previous batch into its tables: the agent hands a
batch's raw values to `IngestPool.ingest` as soon as the batch is taken, and awaits the
results only when it is the batch's turn (see `streams.pipeline.agent`).

The helpers get the pseudonym key once, through the pool's pipe (never argv or the
environment), ignore SIGINT (the worker shuts them down), and die with the worker
(PR_SET_PDEATHSIG), so a kill -9 leaves no helper behind.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from streams.domain.ingest import Arrival, MessageResult, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from streams.errors import IngestHelperFailed
from streams.processes import die_with_parent

_pseudonymize: Pseudonymizer | None = None


def _start_helper(
    pseudonymize: Pseudonymizer, parent: int, gc_thresholds: tuple[int, int, int]
) -> None:
    global _pseudonymize
    die_with_parent(parent, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.set_threshold(*gc_thresholds)
    _pseudonymize = pseudonymize


def _ingest_chunk(values: list[bytes | None], arrival: Arrival) -> list[MessageResult]:
    if _pseudonymize is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("ingest helper started without its pseudonymizer")
    return [ingest_message(value, _pseudonymize, arrival) for value in values]


class IngestPool:
    """`processes` helper processes, or ingest in-line when 0. Start before use."""

    def __init__(
        self,
        pseudonymize: Pseudonymizer,
        processes: int,
        gc_thresholds: tuple[int, int, int] = (700, 10, 10),
    ) -> None:
        self.pseudonymize = pseudonymize
        self.processes = processes
        self.gc_thresholds = gc_thresholds
        self._executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the helpers (spawned: the worker has threads, so no fork)."""
        if self.processes and self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_helper,
                initargs=(self.pseudonymize, os.getpid(), self.gc_thresholds),
            )

    def stop(self) -> None:
        """Stop the helpers; work not yet started is dropped (its batch is not acked)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    async def ingest(self, values: Sequence[bytes | None], arrival: Arrival) -> list[MessageResult]:
        """What each message became, in order."""
        if self._executor is None:
            return [ingest_message(value, self.pseudonymize, arrival) for value in values]
        loop = asyncio.get_running_loop()
        chunks = _split(list(values), self.processes)
        try:
            parts = await asyncio.gather(
                *(
                    loop.run_in_executor(self._executor, _ingest_chunk, chunk, arrival)
                    for chunk in chunks
                )
            )
        except BrokenProcessPool as e:
            raise IngestHelperFailed(
                "an ingest helper process died; restart the worker (the batch is read "
                "again) and check the machine's memory"
            ) from e
        return [result for part in parts for result in part]


def _split(values: list[bytes | None], parts: int) -> list[list[bytes | None]]:
    """`values` in at most `parts` contiguous chunks of about equal bytes."""
    if parts <= 1 or len(values) <= 1:
        return [values]
    target = sum(len(v or b"") for v in values) / parts
    chunks: list[list[bytes | None]] = [[]]
    size = 0
    for value in values:
        if size >= target and len(chunks) < parts:
            chunks.append([])
            size = 0
        chunks[-1].append(value)
        size += len(value or b"")
    return chunks
