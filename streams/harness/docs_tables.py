"""Tables in the docs that are generated from the code, never copied by hand.

`python -m streams.harness.docs_tables` (or `make docs`) rewrites every table between its marker
comments; `--check` only reports the stale ones and exits 1 (a unit test does the same).

- docs/operations.md, `settings`: one row per field of `streams.settings.Settings`.
- schemas/README.md, `contracts`: one row per JSON Schema in `schemas/events/`.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EVENT_SCHEMAS = ROOT / "schemas" / "events"


@dataclass(frozen=True)
class Table:
    """A generated table: the file it lives in, its marker name and how to render it."""

    path: Path
    name: str
    render: Callable[[], str]

    @property
    def begin(self) -> str:
        return f"<!-- BEGIN GENERATED {self.name}: python -m streams.harness.docs_tables -->"

    @property
    def end(self) -> str:
        return f"<!-- END GENERATED {self.name} -->"


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in args)
    if origin in (typing.Union, types.UnionType):
        kept = [arg for arg in args if arg is not type(None)]
        return " \\| ".join(_type_name(arg) for arg in kept) + (
            ", optional" if len(kept) < len(args) else ""
        )
    if origin is tuple:
        return f"{len(args)} integers (JSON list)"
    if annotation is SecretStr:
        return "secret"
    if annotation is Path:
        return "path"
    names = {str: "text", int: "integer", float: "number", bool: "boolean"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "empty" if not value.get_secret_value() else "(secret)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return f"`{json.dumps(list(value), separators=(',', ':'))}`"
    return f"`{value}`"


def settings_table() -> str:
    """Every setting: environment name, type, default and description, in declaration order."""
    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise ValueError(f"Settings.{name} has no description: add Field(description=...)")
        description = " ".join(field.description.split()).replace("|", "\\|")
        rows.append(
            f"| `{name.upper()}` | {_type_name(field.annotation)} | {_default(field)} "
            f"| {description} |"
        )
    return "\n".join(rows)


def _field_text(name: str, spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return f"`{name}` ({', '.join(str(value) for value in spec['enum'])})"
    if spec.get("exclusiveMinimum") == 0:
        return f"`{name}` (> 0)"
    return f"`{name}`"


def contracts_table(directory: Path = EVENT_SCHEMAS) -> str:
    """Every event contract: file, title and required fields (with their allowed values)."""
    rows = ["| contract | what it is | required fields |", "|---|---|---|"]
    for path in sorted(directory.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        properties: dict[str, Any] = schema.get("properties", {})
        fields = ", ".join(
            _field_text(name, properties.get(name, {})) for name in schema.get("required", [])
        )
        rows.append(f"| `{path.name}` | {schema.get('title', '')} | {fields} |")
    return "\n".join(rows)


TABLES = (
    Table(ROOT / "docs" / "operations.md", "settings", settings_table),
    Table(ROOT / "schemas" / "README.md", "contracts", contracts_table),
)


def regenerate(text: str, table: Table) -> str:
    """`text` with the table between its markers replaced by a freshly rendered one."""
    start = text.find(table.begin)
    stop = text.find(table.end)
    if start < 0 or stop < start:
        raise ValueError(f"{table.path.name}: markers for the {table.name} table are missing")
    return text[: start + len(table.begin)] + "\n" + table.render() + "\n" + text[stop:]


def stale(tables: Iterable[Table] = TABLES) -> list[Table]:
    """The tables whose committed text differs from what the code gives now."""
    return [t for t in tables if (text := t.path.read_text("utf-8")) != regenerate(text, t)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streams.harness.docs_tables", description=__doc__
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a table is stale")
    args = parser.parse_args(argv)
    if args.check:
        old = stale()
        for table in old:
            print(f"{table.path.relative_to(ROOT)}: the {table.name} table is stale; run make docs")
        return 1 if old else 0
    for table in TABLES:
        text = table.path.read_text(encoding="utf-8")
        table.path.write_text(regenerate(text, table), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
