"""Writes generated events as JSON lines (kept apart from the pure generator)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO, Any

import orjson


def write_lines(
    lines: Iterable[bytes], out: IO[bytes], on_written: Callable[[int], None] | None = None
) -> int:
    """Write each line followed by a newline; return the number written."""
    count = 0
    for line in lines:
        out.write(line)
        out.write(b"\n")
        count += 1
        if on_written is not None and count % 5000 == 0:
            on_written(count)
    if on_written is not None:
        on_written(count)
    return count


def write_jsonl(
    events: Iterable[dict[str, Any]],
    out: IO[bytes],
    on_written: Callable[[int], None] | None = None,
) -> int:
    """Write one compact JSON object per line; return the number written."""
    return write_lines((orjson.dumps(e) for e in events), out, on_written)
