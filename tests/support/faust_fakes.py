"""Stand-ins for the Faust objects the payments agent reads, for tests that drive
`PaymentsAgent.process` without Faust (tests/integration/streams/pipeline/test_payments.py,
tests/integration/streams/storage/test_ledger_versions.py).

What the agent reads of them (streams/pipeline/agent.py `Source.of`, `process`): an event's
`value` (bytes) and `message.topic`, `.partition`, `.offset`, as on faust 0.11
`faust.types.EventT` / `faust.types.tuples.Message`; a topic's `send(**kwargs)` coroutine
(`faust.types.ChannelT.send`), awaited for alerts and dead letters. Events must be
weak-referenceable, as Faust's are.
"""

from __future__ import annotations

from typing import Any


class Topic:
    """A topic that keeps what is sent to it, or fails like a broker that is down."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = fail

    async def send(self, **message: Any) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.sent.append(message)


class Message:
    """Where an event was read: the events topic, partition 0, `offset`."""

    def __init__(self, offset: int) -> None:
        self.topic, self.partition, self.offset = "events", 0, offset


class Event:
    """A message's value and its place (weak-referenceable, as Faust's events are)."""

    def __init__(self, value: bytes, offset: int) -> None:
        self.value = value
        self.message = Message(offset)
