"""Run the Faust worker: open the store (and migrate when asked), then process until stopped."""

from __future__ import annotations

import gc
import logging

import faust

from streams import faust_ext
from streams.domain.pseudonym import Pseudonymizer
from streams.errors import ConfigurationError
from streams.pipeline.app import create_app
from streams.pipeline.ingest_pool import IngestPool
from streams.pipeline.roles import (
    register_ingest_agent,
    register_payments_agent,
    register_store_agent,
)
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.migrate import migrate
from streams.storage.sink import ClickHouseSink
from streams.web.views import register_live_page

log = logging.getLogger(__name__)


def pseudonymizer_from(settings: Settings) -> Pseudonymizer:
    """The worker's pseudonymizer; refuses to run without a key of at least 16 bytes."""
    if settings.pseudonym_key is None:
        raise ConfigurationError(
            "PSEUDONYM_KEY is not set: the worker will not read citizen IDs without a key. "
            "Set it to a secret of at least 16 characters (e.g. `openssl rand -hex 32`)."
        )
    key = settings.pseudonym_key.get_secret_value().encode()
    if len(key) < 16:
        raise ConfigurationError("PSEUDONYM_KEY must be at least 16 characters long")
    return Pseudonymizer(key)


def run_worker(settings: Settings, *, apply_migrations: bool = False) -> None:
    """Start the worker in its role (`WORKER_ROLE`, streams/pipeline/roles.py) and block until
    it is stopped (SIGTERM or SIGINT). An ingest worker never opens the store."""
    faust_ext.check_versions()  # before anything is opened: a clear refusal, nothing to undo
    gc.set_threshold(*settings.worker_gc_thresholds)
    pool: IngestPool | None
    if settings.worker_role == "ingest":
        pool = IngestPool(
            pseudonymizer_from(settings), settings.ingest_processes, settings.worker_gc_thresholds
        )
        app = create_app(settings)
        register_ingest_agent(app, settings, pool)
        _execute(settings, pool, app)
        return
    pseudonymize = pseudonymizer_from(settings) if settings.worker_role == "all" else None
    store = open_store(settings)
    try:
        if apply_migrations:
            migrate(store)
        pool = None
        if pseudonymize is None:  # the store agent: a consumer group of its own
            app = create_app(settings.model_copy(update={"app_id": settings.store_group}))
            register_store_agent(app, settings, ClickHouseSink(store))
        else:
            app = create_app(settings)
            pool = IngestPool(
                pseudonymize, settings.ingest_processes, settings.worker_gc_thresholds
            )
            register_payments_agent(app, settings, ClickHouseSink(store), pool)
        if settings.web_enabled:
            register_live_page(app, store, settings.language)
        _execute(settings, pool, app)
    finally:
        store.close()


def _execute(settings: Settings, pool: IngestPool | None, app: faust.App) -> None:
    """Run the Faust worker of `app` (the one app of this process) until it stops."""
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True)
    # Faust's console spinner sets the root logger to DEBUG so it can spin on every
    # record: each debug call in Faust and aiokafka then built a record (~5% of the
    # worker's time on a national replay), for a spinner nobody sees in a service.
    worker.spinner = None
    # Faust warns each time its send buffer passes 100 messages, then flushes it: normal
    # under load, and thousands of lines per run.
    logging.getLogger("faust.transport.producer").setLevel(logging.ERROR)
    if pool is not None:
        pool.start()
    try:
        worker.execute_from_commandline()
    finally:
        if pool is not None:
            pool.stop()
