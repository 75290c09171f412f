"""Connect to a store that may still be starting (a ClickHouse server on its first start)."""

from __future__ import annotations

import time
from collections.abc import Callable

from streams.errors import StorageError
from streams.storage.base import Store


def wait_for_store(
    open_store: Callable[[], Store],
    timeout_s: float,
    interval_s: float = 2.0,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Store:
    """`open_store()`, retried every `interval_s` while it raises StorageError, for at most
    `timeout_s` seconds (0: one attempt). The last error is raised with the time waited."""
    deadline = clock() + timeout_s
    attempts = 0
    while True:
        attempts += 1
        try:
            return open_store()
        except StorageError as e:
            if clock() + interval_s > deadline:
                if attempts == 1:
                    raise
                raise StorageError(
                    f"ClickHouse did not accept a connection within {timeout_s:g} s "
                    f"({attempts} attempts): {e}"
                ) from e
            sleep(interval_s)
