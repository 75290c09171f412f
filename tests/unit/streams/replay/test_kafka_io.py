"""Pure helpers of the Kafka plumbing (no broker needed)."""

import pytest

from streams.replay.kafka_io import inspect_line


def test_pacer_follows_event_time_at_the_given_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.replay import kafka_io

    clock = [100.0]
    slept: list[float] = []
    monkeypatch.setattr(kafka_io.time, "monotonic", lambda: clock[0])

    def fake_sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        clock[0] += seconds

    monkeypatch.setattr(kafka_io.time, "sleep", fake_sleep)
    pacer = kafka_io.Pacer(speed=60.0)
    pacer.wait(0.0)
    pacer.wait(120.0)  # two minutes of event time at 60x: due two seconds later
    pacer.wait(60.0)  # out of order: already due
    assert slept == [2.0]
    with pytest.raises(ValueError):
        kafka_io.Pacer(0)


def test_key_is_the_commune_and_never_the_citizen_id() -> None:
    line = (
        b'{"occurred_at":"2023-06-05T01:00:00.000Z","payload":'
        b'{"citizen_id":"052032177239","commune_code":21553}}'
    )
    key, at, is_object, event_id = inspect_line(line)
    assert key == b"21553"
    assert at == 1685926800.0
    assert is_object
    assert event_id is None  # the line has none
    assert inspect_line(b"{broken") == (None, None, False, None)
