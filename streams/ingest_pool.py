"""Ingest on another core: decoding, validation and pseudonymisation in helper processes.

Ingest is a pure function of the message bytes, the pseudonym key and the arrival time, so
it can run in other processes while the agent merges the previous results: the agent
submits a batch's messages in chunks and consumes the results in order. What comes back is
small: a payment fact (a tuple) per payment event, the validated event for the rare other
types, and (index, class, reason) for each rejection, never the citizen ID.

With `INGEST_PROCESSES=0` the same function runs in the worker itself.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from streams.ingest import Arrival, Ingested, PaymentFact, Rejected, ingest_event, unpack
from streams.pseudonym import Pseudonymizer

CHUNK_BYTES = 512 * 1024  # messages per task: enough to amortise the round trip


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event (index in its file, 0 for a whole message) that cannot be ingested."""

    index: int
    error_class: str
    reason: str


# Per message: how many events it held, and what each became.
MessageResult = tuple[int, list[PaymentFact | Ingested | Rejection]]

_pseudonymize: Pseudonymizer | None = None


def _init_helper(key: bytes) -> None:
    global _pseudonymize
    _pseudonymize = Pseudonymizer(key)


def ingest_messages(
    values: Sequence[bytes | None], arrival: Arrival, pseudonymize: Pseudonymizer | None = None
) -> list[MessageResult]:
    """Ingest each message: payment facts, other events, rejections, in order."""
    pseudonymize = pseudonymize or _pseudonymize
    if pseudonymize is None:
        raise RuntimeError("ingest helper started without a pseudonym key")
    results: list[MessageResult] = []
    for value in values:
        try:
            items, is_file = unpack(value)
        except Rejected as rejected:
            results.append((1, [Rejection(0, rejected.error_class, rejected.reason)]))
            continue
        out: list[PaymentFact | Ingested | Rejection] = []
        for index, item in enumerate(items, start=1 if is_file else 0):
            try:
                ingested = ingest_event(item, pseudonymize, arrival)
            except Rejected as rejected:
                out.append(Rejection(index, rejected.error_class, rejected.reason))
                continue
            fact = ingested.payment_fact()
            out.append(fact if fact is not None else ingested)
        results.append((len(items), out))
    return results


class IngestPool:
    """Helper processes for ingest; `start` spawns them, `close` stops them."""

    def __init__(self, processes: int, pseudonymize: Pseudonymizer, key: bytes) -> None:
        self.processes = processes
        self.pseudonymize = pseudonymize
        self._key = key
        self._executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Spawn the helpers (none when `processes` is 0)."""
        if self.processes > 0 and self._executor is None:
            # spawn, not fork: the worker has threads (Faust's consumer) by now.
            self._executor = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_helper, initargs=(self._key,))

    def close(self) -> None:
        """Stop the helpers."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def submit(self, values: list[bytes | None], arrival: Arrival) -> list[asyncio.Future[Any]]:
        """Futures of the results, one per chunk of `values`, in order."""
        chunks: list[list[bytes | None]] = [[]]
        size = 0
        for value in values:
            if size >= CHUNK_BYTES:
                chunks.append([])
                size = 0
            chunks[-1].append(value)
            size += len(value or b"") + 64
        loop = asyncio.get_running_loop()
        if self._executor is None:
            futures = []
            for chunk in chunks:
                done: asyncio.Future[Any] = loop.create_future()
                done.set_result(ingest_messages(chunk, arrival, self.pseudonymize))
                futures.append(done)
            return futures
        return [asyncio.wrap_future(self._submit(chunk, arrival), loop=loop) for chunk in chunks]

    def _submit(self, chunk: list[bytes | None], arrival: Arrival) -> Future[Any]:
        assert self._executor is not None
        return self._executor.submit(ingest_messages, chunk, arrival)
