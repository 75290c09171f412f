"""The worker processes of an embedded data dir (`run`/`serve --workers N`, docs/workers.md).

chDB allows one process per data directory, so with N > 1 the data dir gets N *ingest
workers* (one consumer group, `app_id`, on the events topic: validate, pseudonymise,
dead-letter, forward to the accepted topic) and one *store agent* (its own group,
`Settings.store_group`, on the accepted topic: ledger, rows, alerts, live page). With N = 1
it is the single worker of role `all`, as before.

A group is stored up to a point when the ingest group's committed offsets reach it on the
events topic (every forward of those messages is then in the accepted topic: an ingest
worker acknowledges a message only after the broker confirmed its forwards) and the store
group's committed offsets reach the accepted topic's log end.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from schemas.i18n import _
from streams.errors import PipelineError
from streams.harness.embedded import EmbeddedRun, WorkerHandle
from streams.replay.kafka_io import LagProbe
from streams.settings import Settings


class WorkerGroup:
    """One worker, or N ingest workers and one store agent; start, kill, add, stop, wait."""

    def __init__(self, settings: Settings, paths: EmbeddedRun, workers: int | None = None) -> None:
        self.settings = settings
        self.paths = paths
        self.workers = workers or settings.embedded_workers
        self.ingest: list[WorkerHandle] = []
        self._made = 0
        self._store_probe: LagProbe | None = None
        self._events_probe: LagProbe | None = None
        if self.workers == 1:
            self.store = WorkerHandle(settings, paths)
            return
        store = settings.model_copy(
            update={"worker_role": "store", "faust_datadir": paths.data_dir / "faust" / "store"}
        )
        self.store = WorkerHandle(store, paths, paths.data_dir / "logs" / "store.log")
        self.ingest = [self._ingest_worker() for _ in range(self.workers)]

    @property
    def split(self) -> bool:
        """Whether ingest and store run in separate processes."""
        return self.workers > 1

    @property
    def handles(self) -> list[WorkerHandle]:
        """Every worker process, the store (or the single worker) first."""
        return [self.store, *self.ingest]

    def _ingest_worker(self) -> WorkerHandle:
        self._made += 1
        settings = self.settings.model_copy(
            update={
                "worker_role": "ingest",
                "web_enabled": False,
                "faust_datadir": self.paths.data_dir / "faust" / f"ingest-{self._made}",
            }
        )
        return WorkerHandle(
            settings, self.paths, self.paths.data_dir / "logs" / f"ingest-{self._made}.log"
        )

    def start(self) -> None:
        """Start every process (the store first: it applies the migrations)."""
        for handle in self.handles:
            handle.start()

    def add(self) -> WorkerHandle:
        """Start one more ingest worker: it joins the group (a rebalance)."""
        if not self.split:
            raise PipelineError(
                _("a single worker owns the store: start with --workers 2 or more to add workers")
            )
        handle = self._ingest_worker()
        self.ingest.append(handle)
        handle.start()
        return handle

    def leave(self, handle: WorkerHandle) -> None:
        """Stop an ingest worker for good (SIGTERM: it leaves the group cleanly)."""
        handle.stop()
        self.ingest.remove(handle)

    def dead(self) -> list[WorkerHandle]:
        """Processes that were started and have exited."""
        return [h for h in self.handles if h.process is not None and h.process.poll() is not None]

    def log(self, lines: int = 30) -> str:
        """The end of each dead process's log (or the store's), citizen IDs masked."""
        return "\n".join(f"{h.log_path}:\n{h.log(lines)}" for h in self.dead() or [self.store])

    def committed(self) -> int:
        """Messages of the events topic the ingest group (or the single worker) committed."""
        if not self.split:
            return self.store.committed()
        if self._events_probe is None:
            s = self.settings
            self._events_probe = LagProbe(s.kafka_bootstrap_servers, s.app_id, s.events_topic)
        return self._events_probe.offsets()[0]

    def store_lag(self) -> int:
        """Forwards on the accepted topic the store agent has not committed (0 with one
        worker)."""
        if not self.split:
            return 0
        if self._store_probe is None:
            s = self.settings
            self._store_probe = LagProbe(
                s.kafka_bootstrap_servers,
                s.store_group,
                s.accepted_topic,
                exact_end=s.broker_exact_end_offsets,
            )
        done, end = self._store_probe.offsets()
        return max(0, end - done)

    def wait_until(
        self,
        condition: Callable[[int], bool],
        on_progress: Callable[[int], None] | None = None,
        stall_timeout_s: float = 180.0,
        poll_s: float = 0.2,
    ) -> int:
        """Poll until `condition` holds for the events topic's committed offsets and the
        store agent has caught up with the accepted topic; PipelineError when a process
        exits or nothing moves for `stall_timeout_s`."""
        last, last_change = (-1, -1), time.monotonic()
        while True:
            if self.dead():
                codes = ", ".join(str(h.process.returncode) for h in self.dead() if h.process)
                raise PipelineError(
                    f"a worker exited with code {codes}; last log lines:\n{self.log()}"
                )
            done = self.committed()
            if on_progress is not None:
                on_progress(done)
            waiting = self.store_lag() if condition(done) else -1
            if waiting == 0:
                return done
            if (done, waiting) != last:
                last, last_change = (done, waiting), time.monotonic()
            elif time.monotonic() - last_change > stall_timeout_s:
                raise PipelineError(
                    f"no progress for {stall_timeout_s:.0f}s ({done} messages processed); "
                    f"see {self.paths.data_dir / 'logs'}"
                )
            time.sleep(poll_s)

    def stop(self) -> None:
        """Stop the ingest workers, then the store agent, and close the probes."""
        for handle in [*self.ingest, self.store]:
            handle.stop()
        for probe in (self._store_probe, self._events_probe):
            if probe is not None:
                probe.close()
        self._store_probe = self._events_probe = None
