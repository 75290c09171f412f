"""The worker's web pages: the live page at `/` and the JSON API behind it.

In embedded mode only the worker may open the chDB directory, so the worker serves them
(on Faust's web server, WEB_ENABLED / WEB_HOST / WEB_PORT).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import faust
from faust.web import Request, Response, View

from streams.errors import InputError, StorageError
from streams.live_data import PageParams, run_panel, snapshot
from streams.live_page import render_page
from streams.queries import read_results
from streams.storage.base import Store

log = logging.getLogger(__name__)


def register_live_page(app: faust.App, store: Store) -> None:
    """Serve `/`, `/api/snapshot`, `/api/panel/{key}` and `/api/results` from `store`."""

    def failure(view: View, e: Exception) -> Response:
        if isinstance(e, InputError):
            return view.json({"error": str(e)}, status=400)
        log.warning("live page query failed: %s", e)
        return view.json({"error": "the store is unavailable; retry shortly"}, status=503)

    @app.page("/")
    class Index(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            return self.html(render_page(None, live=True))

    @app.page("/api/snapshot")
    class Snapshot(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            try:
                return self.json(snapshot(store, PageParams.parse(request.query)))
            except (InputError, StorageError) as e:
                return failure(self, e)

    @app.page("/api/panel/{key}")
    class Panel(View):
        async def get(self, request: Request, key: str = "", **kwargs: Any) -> Response:
            try:
                return self.json({"key": key, "rows": run_panel(
                    store, key, PageParams.parse(request.query))})
            except (InputError, StorageError) as e:
                return failure(self, e)

    @app.page("/api/results")
    class AllResults(View):
        """Every level of figures (`streams.queries.Results`), for `verify` and the test kit."""

        async def get(self, request: Request, **kwargs: Any) -> Response:
            try:
                return self.json(dataclasses.asdict(read_results(store)))
            except StorageError as e:
                return failure(self, e)
