"""Kafka plumbing for producers and the embedded runner: topics, sending JSON lines, lag."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, NamedTuple

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, MessageSizeTooLargeError, TopicAlreadyExistsError

from streams.domain.ingest import REJECTED_AT_SOURCE_KEY
from streams.errors import BrokerError
from streams.replay.payment_files import FilePacker

BOOTSTRAP_TIMEOUT_MS = 10_000
PACED_FLUSH_S = 0.5
MAX_REQUEST_BYTES = 4 * 1024 * 1024  # the producer's request limit
MAX_LINE_BYTES = MAX_REQUEST_BYTES - 4096  # room for the key, headers and batch overhead


def unreachable(bootstrap_servers: str, error: Exception) -> BrokerError:
    """The error for a broker that does not answer."""
    return BrokerError(
        f"Kafka broker unreachable at {bootstrap_servers}: {error}. "
        "Check KAFKA_BOOTSTRAP_SERVERS and that the broker is up."
    )


def admin_client(bootstrap_servers: str) -> KafkaAdminClient:
    """An admin client; BrokerError when the broker does not answer within 10 s."""
    try:
        return KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            request_timeout_ms=15_000,
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        )
    except KafkaError as e:
        raise unreachable(bootstrap_servers, e) from e


def ensure_topics(bootstrap_servers: str, partitions: Mapping[str, int]) -> None:
    """Create the topics that do not exist yet."""
    admin = admin_client(bootstrap_servers)
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(name, count, 1) for name, count in partitions.items() if name not in existing
        ]
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    except KafkaError as e:
        raise BrokerError(f"cannot create topics on {bootstrap_servers}: {e}") from e
    finally:
        admin.close()


KeyMode = Literal["commune", "event", "none"]
KEY_MODES: tuple[KeyMode, ...] = ("commune", "event", "none")


class LineFacts(NamedTuple):
    """What the producer needs to know of an event line."""

    key: bytes | None  # the commune code, or None (also groups lines into payment files)
    at: float | None  # event time, epoch seconds, or None
    is_object: bool  # the line is a JSON object (it can go into a payment file)
    event_id: bytes | None = None  # the event id, or None


def message_key(facts: LineFacts, mode: KeyMode) -> bytes | None:
    """The message key of an event line: its commune code (`commune`), its event id
    (`event`) or no key (`none`: kafka-python's partitioner spreads such messages over the
    partitions). None when the line does not carry the field."""
    if mode == "commune":
        return facts.key
    if mode == "event":
        return facts.event_id
    return None


def packed_events(file_events: int, key: KeyMode) -> int:
    """Events per payment file the producer really packs: none under `event` keying, which
    sends each event alone so that every copy of an event id lands on one partition, in the
    order sent (a file keyed by its first event would take the others' copies elsewhere)."""
    return 0 if key == "event" else file_events


def inspect_line(line: bytes) -> LineFacts:
    """Message key of an event line, its event time, and whether it is a JSON object.

    The key is the commune code, so each beneficiary's events stay in order without putting
    a citizen ID in the key. Key or time is None when the line does not carry it.
    """
    try:
        event: Any = orjson.loads(line)
    except orjson.JSONDecodeError:
        return LineFacts(None, None, False)
    key = at = event_id = None
    try:
        key = str(int(event["payload"]["commune_code"])).encode()
    except (KeyError, TypeError, ValueError):
        pass
    if isinstance(event, dict) and isinstance(event.get("event_id"), str):
        event_id = event["event_id"].encode()
    try:
        at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    return LineFacts(key, at, isinstance(event, dict), event_id)


def event_lines(lines: Iterable[bytes]) -> Iterator[tuple[bytes, LineFacts]]:
    """Each non-blank line, its end of line removed, with its facts."""
    for _, line, facts in numbered_event_lines(lines):
        yield line, facts


def numbered_event_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes, LineFacts]]:
    """Each non-blank line with its line number (from 1), its end of line removed, and its
    facts; a line too big to send is not parsed (its facts are empty)."""
    for number, line in enumerate(lines, start=1):
        line = line.rstrip(b"\r\n")
        if len(line) > MAX_LINE_BYTES:
            yield number, line, LineFacts(None, None, False)
        elif line.strip():
            yield number, line, inspect_line(line)


def oversize_marker(number: int, size: int) -> bytes:
    """The message sent instead of a line too big for the producer: the worker dead-letters
    it as `oversize` with this reason (the line itself, maybe holding a citizen ID, is not
    sent)."""
    reason = (
        f"input line {number}: {size:,} bytes, more than the producer's request limit "
        f"of {MAX_LINE_BYTES:,} bytes"
    )
    return orjson.dumps({REJECTED_AT_SOURCE_KEY: {"error_class": "oversize", "reason": reason}})


class Pacer:
    """Sleeps so that events go out at `speed` times their event-time pace (None: no pacing)."""

    def __init__(self, speed: float | None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin: tuple[float, float] | None = None

    def wait(self, event_time: float | None) -> None:
        """Block until the event is due."""
        if self.speed is None or event_time is None:
            return
        if self._origin is None:
            self._origin = (event_time, time.monotonic())
            return
        first_event, first_wall = self._origin
        delay = first_wall + (event_time - first_event) / self.speed - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class EventProducer:
    """Sends raw event lines to a topic (acks=all, batched, keyed as `key` says: by commune,
    by event id or not at all), one event per message or packed into payment files of up to
    `file_events` events (one commune's events per file, keyed by the first one's key; under
    `event` keying each event goes alone, see `packed_events`)."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        file_events: int = 0,
        source: str = "welfare-monitor/replay",
        delivery_timeout_s: float = 120.0,
        key: KeyMode = "commune",
    ) -> None:
        if key not in KEY_MODES:
            raise ValueError(f"key must be one of {', '.join(KEY_MODES)}, not {key!r}")
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.file_events = file_events
        self.key = key
        self.source = source
        self.delivery_timeout_s = delivery_timeout_s
        self._producer: KafkaProducer | None = None
        self.sent = 0
        self.messages = 0
        self.objects = 0  # lines that are JSON objects (the others cannot be events)
        self.oversize: list[int] = []  # line numbers dead-lettered as too big to send
        self.failed = 0
        self._first_failure: BaseException | None = None

    def __enter__(self) -> EventProducer:
        timeout_ms = int(self.delivery_timeout_s * 1000)
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                acks="all",
                linger_ms=20,
                batch_size=512 * 1024,
                max_request_size=MAX_REQUEST_BYTES,
                compression_type="lz4",
                # Idempotent (the client's default): a batch the broker did not acknowledge
                # (it died, or restarts) is resent, without duplicates, until the delivery
                # timeout; sends block at most as long while the buffer is full.
                enable_idempotence=True,
                delivery_timeout_ms=timeout_ms,
                max_block_ms=timeout_ms,
                request_timeout_ms=min(30_000, timeout_ms // 2),
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            )
        except KafkaError as e:
            raise unreachable(self.bootstrap_servers, e) from e
        return self

    def send_lines(
        self,
        lines: Iterable[bytes],
        on_sent: Callable[[int], None] | None = None,
        speed: float | None = None,
    ) -> int:
        """Send each non-blank line (alone or in a payment file); return how many were sent.

        `speed` replays at that multiple of event time (e.g. 3600: an hour a second);
        None sends as fast as possible. With pacing, open payment files are sent at least
        every `PACED_FLUSH_S` seconds so the events do not wait for a full file.
        """
        if self._producer is None:
            raise BrokerError("producer is not started; use it as a context manager")
        pacer = Pacer(speed)
        file_events = packed_events(self.file_events, self.key)
        packer = FilePacker(file_events, self.source) if file_events > 1 else None
        last_flush = time.monotonic()
        count = 0
        for number, line, facts in numbered_event_lines(lines):
            pacer.wait(facts.at)
            self.objects += facts.is_object
            if len(line) > MAX_LINE_BYTES:
                self.oversize.append(number)
                self._send(None, oversize_marker(number, len(line)))
            elif packer is None:
                self._send(message_key(facts, self.key), line)
            else:
                sent_key = message_key(facts, self.key)
                for key, value in packer.add(facts.key, line, facts.is_object, sent_key):
                    self._send(key, value)
                if speed is not None and time.monotonic() - last_flush > PACED_FLUSH_S:
                    for key, value in packer.flush():
                        self._send(key, value)
                    last_flush = time.monotonic()
            count += 1
            if on_sent is not None and count % 1000 == 0:
                on_sent(1000)
        if packer is not None:
            for key, value in packer.flush():
                self._send(key, value)
        if on_sent is not None:
            on_sent(count % 1000)
        self.sent += count
        return count

    def _send(self, key: bytes | None, value: bytes) -> None:
        assert self._producer is not None
        try:
            future = self._producer.send(self.topic, key=key, value=value)
        except MessageSizeTooLargeError as e:  # pragma: no cover - lines are checked before
            raise BrokerError(f"a message of {len(value)} bytes is too big to send: {e}") from e
        except KafkaError as e:  # the buffer stayed full for the delivery timeout
            raise self._undelivered(e, "could not be sent") from e
        future.add_errback(self._on_failure)
        self.messages += 1

    def _on_failure(self, error: BaseException) -> None:
        self.failed += 1
        if self._first_failure is None:
            self._first_failure = error

    def _undelivered(self, error: BaseException, what: str) -> BrokerError:
        return BrokerError(
            f"{what}: the broker at {self.bootstrap_servers} did not acknowledge them within "
            f"{self.delivery_timeout_s:g}s ({error}). Check the broker, then replay the file "
            "again: the worker counts an event it already has only once."
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._producer is None:
            return
        producer, self._producer = self._producer, None
        if exc is not None:  # already failing: do not wait for the rest
            producer.close(timeout=0)
            return
        try:
            producer.flush()  # ends when every batch is acknowledged or timed out
        except KafkaError as e:
            raise self._undelivered(e, "some events could not be delivered") from e
        finally:
            producer.close()
        if self.failed:
            raise self._undelivered(
                self._first_failure or RuntimeError("failed"),
                f"{self.failed:,} of {self.messages:,} messages were not acknowledged",
            )


class LagProbe:
    """Compares a group's committed offsets with a topic's end offsets."""

    def __init__(
        self, bootstrap_servers: str, group: str, topic: str, exact_end: bool = False
    ) -> None:
        self.group = group
        self.topic = topic
        self.bootstrap_servers = bootstrap_servers
        # Tansu under-reports log ends (streams/replay/end_offsets.py): read them exactly there.
        self.exact_end = exact_end
        self._admin = admin_client(bootstrap_servers)
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers)
        self._last = (0, 0)

    def offsets(self) -> tuple[int, int]:
        """(sum of committed offsets, sum of end offsets) over the topic's partitions.

        A retriable error (Apache Kafka's group coordinator still loading right after the
        broker starts, a broker restarting) answers the last known offsets; the caller
        polls again. Other errors are a BrokerError.
        """
        try:
            partitions = self._consumer.partitions_for_topic(self.topic) or set()
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            end = self._consumer.end_offsets(tps)
            if self.exact_end:
                from streams.replay.end_offsets import exact_end_offsets

                exact = exact_end_offsets(
                    self.bootstrap_servers, {(tp.topic, tp.partition): n for tp, n in end.items()}
                )
                end = {tp: exact[(tp.topic, tp.partition)] for tp in end}
            committed = self._admin.list_group_offsets(self.group).get(self.group, {})
        except KafkaError as e:
            if getattr(e, "retriable", False):
                return self._last
            raise BrokerError(f"cannot read the offsets of group {self.group}: {e}") from e
        done = sum(max(committed[tp].offset, 0) for tp in tps if tp in committed)
        self._last = (done, sum(end.values()))
        return self._last

    def close(self) -> None:
        """Close both clients."""
        self._consumer.close()
        self._admin.close()
