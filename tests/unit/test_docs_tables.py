"""The docs' generated tables are current, and docs/cli.md names every command and option.

Like the dashboards' JSON check (`dashboards build --check`): a table copied by hand goes
stale silently, so the committed text is compared with what the code renders now.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.cli.main import build_parser
from streams.harness import docs_tables

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("table", docs_tables.TABLES, ids=lambda t: t.name)
def test_the_committed_table_is_what_the_code_gives(table: docs_tables.Table) -> None:
    text = table.path.read_text(encoding="utf-8")
    assert text == docs_tables.regenerate(text, table), (
        f"{table.path.relative_to(ROOT)}: the {table.name} table is stale; run `make docs`"
    )


def test_a_hand_edit_of_a_table_is_found_stale() -> None:
    table = next(t for t in docs_tables.TABLES if t.name == "settings")
    committed = table.path.read_text(encoding="utf-8")
    edited = committed.replace("`LOG_LEVEL`", "`LOG_LEVELS`")
    assert edited != committed
    assert docs_tables.regenerate(edited, table) == committed
    with pytest.raises(ValueError, match="markers"):
        docs_tables.regenerate("no markers here", table)


def test_every_setting_is_in_the_table_with_its_default() -> None:
    rendered = docs_tables.settings_table()
    for name in docs_tables.Settings.model_fields:
        assert f"| `{name.upper()}` |" in rendered
    assert "| `TOPIC_PARTITIONS` | integer | `4` |" in rendered
    assert "| `PSEUDONYM_KEY` | secret, optional | unset |" in rendered


def test_the_contracts_table_lists_every_schema_and_its_enums() -> None:
    rendered = docs_tables.contracts_table()
    for path in (ROOT / "schemas" / "events").glob("*.json"):
        assert f"| `{path.name}` |" in rendered
    assert "`reason` (deceased, moved_away, no_longer_eligible)" in rendered
    assert "`amount_vnd` (> 0)" in rendered


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield " ".join(path), parser
    for action in subparsers:
        for name, child in action.choices.items():
            yield from _commands(child, (*path, name))


def test_docs_cli_names_every_command_and_its_options() -> None:
    """Each leaf command has a row in docs/cli.md naming each of its long options, except
    `--lang`, which every command takes and the page describes once."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `welfare-monitor ")]
    problems = []
    for command, parser in _commands(build_parser()):
        pattern = re.compile(rf"^\| `welfare-monitor {re.escape(command)}[ `]")
        mine = " ".join(row for row in rows if pattern.match(row))
        if not mine:
            problems.append(f"no row for `welfare-monitor {command}`")
            continue
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option not in ("--help", "--lang"):
                    if option not in mine:
                        problems.append(f"`welfare-monitor {command}`: {option} not documented")
    assert "--lang vi|en" in text
    assert not problems, "\n".join(problems)
