"""`migrate --wait` through the CLI on chDB: a store still starting is retried, for a bounded time
(split from test_wait.py, which explains why the server may refuse the first connections).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import streams.storage
from streams.cli.main import main
from streams.errors import StorageError
from streams.settings import Settings
from streams.storage.base import Store
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn


@pytest.mark.integration
def test_migrate_waits_for_a_store_that_is_still_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    attempts = []

    def starting(settings: Settings, chdb_path: Path | None = None) -> Store:
        attempts.append(time.monotonic())
        if len(attempts) < 2:
            raise StorageError("cannot reach ClickHouse at http://clickhouse:8123: refused")
        store = ClickHouseStore(chdb_dsn(tmp_path / "chdb"), "welfare")
        store.open()
        return store

    monkeypatch.setattr(streams.storage, "open_store", starting)
    assert main(["migrate", "--wait", "30", "--lang", "en"]) == 0
    assert len(attempts) == 2
    assert "migrated" in capsys.readouterr().out


@pytest.mark.integration
def test_migrate_gives_up_after_the_wait(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLICKHOUSE_URL", "http://127.0.0.1:1")
    started = time.monotonic()
    assert main(["migrate", "--wait", "3"]) == 1
    assert time.monotonic() - started < 20
    err = capsys.readouterr().err
    assert "within 3 s (2 attempts)" in err and "Traceback" not in err
