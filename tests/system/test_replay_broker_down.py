"""`replay` when the broker dies and does not come back: a bounded wait, then a clear error
that says how many messages were not acknowledged (never success, never a hang). The
comeback case is test_reliability's broker kill -9 test."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
import pytest

from streams.errors import BrokerError
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import SilentObserver, produce_file
from streams.settings import Settings
from tests.support.names import unique

pytestmark = pytest.mark.integration

DAY = 86_400


class Counting(SilentObserver):
    def __init__(self) -> None:
        self.sent = 0

    def advanced(self, stage: str, completed: int) -> None:
        self.sent = completed


def test_replay_to_a_broker_that_dies_ends_with_a_clear_error(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    with events.open("wb") as f:  # a day apart; 1,000 a second: 20 s
        for i in range(20_000):
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_600_000_000 + i * DAY))
            line = {"event_id": f"e{i}", "occurred_at": at, "payload": {"commune_code": i % 7}}
            f.write(orjson.dumps(line) + b"\n")
    observer = Counting()
    outcome: list[BaseException | None] = []

    def replay(settings: Settings) -> None:
        try:
            produce_file(settings, events, 20_000, observer, speed=DAY * 1_000)
            outcome.append(None)
        except BaseException as e:
            outcome.append(e)

    with EmbeddedBroker(tmp_path / "broker.log") as broker:
        settings = Settings(
            _env_file=None,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            events_topic=unique("events"),
            replay_file_events=0,
            replay_delivery_timeout_s=5,
        )
        thread = threading.Thread(target=replay, args=(settings,), daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while observer.sent < 2_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert observer.sent >= 2_000 and thread.is_alive(), "the replay never got going"
        broker.stop()
    stopped = time.monotonic()
    thread.join(90)
    assert not thread.is_alive(), "the replay hangs after the broker died"
    # 18 s of paced sending left, then at most the 5 s delivery timeout.
    assert time.monotonic() - stopped < 45
    [error] = outcome
    assert isinstance(error, BrokerError), repr(error)
    assert "not acknowledged" in str(error) and broker.bootstrap_servers in str(error)
    assert "replay the file again" in str(error)
