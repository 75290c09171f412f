"""Packs event lines into payment-file messages, as a bank's payment run would send them.

One file holds events of one message key (a commune), in the order they came, so a
commune's events stay in order on its partition. The events are embedded byte for byte, not
re-encoded. Lines that are not JSON objects, or too big for one event, are sent alone: a
file is a JSON document and cannot carry them, and the worker dead-letters them on their
own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from streams.ingest import MAX_MESSAGE_BYTES

MAX_PACKED_BYTES = 1024 * 1024  # well under the worker's limit and the producer's request size

Message = tuple[bytes | None, bytes]  # (key, value)


def utc_stamp() -> str:
    """Now, as the contracts write timestamps."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class _Pending:
    lines: list[bytes] = field(default_factory=list)
    size: int = 0


class FilePacker:
    """Collects lines per key and hands out file messages of at most `max_events` events."""

    def __init__(
        self,
        max_events: int,
        source: str,
        max_bytes: int = MAX_PACKED_BYTES,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        if max_events < 1:
            raise ValueError("a payment file holds at least one event")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.source = source
        self.new_id = new_id
        self._pending: dict[bytes, _Pending] = {}

    def add(self, key: bytes | None, line: bytes, is_object: bool) -> list[Message]:
        """Take one line; return the messages ready to send (none, the line alone, or a
        full file)."""
        if key is None or not is_object or len(line) > MAX_MESSAGE_BYTES:
            return [(key, line)]
        ready: list[Message] = []
        pending = self._pending.setdefault(key, _Pending())
        if pending.lines and pending.size + len(line) + 1 > self.max_bytes:
            ready.append(self._file(key))
            pending = self._pending.setdefault(key, _Pending())
        pending.lines.append(line)
        pending.size += len(line) + 1
        if len(pending.lines) >= self.max_events:
            ready.append(self._file(key))
        return ready

    def flush(self) -> list[Message]:
        """Every file still open."""
        return [self._file(key) for key in list(self._pending)]

    def _file(self, key: bytes) -> Message:
        pending = self._pending.pop(key)
        head = (b'{"file_id":"' + self.new_id().encode() + b'","schema_version":1,"source":'
                + orjson.dumps(self.source) + b',"created_at":"' + utc_stamp().encode()
                + b'","events":[')
        return key, head + b",".join(pending.lines) + b"]}"
