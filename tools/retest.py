"""Issue 16: move the tests into tests/unit, tests/integration and tests/system, and rewrite
every reference to them.

Run at the repository root:

    python tools/retest.py           # git mv per MAPPING, then rewrite references
    python tools/retest.py --check   # list what would change, change nothing

Where a file goes: no broker, no chDB server, no worker process -> tests/unit/<package>/
(mirroring the packages: streams/<room>/, dashboards/, simulators/, schemas/); the real broker,
a worker process or chDB behind the integration marker -> tests/integration/<package>/; kill -9,
outages, shutdown, docker-compose and the browser -> tests/system/. The folder follows the
`integration` marker: tests/unit/test_test_layout.py checks that no test under tests/unit has it
and every test under tests/integration and tests/system has it.

The rewrite is idempotent: a move already done is skipped and a reference already at its new
path is left alone (a second run reports "0 moves, 0 files rewritten"). After merging branches
written against the old paths (this branch merged last):
1. a file this branch moved and the other branch edited: git's rename detection carries the
   edit to the new path; on a rename/modify conflict take the other branch's content at the new
   path. A file the other branch added in a folder this branch emptied may be put by git next
   to its moved siblings ("CONFLICT (file location)"): accept it (`git add`); if MAPPING names
   it, the script moves it from there to its place. SPLITS below lists the files this branch
   split in two before the moves (each test kept verbatim): an edit to one of their tests goes
   into the half that now holds it;
2. `python tools/retest.py` (with the project's .venv: it runs ruff on what it rewrote): moves
   the files in MAPPING still at their old place, rewrites `from tests.conftest import ...`
   (NAMES: the helpers are in tests/support/ now) and old paths in docs, Makefile,
   pyproject.toml, .ci and code, and lists the test files outside the new folders with a
   suggested place (integration marker or not): add them to MAPPING and run it again. Exit
   status 1 while any is listed;
3. `pytest tests/unit/test_test_layout.py` (folders, markers, packages, unique names, conftest
   fixtures only), `ruff check . && ruff format --check .`, and `pytest --collect-only -q`:
   the same count as before the merge of this branch plus the other branches' new tests.

This script is a one-off for the merge of issue 16; delete it afterwards.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

U, IT, S = "tests/unit", "tests/integration", "tests/system"

# old path -> new path (test files, and the helper files that sit next to them)
MAPPING: dict[str, str] = {
    # dashboards
    "tests/dashboards/test_build.py": f"{U}/dashboards/test_build.py",
    "tests/dashboards/test_macros.py": f"{U}/dashboards/test_macros.py",
    "tests/dashboards/test_provisioning.py": f"{U}/dashboards/test_provisioning.py",
    "tests/dashboards/test_schema.py": f"{U}/dashboards/test_schema.py",
    "tests/dashboards/test_upstream_dashboards.py": f"{U}/dashboards/test_upstream_dashboards.py",
    "tests/dashboards/test_upstream_oracle.py": f"{U}/dashboards/test_upstream_oracle.py",
    "tests/dashboards/test_panels.py": f"{IT}/dashboards/test_panels.py",
    "tests/dashboards/test_pipeline_panels.py": f"{IT}/dashboards/test_pipeline_panels.py",
    "tests/dashboards/test_push.py": f"{IT}/dashboards/test_push.py",
    "tests/dashboards/test_readonly_queries.py": f"{IT}/dashboards/test_readonly_queries.py",
    "tests/dashboards/test_upstream_dashboards_run.py": (
        f"{IT}/dashboards/test_upstream_dashboards_run.py"
    ),
    "tests/dashboards/test_upstream_oracle_run.py": f"{IT}/dashboards/test_upstream_oracle_run.py",
    "tests/dashboards/test_compose_password.py": f"{S}/test_compose_password.py",
    # schemas, simulators
    "tests/schemas/test_contracts.py": f"{U}/schemas/test_contracts.py",
    "tests/schemas/test_fastpath.py": f"{U}/schemas/test_fastpath.py",
    "tests/simulators/test_cccd.py": f"{U}/simulators/test_cccd.py",
    "tests/simulators/test_faults.py": f"{U}/simulators/test_faults.py",
    "tests/simulators/test_generator.py": f"{U}/simulators/test_generator.py",
    "tests/simulators/test_scenarios.py": f"{U}/simulators/test_scenarios.py",
    # the top of streams/ (settings, i18n, processes)
    "tests/streams/test_settings.py": f"{U}/streams/test_settings.py",
    "tests/unit/streams/test_i18n.py": f"{U}/streams/test_i18n.py",
    "tests/unit/streams/test_process.py": f"{U}/streams/test_process.py",
    # streams/domain
    "tests/streams/test_access.py": f"{U}/streams/domain/test_access.py",
    "tests/streams/test_aggregation.py": f"{U}/streams/domain/test_aggregation.py",
    "tests/streams/test_alerts.py": f"{U}/streams/domain/test_alerts.py",
    "tests/streams/test_ingest.py": f"{U}/streams/domain/test_ingest.py",
    "tests/streams/test_ingest_message.py": f"{U}/streams/domain/test_ingest_message.py",
    "tests/unit/test_ledger_fold.py": f"{U}/streams/domain/test_ledger_fold.py",
    # streams/pipeline
    "tests/streams/test_ingest_pool.py": f"{U}/streams/pipeline/test_ingest_pool.py",
    "tests/streams/test_ingest_pool_helpers.py": (
        f"{IT}/streams/pipeline/test_ingest_pool_helpers.py"
    ),
    "tests/streams/agents/test_forward.py": f"{IT}/streams/pipeline/test_forward.py",
    "tests/streams/agents/test_payments.py": f"{IT}/streams/pipeline/test_payments.py",
    # streams/faust_ext
    "tests/unit/faust_ext/test_consumer.py": f"{U}/streams/faust_ext/test_consumer.py",
    "tests/unit/faust_ext/test_versions.py": f"{U}/streams/faust_ext/test_versions.py",
    "tests/integration/faust_ext/test_offset_gaps.py": (
        f"{IT}/streams/faust_ext/test_offset_gaps.py"
    ),
    "tests/integration/faust_ext/gap_worker.py": f"{IT}/streams/faust_ext/gap_worker.py",
    # streams/storage
    "tests/unit/storage/test_dsn.py": f"{U}/streams/storage/test_dsn.py",
    "tests/unit/storage/test_wait.py": f"{U}/streams/storage/test_wait.py",
    "tests/unit/streams/test_target_rules.py": f"{U}/streams/storage/test_target_rules.py",
    "tests/unit/test_targets.py": f"{U}/streams/storage/test_targets.py",
    "tests/unit/test_read_model.py": f"{U}/streams/storage/test_read_model.py",
    "tests/unit/storage/test_wait_migrate.py": f"{IT}/streams/storage/test_wait_migrate.py",
    "tests/streams/storage/test_migrate.py": f"{IT}/streams/storage/test_migrate.py",
    "tests/integration/storage/test_chdb_client.py": f"{IT}/streams/storage/test_chdb_client.py",
    "tests/integration/storage/test_chdb_lifetime.py": (
        f"{IT}/streams/storage/test_chdb_lifetime.py"
    ),
    "tests/integration/streams/test_folded_cache.py": f"{IT}/streams/storage/test_folded_cache.py",
    "tests/integration/streams/test_followup_table.py": (
        f"{IT}/streams/storage/test_followup_table.py"
    ),
    "tests/integration/test_explain_lookup.py": f"{IT}/streams/storage/test_explain_lookup.py",
    "tests/integration/test_ledger_runs.py": f"{IT}/streams/storage/test_ledger_runs.py",
    "tests/integration/test_ledger_versions.py": f"{IT}/streams/storage/test_ledger_versions.py",
    "tests/integration/test_target_alerts.py": f"{IT}/streams/storage/test_target_alerts.py",
    "tests/integration/test_target_recheck.py": f"{IT}/streams/storage/test_target_recheck.py",
    # streams/web
    "tests/streams/test_live_data.py": f"{U}/streams/web/test_live_data.py",
    "tests/unit/streams/test_live_page_render.py": f"{U}/streams/web/test_live_page_render.py",
    "tests/streams/test_export.py": f"{IT}/streams/web/test_export.py",
    # streams/replay
    "tests/streams/test_kafka_io.py": f"{U}/streams/replay/test_kafka_io.py",
    "tests/streams/test_payment_files.py": f"{U}/streams/replay/test_payment_files.py",
    "tests/unit/streams/test_producer_keys.py": f"{U}/streams/replay/test_producer_keys.py",
    "tests/integration/test_producer_keys.py": f"{IT}/streams/replay/test_producer_keys_broker.py",
    "tests/streams/test_end_offsets.py": f"{IT}/streams/replay/test_end_offsets.py",
    # streams/harness
    "tests/streams/test_bench.py": f"{U}/streams/harness/test_bench.py",
    "tests/unit/streams/test_bench_growth.py": f"{U}/streams/harness/test_bench_growth.py",
    "tests/unit/streams/test_bench_history.py": f"{U}/streams/harness/test_bench_history.py",
    "tests/unit/streams/test_bench_summary.py": f"{U}/streams/harness/test_bench_summary.py",
    "tests/unit/streams/test_catchup.py": f"{U}/streams/harness/test_catchup.py",
    "tests/unit/streams/test_sql_reference.py": f"{U}/streams/harness/test_sql_reference.py",
    "tests/integration/streams/test_bench_agent.py": f"{IT}/streams/harness/test_bench_agent.py",
    "tests/streams/test_broker.py": f"{IT}/streams/harness/test_broker.py",
    "tests/streams/test_embedded.py": f"{IT}/streams/harness/test_embedded.py",
    "tests/integration/test_testing_kit.py": f"{IT}/streams/harness/test_testing_kit.py",
    "tests/integration/test_verify.py": f"{IT}/streams/harness/test_verify.py",
    "tests/integration/test_workers.py": f"{IT}/streams/harness/test_workers.py",
    # streams/importer
    "tests/unit/test_importer.py": f"{U}/streams/importer/test_importer.py",
    "tests/integration/test_import.py": f"{IT}/streams/importer/test_import.py",
    # streams/cli
    "tests/unit/test_bad_input_edges.py": f"{U}/streams/cli/test_bad_input_edges.py",
    "tests/unit/streams/test_report_text.py": f"{U}/streams/cli/test_report_text.py",
    "tests/unit/streams/test_scenario_text.py": f"{U}/streams/cli/test_scenario_text.py",
    "tests/integration/cli/test_bad_input_files.py": f"{IT}/streams/cli/test_bad_input_files.py",
    "tests/integration/streams/test_followup.py": f"{IT}/streams/cli/test_followup.py",
    "tests/integration/streams/test_report.py": f"{IT}/streams/cli/test_report.py",
    "tests/integration/test_serve.py": f"{IT}/streams/cli/test_serve.py",
    "tests/streams/test_cli.py": f"{IT}/streams/cli/test_cli.py",
    # the repository as a whole (layers, rooms, docs) and docker-compose.yml's static checks
    "tests/test_compose.py": f"{U}/test_compose.py",
    # added by the branches merged before this one (perf2, privacy)
    "tests/integration/storage/test_ledger_ids.py": f"{IT}/streams/storage/test_ledger_ids.py",
    "tests/dashboards/test_least_privilege.py": f"{IT}/dashboards/test_least_privilege.py",
    # system: kill -9, outages, shutdown, docker-compose, the browser
    "tests/streams/test_reliability.py": f"{S}/test_reliability.py",
    "tests/streams/test_shutdown.py": f"{S}/test_shutdown.py",
    "tests/streams/test_ingest_pool_kill.py": f"{S}/test_ingest_pool_kill.py",
    "tests/streams/test_live_page.py": f"{S}/test_live_page.py",
    "tests/integration/test_replay_broker_down.py": f"{S}/test_replay_broker_down.py",
    "tests/integration/test_kafka_server.py": f"{S}/test_kafka_server.py",
    "tests/test_compose_validate.py": f"{S}/test_compose_validate.py",
}

# Files that held unit and integration tests, split before the moves (documentation only):
# original -> the file its integration-marked tests went to.
SPLITS: dict[str, list[str]] = {
    "tests/dashboards/test_provisioning.py": ["tests/dashboards/test_compose_password.py"],
    "tests/dashboards/test_upstream_dashboards.py": [
        "tests/dashboards/test_upstream_dashboards_run.py"
    ],
    "tests/dashboards/test_upstream_oracle.py": ["tests/dashboards/test_upstream_oracle_run.py"],
    "tests/streams/test_ingest_pool.py": [
        "tests/streams/test_ingest_pool_helpers.py",
        "tests/streams/test_ingest_pool_kill.py",
    ],
    "tests/test_compose.py": ["tests/test_compose_validate.py"],
    "tests/unit/storage/test_wait.py": ["tests/unit/storage/test_wait_migrate.py"],
}

# Directories moved whole (data next to a test that reads it relative to itself).
DIRS: dict[str, str] = {"tests/dashboards/fixtures": f"{IT}/dashboards/fixtures"}

# Old folders named in prose (a folder, not a file in it) -> the new folder.
FOLDER_REFS: dict[str, str] = {
    "tests/integration/storage/": f"{IT}/streams/storage/",
    "tests/integration/faust_ext/": f"{IT}/streams/faust_ext/",
    "tests/integration/cli/": f"{IT}/streams/cli/",
    "tests/unit/storage/": f"{U}/streams/storage/",
    "tests/unit/faust_ext/": f"{U}/streams/faust_ext/",
}

# What tests/conftest.py exported besides fixtures -> the tests/support module holding it.
NAMES: dict[str, str] = {
    "unique": "tests.support.names",
    "small_scenario": "tests.support.scenarios",
    "first_payment": "tests.support.scenarios",
    "simulate": "tests.support.scenarios",
    "FAULTS": "tests.support.runs",
    "Run": "tests.support.runs",
    "rules": "tests.support.runs",
    "run_on": "tests.support.runs",
}

FOLDERS = (U, IT, S)
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".txt", ".sh"}
TEXT_NAMES = {"Makefile", "Dockerfile", "run", ".dockerignore", ".gitignore"}
SKIP = {"tools/retest.py", "tools/relayout.py"}
CONFTEST_IMPORT = re.compile(r"^from tests\.conftest import (\([^)]*\)|[^\n]*)$", re.M)
PARENTS = re.compile(r"Path\(__file__\)(\.resolve\(\))?\.parents\[(\d+)\]")


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    return done.stdout


def dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def ensure_packages(path: Path, check: bool, changes: list[str]) -> None:
    """Every folder from tests/ down to `path` has an __init__.py (pytest's default `prepend`
    import mode then names each test module by its dotted path from the rootdir, so
    same-named files in different folders cannot clash)."""
    for folder in list(path.parents)[::-1]:
        if folder.parts[:1] != ("tests",):
            continue
        init = folder / "__init__.py"
        if not init.exists():
            changes.append(f"create {init}")
            if not check:
                folder.mkdir(parents=True, exist_ok=True)
                init.write_text("")
                git("add", str(init))


def fix_depth(old: str, new: str, text: str) -> str:
    """`Path(__file__).parents[k]` that pointed at the repository root or tests/ keeps
    pointing there from the new depth."""
    old_parts, new_parts = Path(old).parts, Path(new).parts

    def repl(m: re.Match[str]) -> str:
        k = int(m.group(2))
        target = old_parts[: len(old_parts) - 1 - k]
        if new_parts[: len(target)] != target:
            print(f"CHECK {new}: {m.group(0)} pointed at {'/'.join(target)}", file=sys.stderr)
            return m.group(0)
        return m.group(0).replace(f"[{k}]", f"[{len(new_parts) - 1 - len(target)}]")

    return PARENTS.sub(repl, text)


def root_depth(old: str, new: str, text: str) -> str:
    """`Path(__file__).parents[k]` written for the repository root at `old`'s depth, in a
    file now at `new` (git may have moved it there itself, without `fix_depth`): the root's
    index at the new depth. Idempotent: an index already naming the root is left alone."""
    old_root, new_root = len(Path(old).parts) - 1, len(Path(new).parts) - 1

    def repl(m: re.Match[str]) -> str:
        k = int(m.group(2))
        if k == old_root and k != new_root:
            return m.group(0).replace(f"[{k}]", f"[{new_root}]")
        return m.group(0)

    return PARENTS.sub(repl, text)


def move(check: bool) -> list[str]:
    changes: list[str] = []
    for old, new in [*DIRS.items(), *MAPPING.items()]:
        src, dst = Path(old), Path(new)
        if old == new:
            continue
        if not src.exists() and not dst.exists() and dst.suffix == ".py":
            # git's directory-rename detection may have put a file added at the old place by
            # another branch next to its moved siblings: take it from there
            placed = [p for p in Path("tests").rglob(src.name) if p != dst]
            if len(placed) == 1:
                print(f"{old}: git placed it at {placed[0]}", file=sys.stderr)
                src = placed[0]
                old_text = src.read_text(encoding="utf-8")
                changes.append(f"git mv {src} {new}")
                if not check:
                    ensure_packages(dst, check, changes)
                    git("mv", str(src), new)
                    dst.write_text(fix_depth(old, new, old_text), encoding="utf-8")
                continue
        if not src.exists():
            continue
        if dst.exists():
            print(f"CONFLICT both {old} and {new} exist: merge them by hand", file=sys.stderr)
            continue
        changes.append(f"git mv {old} {new}")
        if check:
            continue
        ensure_packages(dst, check, changes)
        dst.parent.mkdir(parents=True, exist_ok=True)
        git("mv", old, new)
        if dst.suffix == ".py":
            dst.write_text(fix_depth(old, new, dst.read_text(encoding="utf-8")), encoding="utf-8")
    for new in MAPPING.values():
        if Path(new).exists():
            ensure_packages(Path(new), check, changes)
    # folders left with nothing but __init__.py
    for init in sorted(Path("tests").rglob("__init__.py"), key=lambda p: -len(p.parts)):
        folder = init.parent
        if folder.as_posix() in {"tests", "tests/support", *FOLDERS}:
            continue
        rest = [p for p in folder.iterdir() if p.name not in {"__init__.py", "__pycache__"}]
        if not rest:
            changes.append(f"git rm {init}")
            if not check:
                git("rm", "-q", str(init))
                shutil.rmtree(folder, ignore_errors=True)
    return changes


def conftest_imports(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        names = [n.strip() for n in m.group(1).strip("()").replace("\n", " ").split(",")]
        by_module: dict[str, list[str]] = {}
        for name in filter(None, names):
            by_module.setdefault(NAMES.get(name, "tests.conftest"), []).append(name)
        return "\n".join(
            f"from {module} import {', '.join(sorted(found))}"
            for module, found in sorted(by_module.items())
        )

    return CONFTEST_IMPORT.sub(repl, text)


def rewrite(check: bool) -> list[str]:
    pairs = sorted([*DIRS.items(), *MAPPING.items()], key=lambda kv: len(kv[0]), reverse=True)
    path_rules = [(re.compile(re.escape(o) + r"(?!\w)"), n) for o, n in pairs]
    path_rules += [
        (re.compile(re.escape(o) + r"(?=[\s`'\")]|$)", re.M), n) for o, n in FOLDER_REFS.items()
    ]
    module_rules = [
        (re.compile(r"\b" + re.escape(dotted(o)) + r"\b"), dotted(n))
        for o, n in pairs
        if o.endswith(".py")
    ]
    placed_by_git = {n: o for o, n in MAPPING.items() if o != n and n.endswith(".py")}
    changed: list[str] = []
    for name in git("ls-files").splitlines():
        path = Path(name)
        if name in SKIP or not path.is_file():
            continue
        if path.suffix not in TEXT_SUFFIXES and path.name not in TEXT_NAMES:
            continue
        text = path.read_text(encoding="utf-8")
        new = text
        for rule, target in path_rules:
            new = rule.sub(target, new)
        if name in placed_by_git:
            new = root_depth(placed_by_git[name], name, new)
        if path.suffix == ".py":
            for rule, target in module_rules:
                new = rule.sub(target, new)
            new = conftest_imports(new)
        if new != text:
            changed.append(name)
            if not check:
                path.write_text(new, encoding="utf-8")
    return changed


def unplaced() -> list[str]:
    """Test files outside tests/unit, tests/integration and tests/system, or in a folder of
    theirs that MAPPING does not use (an old one, or the top of tests/integration, where
    nothing lives since tests mirror the packages there), with a suggested place."""
    folders = {U, S, *(Path(new).parent.as_posix() for new in MAPPING.values())}
    lines = []
    for path in sorted(Path("tests").rglob("test_*.py")):
        name = path.as_posix()
        if path.parent.as_posix() in folders or name in MAPPING:
            continue
        marked = "pytest.mark.integration" in path.read_text(encoding="utf-8")
        where = (
            "tests/integration/<package>/ (or tests/system/)" if marked else "tests/unit/<package>/"
        )
        lines.append(
            f"NOT IN MAPPING {name}: integration marker {'yes' if marked else 'no'} -> {where}"
        )
    return lines


def tidy(files: list[str]) -> None:
    """Sort the rewritten imports and wrap long lines, as `make lint` wants them."""
    ruff = Path(".venv/bin/ruff")
    py = [f for f in files if f.endswith(".py") and Path(f).exists()]
    if not py or not ruff.exists():
        return
    subprocess.run([str(ruff), "check", "--fix", "--select", "I,F401", "-q", *py], check=False)
    subprocess.run([str(ruff), "format", "-q", *py], check=False)
    # what ruff cannot fix (a rewritten path that makes a comment too long) is shown here
    subprocess.run([str(ruff), "check", "-q", *py], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args()
    if not Path("tests/conftest.py").exists():
        parser.error("run me at the repository root")
    moves = move(args.check)
    changed = rewrite(args.check)
    if not args.check:
        tidy(changed + [m.split()[-1] for m in moves if m.startswith("git mv")])
    for line in moves:
        print(line)
    for name in changed:
        print(f"rewrote {name}")
    left = unplaced()
    for line in left:
        print(line)
    print(f"{len(moves)} moves, {len(changed)} files rewritten, {len(left)} test files unplaced")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
