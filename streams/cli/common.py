"""What the command groups share: the consoles, progress bars, settings from options."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from schemas import i18n
from schemas.i18n import N_, _
from streams.errors import InputError
from streams.settings import Settings

DEFAULT_SCENARIO = "binh-dinh-2023-06"
_STAGES = {
    "simulate": N_("Simulating events"),
    "produce": N_("Sending to Kafka"),
    "process": N_("Messages processed"),
}
# The worker's progress is its committed offsets: messages, each an event or a payment file.
_UNITS = {"process": N_("messages/s")}
_EVENTS_PER_S = N_("events/s")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


class ProgressObserver:
    """Draws an embedded run's stages as rich progress bars with their rates."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._tasks: dict[str, TaskID] = {}

    def started(self, stage: str, total: int | None) -> None:
        self._tasks[stage] = self.progress.add_task(
            _(_STAGES[stage]) if stage in _STAGES else stage, total=total, rate=""
        )

    def advanced(self, stage: str, completed: int) -> None:
        task_id = self._tasks[stage]
        task = self.progress.tasks[task_id]
        elapsed = task.elapsed or 0.0
        unit = _(_UNITS.get(stage, _EVENTS_PER_S))
        speed = f"{i18n.current().number(completed / elapsed)} {unit}" if elapsed > 0.5 else ""
        self.progress.update(task_id, completed=completed, rate=speed)

    def notice(self, message: str) -> None:
        self.progress.console.print(f"[yellow]{message}[/]", highlight=False)

    def finished(self, stage: str, total: int) -> None:
        """A stage whose size was unknown ended with `total` units."""
        self.progress.update(self._tasks[stage], total=total, completed=total)


# --- run / demo -----------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the command's --file-events, --key and --lang."""
    settings = Settings().model_copy(update={"language": i18n.current().code})
    file_events = getattr(args, "file_events", None)
    if file_events is not None:
        settings = settings.model_copy(update={"replay_file_events": file_events})
    key = getattr(args, "key", None)
    if key is not None:
        settings = settings.model_copy(update={"replay_key": key})
    if getattr(args, "workers", None) is not None:
        settings = settings.model_copy(update={"embedded_workers": args.workers})
    return settings


def _data_dir_settings(data_dir: Path) -> Settings:
    """Settings that read the chDB data an embedded run kept in `data_dir`."""
    chdb_path = data_dir / "chdb"
    if not chdb_path.is_dir():
        raise InputError(
            _("{data_dir} holds no chDB data (expected {chdb_path})").format(
                data_dir=data_dir, chdb_path=chdb_path
            )
        )
    return Settings().model_copy(update={"clickhouse_url": None, "chdb_path": chdb_path})


# --- targets --------------------------------------------------------------------------------


def _store_settings(args: argparse.Namespace) -> Settings:
    return _data_dir_settings(Path(args.data_dir)) if args.data_dir else Settings()


def _ledger_store(args: argparse.Namespace) -> tuple[Settings, Any]:
    """Settings and an open store for `explain`/`lookup` (a data dir's chDB, or the server)."""
    from streams.storage import open_store

    settings = _data_dir_settings(Path(args.data_dir)) if args.data_dir else Settings()
    return settings, open_store(settings)
