"""Writes generated events as JSON lines (kept apart from the pure generator)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO, Any

import orjson


def write_jsonl(
    events: Iterable[dict[str, Any]],
    out: IO[bytes],
    on_written: Callable[[int], None] | None = None,
) -> int:
    """Write one compact JSON object per line; return the number written."""
    count = 0
    for event in events:
        out.write(orjson.dumps(event))
        out.write(b"\n")
        count += 1
        if on_written is not None and count % 5000 == 0:
            on_written(count)
    if on_written is not None:
        on_written(count)
    return count
