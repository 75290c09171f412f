"""The factory's DSNs: the only thing that differs between chDB and a ClickHouse server."""

from __future__ import annotations

from pathlib import Path

import pytest
from clickhouse_connect.driver import _parse_connection_params
from pydantic import SecretStr

from streams.errors import ConfigurationError, StorageError
from streams.settings import Settings
from streams.storage.clickhouse_store import ClickHouseStore, redact_dsn
from streams.storage.factory import chdb_dsn, server_dsn, store_dsn

AWKWARD = "p@ss:w/o'r\"d&x\\y z%41?#"


def test_server_dsn_carries_user_and_password_as_clickhouse_connect_reads_them() -> None:
    """clickhouse-connect 1.12.0 `driver/__init__.py` `_parse_connection_params` takes the
    user and password from the DSN's user info and URL-unquotes them."""
    dsn = server_dsn("http://clickhouse:8123", "wel fare", AWKWARD)
    host, user, password, port, database, interface = _parse_connection_params(
        None, None, "", None, None, None, False, dsn, {}
    )
    assert (host, user, password, port, database, interface) == (
        "clickhouse",
        "wel fare",
        AWKWARD,
        8123,
        None,
        "http",
    )


def test_settings_pick_the_dsn(tmp_path: Path) -> None:
    embedded = Settings(_env_file=None, chdb_path=tmp_path / "d", clickhouse_url=None)
    assert store_dsn(embedded) == f"chdb://{(tmp_path / 'd').resolve()}"
    assert store_dsn(embedded, tmp_path / "other") == f"chdb://{(tmp_path / 'other').resolve()}"
    server = Settings(
        _env_file=None,
        clickhouse_url="https://ch.example:8443",
        clickhouse_user="u",
        clickhouse_password=SecretStr("s"),
    )
    assert store_dsn(server) == "https://u:s@ch.example:8443"


@pytest.mark.parametrize(
    "url", ["clickhouse:8123", "tcp://h:9000", "http://u:p@h:8123", "http://h:8123/db", "http://"]
)
def test_a_url_the_factory_cannot_use_is_a_clear_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="CLICKHOUSE_"):
        server_dsn(url, "default", "")


def test_relative_and_odd_chdb_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert chdb_dsn(Path("data/chdb")) == f"chdb://{tmp_path.resolve()}/data/chdb"
    with pytest.raises(ConfigurationError, match="'#'"):
        chdb_dsn(tmp_path / "a#b")


def test_messages_never_show_the_password() -> None:
    dsn = server_dsn("http://127.0.0.1:1", "default", "very-secret")
    assert redact_dsn(dsn) == "http://127.0.0.1:1"
    assert redact_dsn("chdb:///var/lib/chdb") == "chdb:///var/lib/chdb"
    store = ClickHouseStore(dsn, "welfare")
    with pytest.raises(StorageError) as down:
        store.open()
    assert "very-secret" not in str(down.value)
    assert "cannot reach ClickHouse at http://127.0.0.1:1" in str(down.value)
    assert down.value.__cause__ is not None
    with pytest.raises(StorageError, match="not open"):
        store.insert("t", [{"a": 1}])
