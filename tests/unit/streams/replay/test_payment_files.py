"""Payment files: packing event lines per commune, and unpacking them at ingest."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest

from schemas.contracts import check_file
from streams.domain.ingest import MAX_MESSAGE_BYTES, Rejected, unpack
from streams.replay.kafka_io import inspect_line
from streams.replay.payment_files import FilePacker
from tests.support.scenarios import simulate, small_scenario


def pack(lines: list[bytes], max_events: int, max_bytes: int = 1 << 20) -> list[Any]:
    ids = (f"00000000-0000-4000-8000-{i:012d}" for i in itertools.count())
    packer = FilePacker(max_events, "test", max_bytes, new_id=lambda: next(ids))
    out = []
    for line in lines:
        facts = inspect_line(line)
        out += packer.add(facts.key, line, facts.is_object)
    return out + packer.flush()


@pytest.fixture(scope="module")
def lines(binh_dinh: Any) -> list[bytes]:
    events, _ = simulate(small_scenario(binh_dinh, 400, 10))
    return [orjson.dumps(e) for e in events]


def test_files_hold_one_commune_each_in_the_original_order(lines: list[bytes]) -> None:
    messages = pack(lines, 50)
    assert len(messages) < len(lines) / 10
    seen: dict[bytes, list[bytes]] = {}
    for key, value in messages:
        events, is_file = unpack(value)
        assert is_file
        check_file(orjson.loads(value))
        assert 1 <= len(events) <= 50
        assert {str(e["payload"]["commune_code"]).encode() for e in events} == {key}
        seen.setdefault(key, []).extend(orjson.dumps(e) for e in events)
    for key, packed in seen.items():  # nothing lost, nothing added, order kept per commune
        assert packed == [line for line in lines if inspect_line(line).key == key]


def test_a_file_closes_before_it_passes_its_byte_limit(lines: list[bytes]) -> None:
    limit = 20 * max(len(line) for line in lines)
    for _, value in pack(lines, 10_000, max_bytes=limit):
        assert len(value) <= limit + 200  # the file's own fields


def test_lines_a_file_cannot_carry_go_alone(lines: list[bytes]) -> None:
    odd = [
        b"{not json",
        b'"a string"',
        orjson.dumps({"payload": {}}),
        orjson.dumps({"payload": {"commune_code": 1}, "pad": "x" * MAX_MESSAGE_BYTES}),
    ]
    messages = pack(lines[:5] + odd, 100)
    alone = [value for _, value in messages if value in odd]
    assert alone == odd


@pytest.mark.parametrize(
    ("message", "error_class"),
    [
        (
            {
                "file_id": "not-a-uuid",
                "schema_version": 1,
                "source": "s",
                "created_at": "2023-06-05T01:00:00Z",
                "events": [{}],
            },
            "invalid_file_id",
        ),
        (
            {
                "file_id": "00000000-0000-4000-8000-000000000000",
                "schema_version": 1,
                "source": "s",
                "created_at": "2023-06-05T01:00:00Z",
                "events": [],
            },
            "invalid_events",
        ),
        (
            {
                "file_id": "00000000-0000-4000-8000-000000000000",
                "schema_version": 1,
                "source": "s",
                "created_at": "2023-06-05T01:00:00Z",
                "events": ["x"],
            },
            "wrong_type",
        ),
        ({"file_id": "00000000-0000-4000-8000-000000000000", "events": [{}]}, "missing_field"),
    ],
)
def test_a_broken_file_is_rejected_whole(message: dict[str, Any], error_class: str) -> None:
    with pytest.raises(Rejected) as caught:
        unpack(orjson.dumps(message))
    assert caught.value.error_class == error_class
    assert caught.value.reason.startswith("payment file:")


def test_big_messages_are_oversize_unless_they_are_files(lines: list[bytes]) -> None:
    big_event = orjson.dumps({"event_id": "x", "pad": "y" * MAX_MESSAGE_BYTES})
    with pytest.raises(Rejected) as caught:
        unpack(big_event)
    assert caught.value.error_class == "oversize"
    with pytest.raises(Rejected) as caught:
        unpack(b"[" * (MAX_MESSAGE_BYTES + 1))
    assert caught.value.error_class == "oversize"
    value = orjson.dumps(
        {
            "file_id": "00000000-0000-4000-8000-000000000000",
            "schema_version": 1,
            "source": "s",
            "created_at": "2023-06-05T01:00:00Z",
            "events": [orjson.loads(line) for line in lines],
        }
    )
    assert len(value) > MAX_MESSAGE_BYTES
    events, is_file = unpack(value)
    assert is_file and len(events) > 100
