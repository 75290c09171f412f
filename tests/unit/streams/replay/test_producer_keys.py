"""How the producer keys messages (`--key commune|event|none`): the keying function, the
payment files under each mode, and the option's path from the CLI to the settings."""

from __future__ import annotations

import itertools

import orjson
import pytest

from streams.cli.main import _settings, build_parser
from streams.replay.kafka_io import (
    KEY_MODES,
    EventProducer,
    KeyMode,
    inspect_line,
    message_key,
    packed_events,
)
from streams.replay.payment_files import FilePacker


def event(event_id: str, commune: int) -> bytes:
    return orjson.dumps(
        {
            "event_id": event_id,
            "occurred_at": "2024-01-05T01:00:00.000Z",
            "payload": {"citizen_id": "052032177239", "commune_code": commune},
        }
    )


LINE = event("7d1c1a8e-0000-4000-8000-000000000001", 21553)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("commune", b"21553"), ("event", b"7d1c1a8e-0000-4000-8000-000000000001"), ("none", None)],
)
def test_each_mode_keys_a_line(mode: KeyMode, expected: bytes | None) -> None:
    key = message_key(inspect_line(LINE), mode)
    assert key == expected
    assert b"052032177239" not in (key or b"")  # never the citizen ID


@pytest.mark.parametrize("mode", KEY_MODES)
def test_a_line_without_the_field_has_no_key(mode: KeyMode) -> None:
    for line in (b"{broken", b'"a string"', orjson.dumps({"event_id": 7, "payload": {}})):
        assert message_key(inspect_line(line), mode) is None


def pack(lines: list[bytes], mode: KeyMode | None, max_events: int = 2) -> list[tuple]:
    ids = (f"file-{i}" for i in itertools.count())
    packer = FilePacker(max_events, "test", new_id=lambda: next(ids))
    out = []
    for line in lines:
        facts = inspect_line(line)
        if mode is None:  # the packer's default: the commune is the message key
            out += packer.add(facts.key, line, facts.is_object)
        else:
            out += packer.add(facts.key, line, facts.is_object, message_key(facts, mode))
    return [
        (key, orjson.loads(value) if value.startswith(b'{"file_id"') else value)
        for key, value in out + packer.flush()
    ]


LINES = [event("a1", 1), event("b1", 2), event("a2", 1), event("a3", 1), event("b2", 2), b"{broken"]


def files(packed: list[tuple]) -> list[tuple[bytes | None, list[str] | bytes]]:
    """(key, event ids of a file) or (key, the line sent alone)."""
    return [
        (key, [e["event_id"] for e in value["events"]]) if isinstance(value, dict) else (key, value)
        for key, value in packed
    ]


def test_files_group_communes_and_take_their_first_events_key() -> None:
    # The broken line cannot go into a file: it goes alone, unkeyed in every mode.
    commune = files(pack(LINES, "commune"))
    assert commune == [
        (b"1", ["a1", "a2"]),
        (b"2", ["b1", "b2"]),
        (None, b"{broken"),
        (b"1", ["a3"]),
    ]
    assert commune == files(pack(LINES, None))  # the default is keying by commune
    event_mode = files(pack(LINES, "event"))
    none = files(pack(LINES, "none"))
    # The same files in the same order in every mode: only the message keys differ.
    assert [f for _, f in commune] == [f for _, f in event_mode] == [f for _, f in none]
    assert [k for k, _ in event_mode] == [b"a1", b"b1", None, b"a3"]
    assert [k for k, _ in none] == [None] * 4


def test_the_default_keying_is_unchanged_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = "2024-01-01T00:00:00.000Z"
    monkeypatch.setattr("streams.replay.payment_files.utc_stamp", lambda: stamp)

    def raw(mode: KeyMode | None) -> list[tuple[bytes | None, bytes]]:
        packer = FilePacker(2, "test", new_id=lambda: "same")
        out = []
        for line in LINES:
            facts = inspect_line(line)
            args = () if mode is None else (message_key(facts, mode),)
            out += packer.add(facts.key, line, facts.is_object, *args)
        return out + packer.flush()

    assert raw("commune") == raw(None)


def test_the_producer_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="commune, event, none"):
        EventProducer("127.0.0.1:1", "t", key="partition")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--input", "x"],
        ["replay", "--input", "x"],
        ["demo"],
        ["import", "x.csv", "--kind", "roster"],
    ],
)
def test_the_key_option_reaches_the_settings(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPLAY_KEY", raising=False)
    parser = build_parser()
    assert _settings(parser.parse_args(command)).replay_key == "commune"
    for mode in KEY_MODES:
        assert _settings(parser.parse_args([*command, "--key", mode])).replay_key == mode
    monkeypatch.setenv("REPLAY_KEY", "none")
    assert _settings(parser.parse_args(command)).replay_key == "none"
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--key", "province"])


def test_event_keying_sends_each_event_alone() -> None:
    """A file keyed by its first event would carry other ids away from their copies'
    partition; under `event` keying every copy of an id must share one partition."""
    assert packed_events(500, "commune") == 500
    assert packed_events(500, "none") == 500
    assert packed_events(500, "event") == 0
    assert packed_events(0, "commune") == 0
