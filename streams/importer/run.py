"""Importing a file: rows -> events, bad rows -> an errors file and dead letters, events ->
the embedded pipeline or a Kafka cluster (server mode)."""

from __future__ import annotations

import csv
import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import SecretStr

from schemas.contracts import EventInvalid, validate_event
from schemas.i18n import N_, _
from streams.domain.ingest import redact
from streams.errors import InputError
from streams.importer.mapping import REQUIRED, Mapping
from streams.importer.read import open_sheet
from streams.importer.rows import RowError, RowReader
from streams.storage.base import Store

if TYPE_CHECKING:
    from streams.harness.embedded import RunObserver

DEAD_LETTER_CLASS = "import_row"


@dataclass(frozen=True)
class RowProblem:
    """A rejected row: its number in the file, the column (header) and why."""

    row: int
    column: str
    reason: str


@dataclass
class Converted:
    """A file's events (by row identity) and its rejected rows."""

    file_name: str
    digest: str  # sha256 of the file's bytes
    rows: int = 0
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def event_lines(self) -> list[bytes]:
        """The events as JSON lines, in row order."""
        return [orjson.dumps(e) for events in self.events.values() for e in events]


def convert(
    path: Path,
    kind: str,
    mapping: Mapping,
    key: bytes,
    sheet: str | None = None,
    on_rows: Callable[[int, int], None] | None = None,
) -> Converted:
    """Read `path` and turn every row into events; `on_rows(done, total)` reports progress."""
    table = open_sheet(path, mapping, REQUIRED[kind], sheet)
    reader = RowReader(kind, mapping, table.columns, key)
    out = Converted(path.name, hashlib.sha256(path.read_bytes()).hexdigest())
    first_row: dict[str, int] = {}
    for number, cells in table.rows:
        out.rows += 1
        try:
            found = reader.events(cells)
            for event in found.events:
                validate_event(event)
        except RowError as e:
            out.problems.append(RowProblem(number, mapping.header_of(e.field), redact(e.reason)))
        except EventInvalid as e:  # a mapping that yields values the contract refuses
            out.problems.append(RowProblem(number, "", redact(e.reason)))
        else:
            if found.identity in first_row:
                out.problems.append(
                    RowProblem(
                        number,
                        "",
                        _(
                            "the same row as row {row} (same beneficiary, period, programme "
                            "and attempt, or access point id)"
                        ).format(row=first_row[found.identity]),
                    )
                )
            else:
                first_row[found.identity] = number
                out.events[found.identity] = found.events
        if on_rows is not None and out.rows % 200 == 0:
            on_rows(out.rows, max(table.total, out.rows))
    if on_rows is not None:
        on_rows(out.rows, out.rows)
    return out


# The errors file's column headers, in the current language (its values stay as they are).
ERRORS_HEADER = (N_("file"), N_("row"), N_("column"), N_("reason"))


def write_errors(path: Path, converted: Converted) -> None:
    """The errors file: one line per rejected row (row, column, reason); no cell values
    that could be a CCCD."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([_(h) for h in ERRORS_HEADER])
        for p in converted.problems:
            writer.writerow([converted.file_name, p.row, p.column, p.reason])


def dead_letter_rows(converted: Converted, at: datetime | None = None) -> list[dict[str, Any]]:
    """Dead-letter records of the rejected rows, keyed by the file's content and row, so a
    second import of the same file replaces them rather than adding more."""
    at = at or datetime.now(UTC)
    return [
        {
            "received_at": at,
            "source_topic": f"import:{converted.digest[:16]}",
            "source_partition": 0,
            "source_offset": p.row,
            "source_index": 0,
            "error_class": DEAD_LETTER_CLASS,
            "reason": redact(
                (
                    _("{file} row {row}, column {column}: {reason}")
                    if p.column
                    else _("{file} row {row}: {reason}")
                ).format(file=converted.file_name, row=p.row, column=p.column, reason=p.reason)
            ),
        }
        for p in converted.problems
    ]


def store_dead_letters(store: Store, converted: Converted) -> int:
    """Insert the rejected rows into the dead_letters table; returns how many."""
    rows = dead_letter_rows(converted)
    if rows:
        store.insert("dead_letters", rows)
    return len(rows)


def publish_dead_letters(bootstrap_servers: str, topic: str, converted: Converted) -> int:
    """Send the rejected rows' records to the dead-letter topic with the worker's KIP-298
    headers (server mode); returns how many."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    from streams.replay.kafka_io import BOOTSTRAP_TIMEOUT_MS, unreachable

    rows = dead_letter_rows(converted)
    if not rows:
        return 0
    try:
        producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        )
        try:
            for r in rows:
                headers = [
                    ("__connect.errors.topic", r["source_topic"].encode()),
                    ("__connect.errors.partition", b"0"),
                    ("__connect.errors.offset", str(r["source_offset"]).encode()),
                    ("__connect.errors.exception.class.name", DEAD_LETTER_CLASS.encode()),
                    ("__connect.errors.exception.message", r["reason"].encode()),
                ]
                producer.send(topic, orjson.dumps(r), headers=headers)
            producer.flush()
        finally:
            producer.close()
    except KafkaError as e:
        raise unreachable(bootstrap_servers, e) from e
    return len(rows)


# --- embedded mode: the data dir's key; no register of rows (the ledger keeps them) -------


def data_dir_key(imports_dir: Path, configured: SecretStr | None) -> SecretStr:
    """PSEUDONYM_KEY, or a key kept in the data dir, so ids and pseudonyms stay stable
    across imports into it."""
    if configured is not None:
        return configured
    key_file = imports_dir / "pseudonym.key"
    if not key_file.exists():
        imports_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return SecretStr(key_file.read_text().strip())


OLD_REGISTER = ("rows.jsonl", "rows.tmp")


def remove_old_register(imports_dir: Path, observer: RunObserver) -> None:
    """Delete the register of imported rows that earlier versions kept in the data dir
    (`imports/rows.jsonl`: the events as sent, citizen IDs included), with a notice. The
    ledger holds every imported row, so nothing is lost."""
    for name in OLD_REGISTER:
        path = imports_dir / name
        if path.exists():
            path.unlink()
            observer.notice(
                _(
                    "removed {path}: the old register of imported rows (it held citizen IDs); "
                    "the data dir's ledger keeps every imported row"
                ).format(path=path)
            )


def errors_path(input_path: Path, given: str | None) -> Path:
    """Where the errors file goes: --errors, or FILE.errors.csv beside the input."""
    if given:
        return Path(given)
    return input_path.with_name(input_path.name + ".errors.csv")


def check_input(path: Path) -> None:
    """A clear error for a file that cannot be imported at all."""
    if not path.is_file():
        raise InputError(_("{path} is not a file").format(path=path))
