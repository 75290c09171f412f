"""The worker's web pages: the live page at `/` and the JSON API behind it.

In embedded mode only the worker may open the chDB directory, so the worker serves them
(on Faust's web server, WEB_ENABLED / WEB_HOST / WEB_PORT). The page is rendered here, in the
language of its `lang` parameter (default: the LANGUAGE setting); `/fragment` is the same
rendering without the page around it, which the page fetches every second. The JSON API is
language-neutral.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import faust
from faust.web import Request, Response, View

from schemas.i18n import Lang, parse_language
from streams.errors import InputError, StorageError
from streams.storage.base import Store
from streams.storage.queries import read_results
from streams.web.live_data import PageParams, run_panel, snapshot
from streams.web.live_page import render_content, render_page

log = logging.getLogger(__name__)


def page_language(query: Mapping[str, str], default: str) -> tuple[Lang, dict[str, str]]:
    """The page's language and its other parameters; InputError for an unknown language."""
    rest = {k: v for k, v in query.items() if k != "lang"}
    try:
        return Lang(parse_language(query.get("lang") or default)), rest
    except ValueError as e:
        raise InputError(str(e)) from e


def register_live_page(app: faust.App, store: Store, language: str = "vi") -> None:
    """Serve `/`, `/fragment`, `/api/snapshot`, `/api/panel/{key}` and `/api/results`."""

    def failure(view: View, e: Exception) -> Response:
        if isinstance(e, InputError):
            return view.json({"error": str(e)}, status=400)
        log.warning("live page query failed: %s", e)
        return view.json({"error": "the store is unavailable; retry shortly"}, status=503)

    def rendered(request: Request, whole: bool) -> tuple[str, int]:
        try:
            lang, query = page_language(request.query, language)
            params = PageParams.parse(query)
        except InputError as e:
            return str(e), 400
        try:
            data: dict[str, Any] | None = snapshot(store, params)
        except StorageError as e:
            log.warning("live page query failed: %s", e)
            data = None  # the page still comes up; the next refresh fills it
        if whole:
            return render_page(data, live=True, lang=lang, query=query), 200
        return render_content(data, lang, live=True, query=query), 200

    @app.page("/")
    class Index(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            text, status = rendered(request, whole=True)
            if status != 200:
                return self.text(text, status=status)
            return self.html(text)

    @app.page("/fragment")
    class Fragment(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            text, status = rendered(request, whole=False)
            if status != 200:
                return self.text(text, status=status)
            return self.html(text)

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
                return self.json(
                    {"key": key, "rows": run_panel(store, key, PageParams.parse(request.query))}
                )
            except (InputError, StorageError) as e:
                return failure(self, e)

    @app.page("/api/results")
    class AllResults(View):
        """Every level of figures (`storage.queries.Results`), for `verify` and the test kit."""

        async def get(self, request: Request, **kwargs: Any) -> Response:
            try:
                return self.json(dataclasses.asdict(read_results(store)))
            except StorageError as e:
                return failure(self, e)
