"""The embedded service: a broker, a worker and its live page kept up for a data dir.

`welfare-monitor serve --data-dir D` runs one until Ctrl-C; the test kit
(`streams.harness.testing`) runs one per test. While it runs, `D/service.json` tells other commands
where it is: `replay --data-dir D` sends to its broker, `verify --data-dir D` asks its worker
for the figures (only the worker may open the chDB directory while it runs).

The pseudonym key of a served data dir is kept in `D/pseudonym.key` (mode 0600) unless
PSEUDONYM_KEY is set, so pseudonyms stay the same across restarts (`embedded_settings`).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from schemas.i18n import _
from streams.errors import PipelineError, WelfareMonitorError
from streams.harness.broker import EmbeddedBroker, port_in_use
from streams.harness.embedded import EmbeddedRun, embedded_settings
from streams.harness.workers import WorkerGroup
from streams.replay.kafka_io import ensure_topics
from streams.settings import Settings
from streams.storage.queries import Results

SERVICE_FILE = "service.json"
MAX_WORKER_RESTARTS = 5
READY_TIMEOUT_S = 180.0


class ServiceNotRunning(WelfareMonitorError):
    """No embedded service answers for that data dir."""


@dataclass(frozen=True)
class ServiceInfo:
    """What `service.json` says about a running embedded service."""

    pid: int
    bootstrap_servers: str
    web_url: str
    events_topic: str
    app_id: str
    started_at: str

    @classmethod
    def read(cls, data_dir: Path) -> ServiceInfo | None:
        """The running service of `data_dir`, or None (no file, or its process is gone)."""
        try:
            raw = json.loads((data_dir / SERVICE_FILE).read_text(encoding="utf-8"))
            info = cls(**raw)
        except (OSError, ValueError, TypeError):
            return None
        try:
            os.kill(info.pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return info


def fetch_results(web_url: str, timeout_s: float = 30.0) -> Results:
    """Every level of figures, asked of a running worker's `/api/results`."""
    try:
        with urllib.request.urlopen(f"{web_url.rstrip('/')}/api/results", timeout=timeout_s) as r:
            body = json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise ServiceNotRunning(
            _("the worker at {url} does not answer: {reason}").format(url=web_url, reason=e)
        ) from e
    return Results(**body)


class RunningBroker(Protocol):
    """A broker someone else runs (a test's Apache Kafka): only its address is used."""

    @property
    def bootstrap_servers(self) -> str: ...


class EmbeddedService:
    """Broker, workers (`EMBEDDED_WORKERS`, streams/harness/workers.py) and live page for one data
    dir; a context manager. With `broker`, that running broker is used and left running."""

    def __init__(
        self, data_dir: Path, base: Settings | None = None, broker: RunningBroker | None = None
    ) -> None:
        self.data_dir = data_dir
        self.base = base or Settings()
        self.paths = EmbeddedRun(data_dir)
        self.broker: EmbeddedBroker | None = None
        self.external_broker = broker
        self.workers: WorkerGroup | None = None
        self.settings: Settings | None = None
        self.worker_restarts = 0

    @property
    def web_url(self) -> str:
        """The live page of the running worker."""
        if self.settings is None:
            raise ServiceNotRunning(_("the service is not started"))
        return f"http://{self.settings.web_host}:{self.settings.web_port}"

    def start(self) -> Settings:
        """Start the broker and the worker, and announce them in `service.json`."""
        running = ServiceInfo.read(self.data_dir)
        if running is not None:
            raise PipelineError(
                _(
                    "{data_dir} is already served by process {pid} (broker {broker}); stop it first"
                ).format(data_dir=self.data_dir, pid=running.pid, broker=running.bootstrap_servers)
            )
        self.paths.worker_log.parent.mkdir(parents=True, exist_ok=True)
        base = self.base  # without PSEUDONYM_KEY, embedded_settings uses the data dir's key
        if self.external_broker is not None:
            bootstrap = self.external_broker.bootstrap_servers
        else:
            self.broker = EmbeddedBroker(self.paths.broker_log)
            self.broker.start()
            bootstrap = self.broker.bootstrap_servers
        settings = embedded_settings(base, self.data_dir, bootstrap)
        self.settings = settings
        ensure_topics(settings.kafka_bootstrap_servers, settings.topic_layout())
        self.workers = WorkerGroup(settings, self.paths)
        self.workers.start()
        self._wait_ready(settings)
        info = ServiceInfo(
            os.getpid(),
            settings.kafka_bootstrap_servers,
            self.web_url,
            settings.events_topic,
            settings.app_id,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        (self.data_dir / SERVICE_FILE).write_text(
            json.dumps(info.__dict__, indent=2) + "\n", encoding="utf-8"
        )
        return settings

    def _wait_ready(self, settings: Settings, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Wait until the worker's web server answers (it starts after the worker joined)."""
        deadline = time.monotonic() + timeout_s
        workers = self.workers
        while not port_in_use(settings.web_host, settings.web_port):
            if workers is None or workers.dead():
                log = workers.log() if workers is not None else ""
                raise PipelineError(
                    _("the worker exited while starting; last log lines:") + f"\n{log}"
                )
            if time.monotonic() > deadline:
                raise PipelineError(
                    _("the worker did not answer within {seconds} s; see {log}").format(
                        seconds=f"{timeout_s:.0f}", log=self.paths.worker_log
                    )
                )
            time.sleep(0.2)

    def supervise(self) -> None:
        """Restart the workers that died (MAX_WORKER_RESTARTS per worker process, in all)."""
        if self.workers is None:
            return
        for worker in self.workers.dead():
            if self.worker_restarts >= MAX_WORKER_RESTARTS * len(self.workers.handles):
                raise PipelineError(
                    _("the worker died {n} times; last log lines:").format(n=self.worker_restarts)
                    + f"\n{worker.log()}"
                )
            self.worker_restarts += 1
            worker.start()

    def results(self) -> Results:
        """The figures as the worker reads them from the store right now."""
        return fetch_results(self.web_url)

    def stop(self) -> None:
        """Stop the worker, then the broker; remove `service.json` (idempotent)."""
        try:
            if self.workers is not None:
                self.workers.stop()
        finally:
            if self.broker is not None:
                self.broker.stop()
            mine = ServiceInfo.read(self.data_dir)
            if mine is not None and mine.pid == os.getpid():
                (self.data_dir / SERVICE_FILE).unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedService:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def describe(info: ServiceInfo | Any) -> str:
    """One line for people: where the service is."""
    return _("broker {broker}, live page {url}/, events topic {topic}").format(
        broker=info.bootstrap_servers, url=info.web_url, topic=info.events_topic
    )
