"""The rooms of `streams/` (issue 16), checked by parsing every module's imports.

- `streams/domain` holds pure rules: it imports no other room of `streams` (pipeline,
  faust_ext, storage, cli, web, replay, harness) and no Faust, aiokafka, asyncio or
  ClickHouse client;
- `storage` and `replay` do not reach up into the pipeline, the web views or the CLI; `web`
  and `pipeline` not into the CLI or the harness; the harness (and the pytest plugin in it)
  not into the CLI;
- only the top-level modules listed below live directly in `streams/`, every other module
  is in a room;
- no source module is over 400 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STREAMS = ROOT / "streams"
ROOMS = ("domain", "pipeline", "faust_ext", "storage", "web", "replay", "harness", "cli")
TOP_LEVEL = {"__init__", "__main__", "settings", "errors", "processes", "i18n"}
MAX_LINES = 400

# room -> modules it may not import (prefixes of dotted names)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": (
        *(f"streams.{room}" for room in ROOMS if room != "domain"),
        "faust",
        "mode",
        "aiokafka",
        "asyncio",
        "clickhouse_connect",
        "chdb",
    ),
    "storage": ("streams.pipeline", "streams.web", "streams.cli", "streams.harness", "faust"),
    "replay": ("streams.pipeline", "streams.web", "streams.cli", "streams.harness"),
    "web": ("streams.pipeline", "streams.cli", "streams.harness"),
    "pipeline": ("streams.cli", "streams.harness"),
    "harness": ("streams.cli",),
}


def modules(room: str | None = None) -> list[Path]:
    base = STREAMS / room if room else STREAMS
    return sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module an import statement in `path` names."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:  # `from streams import storage` names a module too
                yield node.lineno, f"{node.module}.{alias.name}"


def violations(room: str, files: list[Path]) -> list[str]:
    found = []
    for path in files:
        for line, name in imported(path):
            for banned in FORBIDDEN[room]:
                if name == banned or name.startswith(banned + "."):
                    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    found.append(f"{where}:{line} imports {name}")
    return found


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_rooms_import_only_downwards(room: str) -> None:
    assert modules(room), f"streams/{room} has no modules"
    assert violations(room, modules(room)) == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "rule.py"
    bad.write_text(
        "import asyncio\nfrom streams.storage import ledger\nfrom streams import pipeline\n"
        "from streams.domain.ingest import redact\n",
        encoding="utf-8",
    )
    assert [v.split(" imports ")[1] for v in violations("domain", [bad])] == [
        "asyncio",
        "streams.storage",
        "streams.storage.ledger",
        "streams.pipeline",
    ]


def test_every_module_lives_in_a_room() -> None:
    loose = [p.name for p in STREAMS.glob("*.py") if p.stem not in TOP_LEVEL]
    packages = {p.parent.name for p in STREAMS.glob("*/__init__.py")}
    assert loose == [], "move these into a room (docs/development.md: the rooms)"
    assert packages <= {*ROOMS, "importer"}, "a package outside the rooms"


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
