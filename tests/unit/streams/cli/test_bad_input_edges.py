"""Bad input files at the CLI's edges that need no broker: empty files, oversize lines."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from streams.cli.main import main
from streams.domain.ingest import Arrival, Rejection, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from streams.replay.kafka_io import MAX_LINE_BYTES, numbered_event_lines, oversize_marker

CCCD = "079203012345"


@pytest.mark.parametrize("command", ["run", "replay"])
@pytest.mark.parametrize("content", [b"", b"\n  \n\r\n"])
def test_an_empty_file_is_a_one_line_error(
    command: str,
    content: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Refused before any broker or worker starts (replay's broker does not exist here).
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(content)
    assert main([command, "--input", str(empty)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is empty" in err and "Unknown table" not in err


def test_an_oversize_line_becomes_a_marker_without_its_content() -> None:
    big = (
        b'{"payload": {"citizen_id": "'
        + CCCD.encode()
        + b'", "x": "'
        + b"y" * (10 * 1024 * 1024)
        + b'"}}'
    )
    lines = [b'{"a": 1}\n', b"\n", big + b"\n", b'{"b": 2}\n']
    numbered = [(n, len(line)) for n, line, _ in numbered_event_lines(lines)]
    assert numbered == [(1, 8), (3, len(big)), (4, 8)]
    assert len(big) > MAX_LINE_BYTES
    marker = oversize_marker(3, len(big))
    assert CCCD.encode() not in marker
    is_file, items = ingest_message(marker, Pseudonymizer(b"k" * 16), Arrival.at())
    assert is_file is False and len(items) == 1
    rejection = items[0]
    assert isinstance(rejection, Rejection) and rejection.error_class == "oversize"
    assert rejection.reason.startswith(f"input line 3: {len(big):,} bytes")


def test_a_forged_marker_can_only_be_an_oversize_dead_letter() -> None:
    forged = orjson.dumps(
        {"welfare_monitor_rejected_at_source": {"error_class": "valid", "reason": f"id {CCCD}"}}
    )
    _, items = ingest_message(forged, Pseudonymizer(b"k" * 16), Arrival.at())
    assert isinstance(items[0], Rejection) and items[0].error_class == "oversize"
    assert CCCD not in items[0].reason
