"""No module outside streams/faust_ext touches a private Faust, mode or aiokafka attribute.

Private names are those upstream itself defines or uses with a leading underscore
(parsed from the installed packages' sources). A module outside faust_ext may not import
such a name from those packages, nor read or write `obj._name` for one of them, except
`self._name` inside its own classes that derive from none of those packages.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ("faust", "mode", "aiokafka")
ALLOWED = ROOT / "streams" / "faust_ext"


# The public API of namedtuples (typing.NamedTuple), underscored to avoid field clashes.
NAMEDTUPLE_API = frozenset({"_asdict", "_replace", "_fields", "_field_defaults", "_make"})


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in NAMEDTUPLE_API


@cache
def upstream_private_names() -> frozenset[str]:
    names: set[str] = set()
    for package in UPSTREAM:
        init = importlib.import_module(package).__file__
        assert init is not None
        for path in Path(init).parent.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and is_private(node.attr):
                    names.add(node.attr)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    if is_private(node.name):
                        names.add(node.name)
    return frozenset(names)


def upstream_module(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in UPSTREAM


def own_plain_classes(tree: ast.Module) -> dict[ast.ClassDef, bool]:
    """Each class of the module and whether it derives from no upstream class."""
    upstream_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
        if (isinstance(node, ast.Import) and upstream_module(alias.name))
        or (isinstance(node, ast.ImportFrom) and upstream_module(node.module))
    }
    plain = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            roots = {ast.unparse(base).split(".")[0] for base in node.bases}
            plain[node] = not roots & upstream_names
    return plain


def violations(source: str, where: str) -> Iterator[str]:
    tree = ast.parse(source)
    private = upstream_private_names()
    exempt: set[int] = set()
    for cls, plain in own_plain_classes(tree).items():
        if plain:
            exempt.update(
                id(node)
                for node in ast.walk(cls)
                if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            )
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and upstream_module(node.module):
            for alias in node.names:
                if is_private(alias.name) or any(map(is_private, (node.module or "").split("."))):
                    yield f"{where}:{node.lineno} imports {node.module}.{alias.name}"
        elif isinstance(node, ast.Attribute) and node.attr in private and id(node) not in exempt:
            yield f"{where}:{node.lineno} touches .{node.attr}"


def checked_modules() -> list[Path]:
    return [
        path
        for folder in ("streams", "simulators", "dashboards", "schemas")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if ALLOWED not in path.parents
    ]


def test_private_faust_and_aiokafka_names_stay_in_faust_ext() -> None:
    assert len(checked_modules()) > 20
    found = [
        v
        for path in checked_modules()
        for v in violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_the_check_sees_a_private_access() -> None:
    # The same rules flag what streams/pipeline/app.py and payments.py did before faust_ext.
    source = (
        "import faust\n"
        "from faust.streams import _current_event\n"
        "class Plain:\n"
        "    def f(self):\n"
        "        return self._read_offset\n"
        "def lag(consumer):\n"
        "    return consumer._read_offset.get(1)\n"
        "class Agent(faust.Stream):\n"
        "    def f(self):\n"
        "        return self._processors\n"
    )
    assert sorted(violations(source, "m.py"), key=lambda v: int(v.split(":")[1].split()[0])) == [
        "m.py:2 imports faust.streams._current_event",
        "m.py:7 touches ._read_offset",
        "m.py:10 touches ._processors",
    ]
