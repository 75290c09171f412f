"""`welfare-monitor import`: read, report bad rows, send the events (embedded or server)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from schemas import i18n
from schemas.i18n import _
from streams.cli.common import ProgressObserver, _progress, _settings, err, out
from streams.cli.run import _print_results
from streams.errors import InputError
from streams.harness.embedded import EmbeddedPipeline, RunObserver, produce_lines
from streams.importer.mapping import load_mapping
from streams.importer.run import (
    Converted,
    check_input,
    convert,
    data_dir_key,
    errors_path,
    publish_dead_letters,
    remove_old_register,
    store_dead_letters,
    write_errors,
)
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.migrate import migrate
from streams.storage.queries import Results, read_results
from streams.storage.targets import evaluate_alerts

SHOWN_PROBLEMS = 50


@dataclass(frozen=True)
class ImportRequest:
    """The command's arguments."""

    path: Path
    kind: str
    mapping: Path | None = None
    sheet: str | None = None
    data_dir: Path | None = None
    errors: str | None = None


@dataclass
class ImportOutcome:
    """What an import did."""

    converted: Converted
    errors_file: Path | None
    results: Results | None = None


def _read(request: ImportRequest, key: bytes, progress: Progress) -> Converted:
    check_input(request.path)
    mapping = load_mapping(request.kind, request.mapping)
    task = progress.add_task(
        _("Reading {name}").format(name=request.path.name)[:20], total=None, rate=""
    )

    def on_rows(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total, rate=_("rows"))

    return convert(request.path, request.kind, mapping, key, request.sheet, on_rows)


def report_problems(converted: Converted, console: Console, errors_file: Path | None) -> None:
    """Every rejected row on the terminal (the first 50) and where the full list is."""
    lang = i18n.current()
    for p in converted.problems[:SHOWN_PROBLEMS]:
        if p.column:
            line = _("row {row}, column {column}: {reason}").format(
                row=p.row, column=repr(p.column), reason=p.reason
            )
        else:
            line = _("row {row}: {reason}").format(row=p.row, reason=p.reason)
        console.print(line, markup=False, highlight=False)
    if len(converted.problems) > SHOWN_PROBLEMS:
        console.print(
            _("... and {n} more rows").format(
                n=lang.number(len(converted.problems) - SHOWN_PROBLEMS)
            ),
            markup=False,
        )
    if errors_file is not None:
        console.print(
            _("{n} rejected rows listed in {path}").format(
                n=lang.number(len(converted.problems)), path=errors_file
            ),
            markup=False,
        )


def summary_lines(outcome: ImportOutcome) -> list[str]:
    """What the import did, for people: rows read, imported, rejected."""
    lang = i18n.current()
    converted = outcome.converted
    lines = [
        _("{file}: {rows} rows, {good} imported, {bad} rejected").format(
            file=converted.file_name,
            rows=lang.number(converted.rows),
            good=lang.number(len(converted.events)),
            bad=lang.number(len(converted.problems)),
        )
    ]
    return lines


def _errors_file(request: ImportRequest, converted: Converted) -> Path | None:
    path = errors_path(request.path, request.errors)
    try:
        if converted.problems:
            write_errors(path, converted)
            return path
        if request.errors is None and path.exists():
            path.unlink()  # a stale list from an earlier import of this file
    except OSError as e:
        raise InputError(
            _(
                "cannot write the errors file {path}: {reason}; "
                "give --errors FILE elsewhere (nothing was sent)"
            ).format(path=path, reason=e.strerror or e)
        ) from e
    return None


def import_embedded(
    request: ImportRequest, settings: Settings, progress: Progress, observer: RunObserver
) -> ImportOutcome:
    """Import into an embedded data dir: send the file's events (from memory) through the
    broker, worker and chDB, and record the rejected rows as dead letters.

    Only this file is sent: the data dir's ledger keeps every earlier import, drops a
    re-imported row as a duplicate and lets a corrected row supersede the earlier version
    (docs/import.md). Nothing holding a CCCD is written to disk."""
    assert request.data_dir is not None
    imports_dir = request.data_dir / "imports"
    remove_old_register(imports_dir, observer)
    key = data_dir_key(imports_dir, settings.pseudonym_key)
    settings = settings.model_copy(update={"pseudonym_key": key})
    converted = _read(request, key.get_secret_value().encode(), progress)
    outcome = ImportOutcome(converted, _errors_file(request, converted))
    lines = converted.event_lines()
    if lines:
        EmbeddedPipeline(settings, observer).run(request.path, request.data_dir, lines=lines)
    store = open_store(
        settings.model_copy(update={"clickhouse_url": None, "chdb_path": request.data_dir / "chdb"})
    )
    try:
        migrate(store)
        store_dead_letters(store, converted)
        evaluate_alerts(store, settings)
        outcome.results = read_results(store, settings.alert_cashless_target)
    finally:
        store.close()
    return outcome


def import_server(
    request: ImportRequest, settings: Settings, progress: Progress, observer: RunObserver
) -> ImportOutcome:
    """Import into a running deployment: events to KAFKA_BOOTSTRAP_SERVERS, rejected rows to
    the dead-letter topic and ClickHouse's dead letters."""
    from streams.replay.kafka_io import ensure_topics

    if settings.pseudonym_key is None or len(settings.pseudonym_key.get_secret_value()) < 16:
        raise InputError(
            _(
                "server-mode import needs PSEUDONYM_KEY (the worker's key, 16+ bytes), so "
                "event ids stay the same across imports; or give --data-dir"
            )
        )
    converted = _read(request, settings.pseudonym_key.get_secret_value().encode(), progress)
    outcome = ImportOutcome(converted, _errors_file(request, converted))
    lines = converted.event_lines()
    if lines or converted.problems:
        ensure_topics(settings.kafka_bootstrap_servers, settings.topic_layout())
    if lines:
        produce_lines(settings, lines, len(lines), observer)
    if converted.problems:
        publish_dead_letters(
            settings.kafka_bootstrap_servers, settings.dead_letter_topic, converted
        )
        store = open_store(settings)
        try:
            migrate(store)  # a no-op once the worker (or `migrate`) has applied them
            store_dead_letters(store, converted)
        finally:
            store.close()
    return outcome


# --- import ---------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    request = ImportRequest(
        Path(args.file),
        args.kind,
        Path(args.mapping) if args.mapping else None,
        args.sheet,
        Path(args.data_dir) if args.data_dir else None,
        args.errors,
    )
    with _progress() as progress:
        observer = ProgressObserver(progress)
        run = import_embedded if request.data_dir else import_server
        outcome = run(request, _settings(args), progress, observer)
    converted = outcome.converted
    for line in summary_lines(outcome):
        out.print(line, markup=False)
    report_problems(converted, err, outcome.errors_file)
    if outcome.results is not None:
        _print_results(outcome.results)
    return 3 if converted.problems else 0
