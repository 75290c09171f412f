"""`dashboards push` against a stand-in for Grafana's HTTP API (Grafana cannot run here).

The stand-in implements the endpoints push uses, with Grafana's status codes, and records
what it was sent, so idempotence and error messages are checked over real HTTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from dashboards.build import DATASOURCE_VARIABLE, FOLDERS, build_all, folder_of
from dashboards.errors import DashboardError, GrafanaAuthError, GrafanaUnreachable
from dashboards.panels import DATASOURCE_UID
from dashboards.push import DataSourceConfig, push
from streams.harness.broker import free_port

pytestmark = pytest.mark.integration

TOKEN = "glsa_test_token"
SOURCE = DataSourceConfig("clickhouse", 8123, "welfare", "grafana", "s3cret")


class FakeGrafana(ThreadingHTTPServer):
    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.folders: dict[str, dict[str, Any]] = {}
        self.datasources: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []


class Handler(BaseHTTPRequestHandler):
    server: FakeGrafana

    def log_message(self, *args: object) -> None:
        return None

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        loaded: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        return loaded

    def _handle(self, method: str) -> None:
        self.server.calls.append((method, self.path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"message": "Unauthorized"})
            return
        s, path = self.server, self.path
        if path.startswith("/api/folders"):
            uid = path.rsplit("/", 1)[-1]
            if method == "GET":
                found = s.folders.get(uid)
                self._reply(200, found) if found else self._reply(404, {"message": "not found"})
            elif method == "POST":
                body = self._body()
                s.folders[body["uid"]] = body
                self._reply(200, body)
            else:
                s.folders[uid] = {"uid": uid, **self._body()}
                self._reply(200, s.folders[uid])
        elif path.startswith("/api/datasources/uid/"):
            uid = path.rsplit("/", 1)[-1]
            if method == "GET":
                found = s.datasources.get(uid)
                self._reply(200, found) if found else self._reply(404, {"message": "not found"})
            else:
                s.datasources[uid] = self._body()
                self._reply(200, {"message": "Datasource updated"})
        elif path.startswith("/api/datasources/name/") and method == "GET":
            name = unquote(path.rsplit("/", 1)[-1])
            named = [d for d in s.datasources.values() if d["name"] == name]
            self._reply(200, named[0]) if named else self._reply(404, {"message": "not found"})
        elif path == "/api/datasources" and method == "POST":
            body = self._body()
            # Grafana pkg/api/datasources.go AddDataSource: ErrDataSourceNameExists or
            # ErrDataSourceUidExists -> 409 Conflict.
            if any(
                d["name"] == body["name"] or d["uid"] == body["uid"] for d in s.datasources.values()
            ):
                self._reply(409, {"message": "data source with the same name already exists"})
                return
            s.datasources[body["uid"]] = body
            self._reply(200, {"message": "Datasource added"})
        elif path == "/api/dashboards/db" and method == "POST":
            body = self._body()
            s.dashboards[body["dashboard"]["uid"]] = body
            self._reply(200, {"status": "success", "uid": body["dashboard"]["uid"]})
        else:
            self._reply(404, {"message": f"no route {method} {path}"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafana(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server: FakeGrafana) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def datasource_of(body: dict[str, Any]) -> dict[str, Any]:
    [variable] = [
        v for v in body["dashboard"]["templating"]["list"] if v["name"] == DATASOURCE_VARIABLE
    ]
    current: dict[str, Any] = variable["current"]
    return current


def test_push_creates_then_updates_the_same_things(grafana: FakeGrafana) -> None:
    first = push(url_of(grafana), TOKEN, SOURCE)
    assert (first.folder, first.datasource) == ("created", "created")
    after_first = (dict(grafana.datasources), dict(grafana.dashboards))
    second = push(url_of(grafana), TOKEN, SOURCE)
    assert (second.folder, second.datasource) == ("updated", "updated")
    assert (grafana.datasources, grafana.dashboards) == after_first
    assert {u: f["title"] for u, f in grafana.folders.items()} == {f.uid: f.title for f in FOLDERS}
    assert sorted(grafana.dashboards) == sorted(build_all())
    for uid, body in grafana.dashboards.items():
        assert body["folderUid"] == folder_of(uid).uid and body["overwrite"] is True
        assert datasource_of(body)["value"] == DATASOURCE_UID
        assert body["dashboard"]["panels"] == build_all()[uid]["panels"]
    assert grafana.dashboards["wm-coverage"]["folderUid"] == "welfare-monitor-banks"
    source = grafana.datasources[DATASOURCE_UID]
    assert source["secureJsonData"] == {"password": "s3cret"}
    assert "password" not in json.dumps(source["jsonData"])


def test_push_reuses_a_data_source_of_the_same_name(grafana: FakeGrafana) -> None:
    """Grafana answers 409 when a data source of that name exists under another uid."""
    theirs = {
        "uid": "ch-prod",
        "name": "ClickHouse (welfare)",
        "type": "grafana-clickhouse-datasource",
        "jsonData": {"host": "ch.internal"},
    }
    grafana.datasources["ch-prod"] = dict(theirs)
    report = push(url_of(grafana), TOKEN, SOURCE)
    assert (report.datasource, report.datasource_uid) == ("reused", "ch-prod")
    assert grafana.datasources == {"ch-prod": theirs}  # left as it was
    for body in grafana.dashboards.values():
        assert datasource_of(body)["value"] == "ch-prod"


def test_push_with_a_datasource_uid_uses_that_one_and_creates_none(
    grafana: FakeGrafana,
) -> None:
    theirs = {
        "uid": "abc123",
        "name": "ClickHouse",
        "type": "grafana-clickhouse-datasource",
        "jsonData": {},
    }
    grafana.datasources["abc123"] = dict(theirs)
    report = push(url_of(grafana), TOKEN, None, datasource_uid="abc123")
    assert (report.datasource, report.datasource_uid) == ("reused", "abc123")
    assert grafana.datasources == {"abc123": theirs}
    assert sorted(grafana.dashboards) == sorted(build_all())
    for body in grafana.dashboards.values():
        assert datasource_of(body) == {"selected": True, "text": "ClickHouse", "value": "abc123"}


def test_an_unknown_datasource_uid_says_where_to_find_it(grafana: FakeGrafana) -> None:
    with pytest.raises(DashboardError, match="no data source with uid 'nope'.*Connections"):
        push(url_of(grafana), TOKEN, None, datasource_uid="nope")
    assert grafana.dashboards == {}


def test_a_bad_token_says_what_to_do(grafana: FakeGrafana) -> None:
    with pytest.raises(GrafanaAuthError, match="refused the token.*--token"):
        push(url_of(grafana), "wrong", SOURCE)
    assert grafana.dashboards == {}


def test_an_unreachable_grafana_says_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(GrafanaUnreachable, match="cannot reach Grafana"):
        push(url, TOKEN, SOURCE, timeout_s=2)


def test_the_cli_passes_the_datasource_uid(
    grafana: FakeGrafana, capsys: pytest.CaptureFixture[str]
) -> None:
    from streams.cli.main import main

    grafana.datasources["abc123"] = {
        "uid": "abc123",
        "name": "CH",
        "type": "grafana-clickhouse-datasource",
    }
    args = [
        "dashboards",
        "push",
        "--url",
        url_of(grafana),
        "--token",
        TOKEN,
        "--datasource-uid",
        "abc123",
        "--lang",
        "en",
    ]
    assert main(args) == 0
    assert "data source reused (abc123)" in capsys.readouterr().out
    assert len(grafana.datasources) == 1 and sorted(grafana.dashboards) == sorted(build_all())
