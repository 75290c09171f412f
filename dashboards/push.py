"""Create or update the folder, data source and dashboards in Grafana over its HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

from dashboards.build import FOLDER_TITLE, FOLDER_UID, build_all
from dashboards.errors import DashboardError, GrafanaAuthError, GrafanaUnreachable
from dashboards.panels import DATASOURCE_TYPE, DATASOURCE_UID

T = TypeVar("T")


@dataclass(frozen=True)
class DataSourceConfig:
    """How Grafana reaches ClickHouse: host, port, database and the read-only user."""

    host: str
    port: int
    database: str
    user: str
    password: str | None

    def payload(self) -> dict[str, Any]:
        """The data source as Grafana's API takes it."""
        body: dict[str, Any] = {
            "name": "ClickHouse (welfare)",
            "uid": DATASOURCE_UID,
            "type": DATASOURCE_TYPE,
            "access": "proxy",
            "jsonData": {"host": self.host, "port": self.port, "protocol": "http",
                         "username": self.user, "defaultDatabase": self.database},
        }
        if self.password is not None:
            body["secureJsonData"] = {"password": self.password}
        return body


@dataclass
class PushReport:
    """What a push did."""

    folder: str
    datasource: str
    dashboards: list[str]


def _call(url: str, action: Callable[[], T]) -> T:
    """Run one API call, turning client errors into messages that say what to do."""
    try:
        return action()
    except GrafanaUnauthorizedError as e:
        raise GrafanaAuthError(
            f"Grafana at {url} refused the token (HTTP {e.status_code}): pass a valid "
            "service-account token with --token or GRAFANA_TOKEN (role Editor or Admin)"
        ) from e
    except GrafanaClientError as e:
        if e.status_code == 403:
            raise GrafanaAuthError(
                f"Grafana at {url} says the token may not do this (HTTP 403): give its "
                "service account the Admin role (data sources need it)"
            ) from e
        raise DashboardError(f"Grafana at {url} rejected a request: {e.message}") from e
    except (GrafanaException, niquests.exceptions.RequestException) as e:
        raise GrafanaUnreachable(
            f"cannot reach Grafana at {url}: {e}; check --url and that Grafana is running"
        ) from e


def _not_found(e: GrafanaClientError) -> bool:
    return e.status_code == 404


def push(url: str, token: str, datasource: DataSourceConfig, timeout_s: float = 10.0
         ) -> PushReport:
    """Create or update everything; running it twice changes nothing the second time."""
    api = GrafanaApi.from_url(url, credential=token, timeout=timeout_s)

    def ensure_folder() -> str:
        try:
            api.folder.get_folder(FOLDER_UID)
        except GrafanaClientError as e:
            if not _not_found(e):
                raise
            api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
            return "created"
        api.folder.update_folder(FOLDER_UID, title=FOLDER_TITLE, overwrite=True)
        return "updated"

    def ensure_datasource() -> str:
        try:
            api.datasource.get_datasource_by_uid(DATASOURCE_UID)
        except GrafanaClientError as e:
            if not _not_found(e):
                raise
            api.datasource.create_datasource(datasource.payload())
            return "created"
        api.datasource.update_datasource_by_uid(DATASOURCE_UID, datasource.payload())
        return "updated"

    folder = _call(url, ensure_folder)
    source = _call(url, ensure_datasource)
    pushed = []
    for uid, board in sorted(build_all().items()):
        body = {"dashboard": board, "folderUid": FOLDER_UID, "overwrite": True,
                "message": "welfare-monitor dashboards push"}
        _call(url, partial(api.dashboard.update_dashboard, body))
        pushed.append(uid)
    return PushReport(folder, source, pushed)
