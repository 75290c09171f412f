"""`migrate --wait`: a ClickHouse server still starting is retried, for a bounded time.

The clickhouse/clickhouse-server image may run a temporary server on its first start
(docker/server/entrypoint.sh: listen on 127.0.0.1 only while init runs, then restart), so the
first connection can be refused even after the container started.
"""

from __future__ import annotations

import pytest

from streams.errors import StorageError
from streams.storage.base import Store
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
