"""Create or update the folder, data source and dashboards in Grafana over its HTTP API."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

from dashboards.build import DATASOURCE_VARIABLE, FOLDERS, build_all, folder_of
from dashboards.errors import DashboardError, GrafanaAuthError, GrafanaUnreachable
from dashboards.panels import DATASOURCE_TYPE, DATASOURCE_UID

T = TypeVar("T")
DATASOURCE_NAME = "ClickHouse (welfare)"


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
            "name": DATASOURCE_NAME,
            "uid": DATASOURCE_UID,
            "type": DATASOURCE_TYPE,
            "access": "proxy",
            "jsonData": {
                "host": self.host,
                "port": self.port,
                "protocol": "http",
                "username": self.user,
                "defaultDatabase": self.database,
            },
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
    datasource_uid: str = DATASOURCE_UID


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


def with_datasource(board: dict[str, Any], uid: str, name: str) -> dict[str, Any]:
    """The dashboard with its data-source variable set to `uid`."""
    out = copy.deepcopy(board)
    for variable in out["templating"]["list"]:
        if variable["type"] == "datasource" and variable["name"] == DATASOURCE_VARIABLE:
            variable["current"] = {"selected": True, "text": name, "value": uid}
    return out


def push(
    url: str,
    token: str,
    datasource: DataSourceConfig | None,
    timeout_s: float = 10.0,
    *,
    datasource_uid: str | None = None,
) -> PushReport:
    """Create or update everything; running it twice changes nothing the second time.

    With `datasource_uid`, the dashboards use that existing ClickHouse data source and no data
    source is created or changed. Without it, the data source `welfare-clickhouse` is created
    or updated; when Grafana already has one of the same name (HTTP 409), that one is reused.
    """
    api = GrafanaApi.from_url(url, credential=token, timeout=timeout_s)

    def ensure_folders() -> str:
        done = []
        for folder in FOLDERS:
            try:
                api.folder.get_folder(folder.uid)
            except GrafanaClientError as e:
                if not _not_found(e):
                    raise
                api.folder.create_folder(folder.title, uid=folder.uid)
                done.append("created")
                continue
            api.folder.update_folder(folder.uid, title=folder.title, overwrite=True)
            done.append("updated")
        return "created" if "created" in done else "updated"

    def existing(uid: str) -> tuple[str, str]:
        try:
            found = api.datasource.get_datasource_by_uid(uid)
        except GrafanaClientError as e:
            if _not_found(e):
                raise DashboardError(
                    f"Grafana at {url} has no data source with uid {uid!r}: copy the uid from "
                    "Connections > Data sources (the URL ends with it)"
                ) from e
            raise
        if found.get("type") != DATASOURCE_TYPE:
            raise DashboardError(
                f"data source {uid!r} is a {found.get('type')}, not a {DATASOURCE_TYPE}: "
                "pass the uid of a ClickHouse data source"
            )
        return "reused", str(found.get("name", uid))

    def ensure_datasource(config: DataSourceConfig) -> tuple[str, str, str]:
        try:
            api.datasource.get_datasource_by_uid(DATASOURCE_UID)
        except GrafanaClientError as e:
            if not _not_found(e):
                raise
        else:
            api.datasource.update_datasource_by_uid(DATASOURCE_UID, config.payload())
            return "updated", DATASOURCE_UID, DATASOURCE_NAME
        try:
            api.datasource.create_datasource(config.payload())
        except GrafanaClientError as e:
            if e.status_code != 409:
                raise
            # A data source of that name exists under another uid: reuse it as it is.
            found = api.datasource.get_datasource_by_name(quote(DATASOURCE_NAME, safe=""))
            if found.get("type") != DATASOURCE_TYPE:
                raise DashboardError(
                    f"Grafana at {url} already has a data source named {DATASOURCE_NAME!r} of "
                    f"type {found.get('type')}: rename it, or pass --datasource-uid UID of a "
                    "ClickHouse data source"
                ) from e
            return "reused", str(found["uid"]), DATASOURCE_NAME
        return "created", DATASOURCE_UID, DATASOURCE_NAME

    folder = _call(url, ensure_folders)
    if datasource_uid:
        source, name = _call(url, partial(existing, datasource_uid))
        uid = datasource_uid
    elif datasource is not None:
        source, uid, name = _call(url, partial(ensure_datasource, datasource))
    else:
        raise DashboardError("push needs the ClickHouse connection or --datasource-uid")
    pushed = []
    for board_uid, board in sorted(build_all().items()):
        body = {
            "dashboard": with_datasource(board, uid, name),
            "folderUid": folder_of(board_uid).uid,
            "overwrite": True,
            "message": "welfare-monitor dashboards push",
        }
        _call(url, partial(api.dashboard.update_dashboard, body))
        pushed.append(board_uid)
    return PushReport(folder, source, pushed, uid)
