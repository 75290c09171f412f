"""`migrate --wait`: a ClickHouse server still starting is retried, for a bounded time.

The clickhouse/clickhouse-server image may run a temporary server on its first start
(docker/server/entrypoint.sh: listen on 127.0.0.1 only while init runs, then restart), so the
first connection can be refused even after the container started.
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
from streams.storage.wait import wait_for_store


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_store_that_comes_up_is_returned_after_retries() -> None:
    clock, calls = FakeClock(), []

    def opener() -> Store:
        calls.append(clock.now)
        if len(calls) < 3:
            raise StorageError("cannot reach ClickHouse at http://clickhouse:8123: refused")
        return object()  # type: ignore[return-value]

    wait_for_store(opener, 10, 2, sleep=clock.sleep, clock=clock)
    assert calls == [0, 2, 4]


def test_the_wait_is_bounded_and_says_how_long() -> None:
    clock = FakeClock()

    def opener() -> Store:
        raise StorageError("cannot reach ClickHouse: refused")

    with pytest.raises(StorageError, match=r"within 5 s \(3 attempts\): cannot reach"):
        wait_for_store(opener, 5, 2, sleep=clock.sleep, clock=clock)
    assert clock.now == 4


def test_no_wait_is_one_attempt_with_the_original_error() -> None:
    def opener() -> Store:
        raise StorageError("cannot reach ClickHouse: refused")

    with pytest.raises(StorageError, match="^cannot reach ClickHouse: refused$"):
        wait_for_store(opener, 0, sleep=lambda s: None)


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
