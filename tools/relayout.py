"""Issue 16: move the modules of `streams/` into rooms, and rewrite every reference to them.

Run at the repository root:

    python tools/relayout.py                 # git mv per MAPPING, then rewrite references
    python tools/relayout.py --rewrite-only  # only rewrite references (idempotent)
    python tools/relayout.py --move-only     # only the git mv step (a pure-rename commit)
    python tools/relayout.py --check         # list what would change, change nothing

The rewrite is idempotent: a reference already at its new path is left alone, so it can be
run again after merging branches that were written against the old paths. It ends by listing
modules still at the old top level of `streams/` that MAPPING does not place (new files from
other branches): add them to MAPPING and run again (moves already done are skipped).

After merging a branch written against the old paths:
1. resolve conflicts in moved files by taking that branch's side, then
   `python tools/relayout.py` (moves new files listed in MAPPING, rewrites every reference);
2. `pip install -e .` (the console script and the pytest11 plugin moved: streams.cli.main,
   streams.harness.testing), then `ruff check .` (a rewritten line may pass 100 characters);
3. lines added to the old streams/cli.py go to streams/cli/main.py (parser) or to the group
   module of their command (NAME_MOVES lists which); "CHECK" lines name moved modules that
   locate files relative to themselves (one directory deeper now).

This script is a one-off for the merge of issue 16; delete it afterwards.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

# old dotted module -> new dotted module
MAPPING: dict[str, str] = {
    # added by the branches merged with it (people)
    "streams.followup": "streams.cli.followup",
    "streams.scenario_text": "streams.cli.scenario_text",
    "streams.target_rules": "streams.storage.target_rules",
    # (perf)
    "streams.bench_agent": "streams.harness.bench_agent",
    "streams.folded_cache": "streams.storage.folded_cache",
    # top level: settings, errors, i18n stay; process -> processes
    "streams.process": "streams.processes",
    # domain: pure rules, no Faust, no asyncio, no I/O
    "streams.access": "streams.domain.access_points",
    "streams.aggregation": "streams.domain.statistics",
    "streams.alerts": "streams.domain.alerts",
    "streams.ingest": "streams.domain.ingest",
    "streams.pseudonym": "streams.domain.pseudonym",
    "streams.reference": "streams.domain.reference",
    # pipeline: Faust wiring around the domain
    "streams.app": "streams.pipeline.app",
    "streams.agents.payments": "streams.pipeline.agent",
    "streams.worker": "streams.pipeline.worker",
    "streams.batching": "streams.pipeline.batching",
    "streams.durable_tables": "streams.pipeline.durable_tables",
    "streams.ingest_pool": "streams.pipeline.ingest_pool",
    "streams.agents.roles": "streams.pipeline.roles",
    "streams.agents.forward": "streams.pipeline.forward",
    # storage: the client, migrate, sink, the read model's SQL, the ledger
    "streams.sink": "streams.storage.sink",
    "streams.queries": "streams.storage.queries",
    "streams.ledger": "streams.storage.ledger",
    "streams.explain": "streams.storage.explain",
    "streams.targets": "streams.storage.targets",
    # web: the live page, its data, the static report, exports
    "streams.agents.web": "streams.web.views",
    "streams.live_page": "streams.web.live_page",
    "streams.live_data": "streams.web.live_data",
    "streams.html_parts": "streams.web.html_parts",
    "streams.static_report": "streams.web.static_report",
    "streams.export": "streams.web.export",
    # replay: producing to Kafka, payment files, topic admin and end offsets
    "streams.kafka_io": "streams.replay.kafka_io",
    "streams.payment_files": "streams.replay.payment_files",
    "streams.end_offsets": "streams.replay.end_offsets",
    # harness: embedded broker and service, catch-up probe, verify, bench, the test kit
    "streams.broker": "streams.harness.broker",
    "streams.embedded": "streams.harness.embedded",
    "streams.service": "streams.harness.service",
    "streams.catchup": "streams.harness.catchup",
    "streams.verify": "streams.harness.verify",
    "streams.bench": "streams.harness.bench",
    "streams.bench_freshness": "streams.harness.bench_freshness",
    "streams.bench_growth": "streams.harness.bench_growth",
    "streams.bench_history": "streams.harness.bench_history",
    "streams.sql_reference": "streams.harness.sql_reference",
    "streams.testing": "streams.harness.testing",
    "streams.workers": "streams.harness.workers",
    "streams.docs_tables": "streams.harness.docs_tables",
    # cli: one module per command group; main parses and dispatches
    "streams.cli": "streams.cli.main",
    "streams.ops_commands": "streams.cli.ops",
    "streams.target_commands": "streams.cli.targets",
    "streams.importer.command": "streams.cli.importer",
    "streams.report": "streams.cli.render",
}

# Names split out of a moved module: new module -> {name: module that holds it now}.
# (`_settings`, `_data_dir_settings` and `write_report` are also re-exported by cli.main.)
NAME_MOVES: dict[str, dict[str, str]] = {
    "streams.cli.main": {
        "DEFAULT_SCENARIO": "streams.cli.common",
        "_STAGES": "streams.cli.common",
        "_UNITS": "streams.cli.common",
        "_EVENTS_PER_S": "streams.cli.common",
        "out": "streams.cli.common",
        "err": "streams.cli.common",
        "_progress": "streams.cli.common",
        "ProgressObserver": "streams.cli.common",
        "_store_settings": "streams.cli.common",
        "_ledger_store": "streams.cli.common",
        "_simulate_to": "streams.cli.simulate",
        "_check_scenarios": "streams.cli.simulate",
        "cmd_simulate": "streams.cli.simulate",
        "cmd_replay": "streams.cli.simulate",
        "_run_pipeline": "streams.cli.run",
        "cmd_report": "streams.cli.run",
        "RESULT_LEVELS": "streams.cli.run",
        "cmd_run": "streams.cli.run",
        "_no_events": "streams.cli.run",
        "_read_truth": "streams.cli.run",
        "_verify": "streams.cli.run",
        "_print_results": "streams.cli.run",
        "cmd_demo": "streams.cli.run",
        "cmd_worker": "streams.cli.server",
        "cmd_migrate": "streams.cli.server",
        "cmd_serve": "streams.cli.server",
        "cmd_verify": "streams.cli.server",
        "cmd_import": "streams.cli.importer",
        "cmd_targets_import": "streams.cli.targets",
        "cmd_targets_show": "streams.cli.targets",
        "cmd_dashboards_build": "streams.cli.outputs",
        "cmd_dashboards_push": "streams.cli.outputs",
        "cmd_export_coverage": "streams.cli.outputs",
        "cmd_bench": "streams.cli.outputs",
        "cmd_explain": "streams.cli.ledger",
        "cmd_lookup": "streams.cli.ledger",
    },
    "streams.harness.bench": {
        name: "streams.harness.bench_report"
        for name in (
            "MARK_BEGIN",
            "MARK_END",
            "machine",
            "report_markdown",
            "update_benchmarks_file",
        )
    },
    # the pure fold; storage.ledger still re-exports Figures, current and digest
    "streams.storage.ledger": {
        name: "streams.domain.ledger"
        for name in (
            "PAYMENT_COLUMNS",
            "StoredAt",
            "fact_of",
            "stored_at",
            "fold_order",
            "records",
            "figures_of",
        )
    },
}

# Packages created for the rooms, with their docstrings.
PACKAGES: dict[str, str] = {
    "streams.domain": "Pure rules: no Faust, no asyncio, no I/O.",
    "streams.pipeline": "Faust wiring around the domain rules: the app, the agent, the worker.",
    "streams.web": "The live page, its data and assets, the static report and exports.",
    "streams.replay": "Sending events to Kafka: producers, payment files, topic admin.",
    "streams.harness": "Embedded broker and service, catch-up probe, verify, bench, test kit.",
    "streams.cli": "The `welfare-monitor` command line: one module per command group.",
}

# Old packages left empty by the moves.
REMOVED_PACKAGES = ["streams.agents"]

# Directories moved whole (data, not modules).
DIRS: dict[str, str] = {"streams/assets": "streams/web/assets"}

# Modules that stay at the top of streams/.
TOP_LEVEL = {"__init__", "__main__", "settings", "errors", "processes", "i18n"}

# Exact text edits the generic rules cannot express: (file, old, new). Idempotent.
SPECIAL: list[tuple[str, str, str]] = [
    ("streams/web/live_page.py", 'files("streams") / "assets"', 'files("streams.web") / "assets"'),
    ("pyproject.toml", '"assets/*.css", "assets/*.js"', '"web/assets/*.css", "web/assets/*.js"'),
]

TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".txt", ".sh", ".in"}
TEXT_NAMES = {"Makefile", "Dockerfile", "run", ".dockerignore", ".gitignore"}
SKIP = {"tools/relayout.py"}

# `streams.cli` is both an old module and a new package: the old module wins, so
# `streams.cli:main` becomes `streams.cli.main:main`. Hence never write
# `from streams.cli import <submodule>`; write `from streams.cli.<submodule> import ...`.
NEW_MODULES = (
    set(MAPPING.values())
    | (set(PACKAGES) - set(MAPPING))
    | {module for names in NAME_MOVES.values() for module in names.values()}
)
DOTTED = re.compile(r"(?<![\w.])streams(?:\.[A-Za-z_]\w*)+")
PATH = re.compile(r"(?<![\w/.])streams/[\w/]+\.py\b")


def module_path(module: str) -> str:
    return module.replace(".", "/") + ".py"


PATHS = {module_path(old): module_path(new) for old, new in MAPPING.items()}


# Old modules that are new packages too (`streams.cli`): the bare name is rewritten only
# where it names the old module for sure: `streams.cli:main`, `from streams.cli import ...`.
AMBIGUOUS = set(PACKAGES) & set(MAPPING)


def rewrite_dotted(match: re.Match[str]) -> str:
    name = match.group(0)
    after = match.string[match.end() : match.end() + 8]
    if name in AMBIGUOUS and after and not after.startswith((":", " import")):
        return name
    parts = name.split(".")
    for n in range(len(parts), 1, -1):
        prefix = ".".join(parts[:n])
        if prefix in NEW_MODULES:
            return moved_name(prefix, parts[n:])  # already a new path
        if prefix in MAPPING:
            return moved_name(MAPPING[prefix], parts[n:])
    return name


def moved_name(module: str, rest: list[str]) -> str:
    """`module.rest`, or the module a split moved `rest[0]` to."""
    if rest and rest[0] in NAME_MOVES.get(module, {}):
        module = NAME_MOVES[module][rest[0]]
    return ".".join([module, *rest])


def split_module(module: str) -> tuple[str, str]:
    parent, _, name = module.rpartition(".")
    return parent, name


def rewrite_import_from(source: str) -> str:
    """`from streams import ledger` -> `from streams.storage import ledger`, per name."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if not node.module.startswith("streams"):
            continue
        resolved = DOTTED.sub(rewrite_dotted, node.module)
        split = NAME_MOVES.get(resolved, {})
        moved = [a for a in node.names if f"{node.module}.{a.name}" in MAPPING]
        moved += [a for a in node.names if a.name in split]
        if not moved:
            continue
        start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        indent = lines[start][: node.col_offset]
        statements = []
        kept = [a for a in node.names if a not in moved]
        if kept:
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in kept)
            statements.append(f"{indent}from {node.module} import {names}\n")
        for alias in moved:
            if alias.name in split:
                names = alias.name + (f" as {alias.asname}" if alias.asname else "")
                statements.append(f"{indent}from {split[alias.name]} import {names}\n")
                continue
            parent, name = split_module(MAPPING[f"{node.module}.{alias.name}"])
            local = alias.asname or alias.name
            suffix = "" if local == name else f" as {local}"
            statements.append(f"{indent}from {parent} import {name}{suffix}\n")
        edits.append((start, end, "".join(statements)))
    for start, end, text in sorted(edits, reverse=True):
        lines[start : end + 1] = [text]
    return "".join(lines)


def rewrite_text(path: str, text: str) -> str:
    if path.endswith(".py"):
        text = rewrite_import_from(text)
    text = DOTTED.sub(rewrite_dotted, text)
    text = PATH.sub(lambda m: PATHS.get(m.group(0), m.group(0)), text)
    for old_dir, new_dir in DIRS.items():
        text = re.sub(rf"(?<![\w/.]){re.escape(old_dir)}\b", new_dir, text)
    for file, old, new in SPECIAL:
        if path == file and new not in text:
            text = text.replace(old, new)
    return text


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def text_files() -> list[str]:
    files = []
    for name in git("ls-files").splitlines():
        p = Path(name)
        if name in SKIP or not p.is_file():
            continue
        if p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES or name.startswith(".ci/"):
            files.append(name)
    return files


def move() -> None:
    for package, doc in PACKAGES.items():
        directory = Path(package.replace(".", "/"))
        directory.mkdir(parents=True, exist_ok=True)
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text(f'"""{doc}"""\n', encoding="utf-8")
            git("add", str(init))
    for old, new in [*PATHS.items(), *DIRS.items()]:
        if Path(old).exists() and not Path(new).exists():
            Path(new).parent.mkdir(parents=True, exist_ok=True)
            git("mv", old, new)
            print(f"moved  {old} -> {new}")
        elif Path(old).exists():
            sys.exit(f"both {old} and {new} exist: merge them by hand, then run again")
    for package in REMOVED_PACKAGES:
        directory = Path(package.replace(".", "/"))
        init = directory / "__init__.py"
        leftovers = [p for p in directory.glob("*.py") if p != init]
        if init.exists() and not leftovers:
            git("rm", "-q", str(init))
            shutil.rmtree(directory / "__pycache__", ignore_errors=True)
            print(f"removed {init}")


def rewrite(check: bool) -> list[str]:
    changed = []
    for name in text_files():
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite_text(name, text)
        if new != text:
            changed.append(name)
            if not check:
                path.write_text(new, encoding="utf-8")
    return changed


def sort_imports(files: list[str]) -> None:
    ruff = shutil.which("ruff") or str(Path(".venv/bin/ruff"))
    py = [f for f in files if f.endswith(".py")]
    if py and Path(ruff).exists():
        subprocess.run([ruff, "check", "--quiet", "--select", "I", "--fix", *py], check=False)


def unplaced() -> list[str]:
    """Modules still at old places: top-level streams/*.py and streams/agents/*.py."""
    left = []
    for p in sorted(Path("streams").glob("*.py")):
        if p.stem not in TOP_LEVEL:
            left.append(str(p))
    for package in REMOVED_PACKAGES:
        left += [str(p) for p in sorted(Path(package.replace(".", "/")).glob("*.py"))]
    return left


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rewrite-only", action="store_true", help="do not move, only rewrite")
    parser.add_argument("--move-only", action="store_true", help="only git mv, rewrite nothing")
    parser.add_argument("--check", action="store_true", help="change nothing, list the changes")
    args = parser.parse_args()
    if not Path("streams/__init__.py").exists():
        sys.exit("run at the repository root")
    if not (args.rewrite_only or args.check):
        move()
    if args.move_only:
        return 0
    changed = rewrite(args.check)
    if not args.check:
        sort_imports(changed)
    for name in changed:
        print(f"{'would rewrite' if args.check else 'rewrote'} {name}")
    for module in sorted(set(MAPPING.values())):
        path = Path(module_path(module))
        if path.exists() and re.search(r"__file__|files\(\"streams\"\)", path.read_text("utf-8")):
            print(f"CHECK (a path relative to the module, one level deeper now?): {path}")
    left = unplaced()
    for name in left:
        print(f"NOT PLACED (add to MAPPING): {name}")
    return 1 if (args.check and changed) or left else 0


if __name__ == "__main__":
    raise SystemExit(main())
