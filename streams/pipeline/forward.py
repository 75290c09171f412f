"""What an ingest worker hands the store agent: accepted facts on the internal topic.

With `--workers N` (embedded mode), N ingest workers validate and pseudonymise the events
topic and one store agent owns the chDB directory (chDB allows one process per data dir);
docs/workers.md. An ingest worker forwards each message's outcome to the accepted topic
(`Settings.accepted_topic`), keyed by commune, so the store side never depends on how the
producer keyed the events. A forwarded message is orjson:

    {"v": 1, "src": [topic, partition, offset], "items": [item, ...]}

with `src` the events-topic message it came from (what a dead letter names) and each item one
of
- `["p", index, [PaymentFact fields...], digest]`: an accepted payment event;
- `["e", index, [event_id, event_type, occurred_ms, payload], digest]`: any other event;
- `["r", index, error_class, reason]`: a rejected one, already announced on the dead-letter
  topic by the ingest worker; the store agent adds its row to the dead_letters table.

An ingest worker also sends its `pipeline_health` row there every `health_interval_s`
(events read, dead letters by class, its lag on the events topic), keyed `HEALTH_KEY`, as

    {"v": 1, "health": {row}}

with the times as ISO 8601 strings; the store agent writes it to the table, since ingest
workers cannot open chDB. The store agent's own rows then count no events or dead letters of
the ingest workers (they did), only its lag on the accepted topic, the dead letters it finds
itself and the freshness of what it stored.

`index` is the event's position in its payment file (0: the message itself). The payload
holds the pseudonym, never the citizen ID. Large messages are split into chunks of about
`CHUNK_BYTES`, each with its own `src`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from streams.domain.ingest import Ingested, MessageResult, PaymentFact, Rejected, Rejection
from streams.errors import PipelineError
from streams.pipeline.outputs import BatchOutput, Health, Source, dead_letter
from streams.storage import ledger

VERSION = 1
CHUNK_BYTES = 256 * 1024
REJECTED_KEY = b"rejected"
HEALTH_KEY = b"health"
HEALTH_TIMES = ("at", "latest_event_at")


def _item(index: int, item: PaymentFact | Ingested | Rejection) -> list[Any]:
    if isinstance(item, Rejection):
        return ["r", index, item.error_class, item.reason]
    if isinstance(item, PaymentFact):
        return ["p", index, list(item), ledger.digest(item)]
    return [
        "e",
        index,
        [item.event_id, item.event_type, item.occurred_ms, item.payload],
        ledger.digest(item),
    ]


def _key(item: PaymentFact | Ingested | Rejection) -> bytes:
    if isinstance(item, Rejection):
        return REJECTED_KEY
    if isinstance(item, PaymentFact):
        return str(item.commune_code).encode()
    return str(item.payload.get("commune_code", 0)).encode()


def forwards(source: Source, result: MessageResult) -> Iterator[tuple[bytes, bytes]]:
    """The (key, value) messages that carry one events-topic message's outcome."""
    is_file, items = result
    groups: dict[bytes, list[list[Any]]] = defaultdict(list)
    for index, item in enumerate(items, start=1 if is_file else 0):
        groups[_key(item)].append(_item(index, item))
    src = list(source)
    for key, group in groups.items():
        chunk: list[bytes] = []
        size = 0
        for encoded in (orjson.dumps(i) for i in group):
            if chunk and size + len(encoded) > CHUNK_BYTES:
                yield key, _message(src, chunk)
                chunk, size = [], 0
            chunk.append(encoded)
            size += len(encoded) + 1
        if chunk:
            yield key, _message(src, chunk)


def _message(src: list[Any], items: list[bytes]) -> bytes:
    head = orjson.dumps({"v": VERSION, "src": src})[:-1]
    return head + b',"items":[' + b",".join(items) + b"]}"


def health_message(row: dict[str, Any]) -> bytes:
    """An ingest worker's pipeline_health row, as a message of the accepted topic."""
    return orjson.dumps({"v": VERSION, "health": row})


def _health_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in HEALTH_TIMES:
        if out.get(name) is not None:
            out[name] = datetime.fromisoformat(out[name])
    return out


def take_forwarded(value: bytes | None, out: BatchOutput, health: Health) -> None:
    """Add one forwarded message's items to the store agent's batch.

    The internal topic is written by ingest workers only; anything else there is a
    PipelineError (the store agent stops rather than drop what it cannot read)."""
    try:
        message = orjson.loads(value or b"")
        if message.get("v") != VERSION:
            raise ValueError(f"version {message.get('v')!r}, expected {VERSION}")
        if "health" in message:
            out.health_rows.append(_health_row(message["health"]))
            return
        source = Source(*message["src"])
        for kind, index, *rest in message["items"]:
            if kind == "r":
                error_class, reason = rest
                out.announced.append(dead_letter(source, Rejected(error_class, reason), index)[0])
                continue
            data, digest = rest
            item = PaymentFact(*data) if kind == "p" else Ingested(*data)
            health.saw(item.occurred_ms)
            out.order.append((source, index, item, digest))
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise PipelineError(
            f"unreadable message on the accepted topic ({type(e).__name__}: {e}); it is "
            "written by ingest workers of the same version only: stop the workers, upgrade "
            "them all, and start again"
        ) from e
