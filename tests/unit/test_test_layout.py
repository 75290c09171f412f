"""The tests' layout (issue 16, docs/testing.md): the folder says what a test needs.

tests/unit holds tests free of the `integration` marker; every test under tests/integration
and tests/system carries it (the Makefile's `unit` and `integration` targets select by folder,
`-m integration` still selects the same tests). No test module lives elsewhere, every folder is
a package (pytest's default `prepend` import mode then names a module by its dotted path, so
same-named files could not clash) and test module names are unique anyway. tests/conftest.py
holds fixtures only; helpers live in tests/support/.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2] / "tests"
MARKED_FOLDERS = ("integration", "system")


def modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def marks_integration(node: ast.expr) -> bool:
    """`pytest.mark.integration`, alone or in a list/tuple (as `pytestmark` may be)."""
    return any(
        isinstance(n, ast.Attribute)
        and n.attr == "integration"
        and isinstance(n.value, ast.Attribute)
        and n.value.attr == "mark"
        for n in ast.walk(node)
    )


def module_marked(tree: ast.Module) -> bool:
    return any(
        isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets)
        and marks_integration(stmt.value)
        for stmt in tree.body
    )


def functions_of(tree: ast.Module) -> list[tuple[str, list[ast.expr]]]:
    """Each test function with the decorators that apply to it (its own and its class's)."""
    found: list[tuple[str, list[ast.expr]]] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name.startswith(
            "test"
        ):
            found.append((stmt.name, list(stmt.decorator_list)))
        elif isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test"):
            for item in stmt.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    item.name.startswith("test")
                ):
                    found.append(
                        (f"{stmt.name}.{item.name}", [*stmt.decorator_list, *item.decorator_list])
                    )
    return found


def unmarked_tests(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if module_marked(tree):
        return []
    return [
        name
        for name, decorators in functions_of(tree)
        if not any(map(marks_integration, decorators))
    ]


def folder(path: Path) -> str:
    return path.relative_to(TESTS).parts[0]


def test_every_test_module_is_in_unit_integration_or_system() -> None:
    stray = [
        str(p.relative_to(TESTS))
        for p in modules()
        if len(p.relative_to(TESTS).parts) < 2 or folder(p) not in {"unit", *MARKED_FOLDERS}
    ]
    assert not stray, f"move these under tests/unit, tests/integration or tests/system: {stray}"


def test_no_unit_test_carries_the_integration_marker() -> None:
    marked = [
        str(p.relative_to(TESTS))
        for p in modules()
        if folder(p) == "unit" and marks_integration(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert not marked, f"tests/unit holds integration-marked tests; move them: {marked}"


def test_every_integration_and_system_test_carries_the_marker() -> None:
    missing = {
        str(p.relative_to(TESTS)): unmarked_tests(p)
        for p in modules()
        if folder(p) in MARKED_FOLDERS
    }
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"mark with @pytest.mark.integration (or move to tests/unit): {missing}"


def test_the_checks_see_a_marker_and_its_absence() -> None:
    """The AST rules above recognise the forms the tests use, and a test without any."""
    marked = ast.parse(
        "import pytest\npytestmark = [pytest.mark.integration]\ndef test_a(): pass\n"
    )
    assert module_marked(marked)
    decorated = ast.parse(
        "import pytest\n@pytest.mark.integration\ndef test_a(): pass\n"
        "class TestB:\n    def test_c(self): pass\n"
    )
    assert not module_marked(decorated)
    assert [n for n, d in functions_of(decorated) if not any(map(marks_integration, d))] == [
        "TestB.test_c"
    ]


def test_every_folder_is_a_package_and_module_names_are_unique() -> None:
    folders = {p.parent for p in TESTS.rglob("*.py") if "node_modules" not in p.parts}
    missing = sorted(
        str(f.relative_to(TESTS.parent)) for f in folders if not (f / "__init__.py").exists()
    )
    assert not missing, f"add an __init__.py to: {missing}"
    names = Counter(p.name for p in modules())
    assert not [n for n, c in names.items() if c > 1], "test module names must be unique"


def test_conftest_holds_fixtures_only() -> None:
    conftest = ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8"))
    others = []
    for stmt in conftest.body:
        if isinstance(stmt, ast.FunctionDef):
            fixture = any("fixture" in ast.unparse(d) for d in stmt.decorator_list)
            if not fixture and not stmt.name.startswith("pytest_"):
                others.append(stmt.name)
        elif isinstance(stmt, ast.ClassDef | ast.Assign | ast.AnnAssign | ast.AsyncFunctionDef):
            others.append(ast.unparse(stmt).splitlines()[0])
    assert not others, f"move these helpers to tests/support/: {others}"
    importers = [
        str(p.relative_to(TESTS))
        for p in TESTS.rglob("*.py")
        if "tests.conftest" in p.read_text(encoding="utf-8") and p.name != "test_test_layout.py"
    ]
    assert not importers, f"import helpers from tests.support, not tests.conftest: {importers}"


def test_paths_relative_to_a_test_module_reach_the_repository_root() -> None:
    """`Path(__file__).parents[k]` in a test module names the repository root (a test moved
    to another depth without adjusting k would read the wrong folder)."""
    parents = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?\.parents\[(\d+)\]")
    wrong = {
        str(p.relative_to(TESTS)): k
        for p in modules()
        for k in map(int, parents.findall(p.read_text(encoding="utf-8")))
        if p.resolve().parents[k] != TESTS.parent
    }
    assert not wrong, f"these parents[k] miss the repository root: {wrong}"
