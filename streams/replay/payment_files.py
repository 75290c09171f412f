"""Packs event lines into payment-file messages, as a bank's payment run would send them.

One file holds events of one commune, in the order they came, as a bank's commune payment
list would. Its message key is the key of its first event under the producer's keying
(`--key`): the commune code by default, so a commune's events stay in order on its
partition; with `none` no key. (Under `event` keying the producer sends no files: see
`streams.replay.kafka_io.packed_events`; a packer given event ids keys a file by its first one.)
Exactness does not depend on the keys (docs/ledger.md). The events are embedded byte for
byte, not re-encoded. Lines that are not JSON objects, or too big for one event, are sent
alone: a file is a JSON document and cannot carry them, and the worker dead-letters them on
their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from streams.domain.ingest import MAX_MESSAGE_BYTES

MAX_PACKED_BYTES = 1024 * 1024  # well under the worker's limit and the producer's request size

Message = tuple[bytes | None, bytes]  # (key, value)


def utc_stamp() -> str:
    """Now, as the contracts write timestamps."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class _Pending:
    key: bytes | None = None  # the message key of the file: its first event's
    lines: list[bytes] = field(default_factory=list)
    size: int = 0


_GROUP = object()  # `add`'s default message key: the commune (the group) itself


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

    def add(
        self, key: bytes | None, line: bytes, is_object: bool, message_key: object = _GROUP
    ) -> list[Message]:
        """Take one line of commune `key`; return the messages ready to send (none, the line
        alone, or a full file). `message_key` is the line's own message key (default: the
        commune); a line sent alone carries it, a file carries its first line's."""
        sent_key = key if message_key is _GROUP else message_key
        assert sent_key is None or isinstance(sent_key, bytes)
        if key is None or not is_object or len(line) > MAX_MESSAGE_BYTES:
            return [(sent_key, line)]
        ready: list[Message] = []
        pending = self._pending.get(key)
        if pending is not None and pending.size + len(line) + 1 > self.max_bytes:
            ready.append(self._file(key))
            pending = None
        if pending is None:
            pending = self._pending[key] = _Pending(sent_key)
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
        head = (
            b'{"file_id":"'
            + self.new_id().encode()
            + b'","schema_version":1,"source":'
            + orjson.dumps(self.source)
            + b',"created_at":"'
            + utc_stamp().encode()
            + b'","events":['
        )
        return pending.key, head + b",".join(pending.lines) + b"]}"
