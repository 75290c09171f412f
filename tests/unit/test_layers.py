"""The layers, read from the imports: a table of rules, checked by parsing every module.

Every `import` and `from ... import` is collected with `ast` (function-local ones too, since
those are how cycles hide), and each rule says which package may not import which. Add a
rule as one more row; the message names the file, the line and the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Rule:
    """Modules under `source` may not import `forbidden` (nor anything under it), except the
    modules under an `exempt` path."""

    source: str
    forbidden: str
    why: str
    exempt: tuple[str, ...] = field(default=())


# Harness and command-line modules may drive the simulators (demo, simulate, replay
# --scenario, bench, the test kit); the pipeline, storage and web code may not.
SIMULATOR_DRIVERS = (
    "streams/cli/main.py",
    "streams/cli/",
    "streams/harness/",
    "streams/cli/ops.py",
    "streams/harness/bench.py",
    "streams/harness/bench_growth.py",
    "streams/harness/testing.py",
)

RULES = (
    Rule("schemas", "streams", "contracts, DDL, reference data and shared SQL are the bottom"),
    Rule("schemas", "dashboards", "contracts, DDL, reference data and shared SQL are the bottom"),
    Rule("schemas", "simulators", "contracts, DDL, reference data and shared SQL are the bottom"),
    Rule("dashboards", "streams", "shared SQL lives in schemas/read_model.py"),
    Rule("simulators", "streams", "the ground truth is counted without the pipeline's code"),
    Rule("simulators", "dashboards", "the ground truth is counted without the pipeline's code"),
    Rule("streams", "simulators", "production code needs no simulator", SIMULATOR_DRIVERS),
)

# Imports that break a rule today, each with the reason it is still there. The test fails
# when one of them is gone, so this list only shrinks.
KNOWN: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    path: str  # relative to the repository, with forward slashes
    line: int
    module: str


def imports(package: str, root: Path = ROOT) -> Iterator[Import]:
    """Every absolute import in the package's modules."""
    for file in sorted((root / package).rglob("*.py")):
        relative = file.relative_to(root).as_posix()
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=relative)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(relative, node.lineno, alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield Import(relative, node.lineno, node.module)


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(rule: Rule, root: Path = ROOT) -> list[Import]:
    return [
        found
        for found in imports(rule.source, root)
        if _under(found.module, rule.forbidden)
        and not any(found.path.startswith(path) for path in rule.exempt)
    ]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.source}-not-{r.forbidden}")
def test_no_import_breaks_the_rule(rule: Rule) -> None:
    found = [v for v in violations(rule) if (v.path, v.module) not in KNOWN]
    assert not found, f"{rule.source} may not import {rule.forbidden} ({rule.why}):\n" + "\n".join(
        f"  {v.path}:{v.line} imports {v.module}" for v in found
    )


def test_the_known_exceptions_still_exist() -> None:
    """Remove an entry from KNOWN once its import is gone."""
    present = {(v.path, v.module) for rule in RULES for v in violations(rule)}
    assert set(KNOWN) <= present, sorted(set(KNOWN) - present)


def test_a_local_import_breaking_a_rule_is_found(tmp_path: Path) -> None:
    """The check itself can fail: imports inside functions count, exempt paths do not."""
    (tmp_path / "streams" / "harness").mkdir(parents=True)
    (tmp_path / "streams" / "storage").mkdir(parents=True)
    (tmp_path / "streams" / "storage" / "sink.py").write_text(
        "import os\n\ndef f():\n    from simulators.units import provinces\n"
    )
    (tmp_path / "streams" / "harness" / "bench.py").write_text("import simulators.generator\n")
    rule = next(r for r in RULES if (r.source, r.forbidden) == ("streams", "simulators"))
    assert violations(rule, tmp_path) == [Import("streams/storage/sink.py", 4, "simulators.units")]
    assert not _under("simulatorsx", "simulators")
