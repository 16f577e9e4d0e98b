"""The package's modules import one another one way only: no import cycle.

:func:`import_graph` reads every module of a package with :mod:`ast` (nothing is imported)
and records an edge for every ``import``/``from ... import`` statement, including those inside
functions (a lazy import is still a dependency), except those under ``if TYPE_CHECKING:``.
Relative imports are resolved, and ``from pkg import name`` is an edge to the module
``pkg.name`` when that is a module of the package, else to ``pkg`` itself. Importing a
package's submodule does not count as an edge to the package's ``__init__`` (Python runs it
first, but every package would otherwise be a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every Import/ImportFrom node outside ``if TYPE_CHECKING:`` blocks (their ``else``
    branch counts)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(package_dir: Path | str, root: Path | str = SRC) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}`` for every module under
    ``package_dir`` (a directory below ``root``, the directory on ``sys.path``)."""
    package_dir, root = Path(package_dir), Path(root)
    files = {_module_name(p, root): p for p in sorted(package_dir.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = []
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    targets.append(sub if sub in files else module)
            for target in targets:
                # ``import a.b.c`` names the module a.b.c (its parents are packages)
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or ``None`` when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def _restricted(graph: dict[str, set[str]], prefix: str) -> dict[str, set[str]]:
    inside = {m for m in graph if m == prefix or m.startswith(prefix + ".")}
    return {m: graph[m] & inside for m in inside}


@pytest.mark.parametrize("package", ["bayesgraph.core.model", "bayesgraph.core", "bayesgraph"])
def test_no_import_cycle(package):
    graph = _restricted(import_graph(SRC / "bayesgraph"), package)
    assert graph, f"no modules found for {package}"
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle in {package}: {' -> '.join(cycle)}"


def test_finds_lazy_and_relative_cycles(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import thing\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n")
    graph = import_graph(pkg, root=tmp_path)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg.c"] == set() and find_cycle(graph) is None
    (pkg / "c.py").write_text("def g():\n    import pkg.a\n")
    cycle = find_cycle(import_graph(pkg, root=tmp_path))
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {"pkg.a", "pkg.sub.b", "pkg.c"}


# The modelling language, bottom to top (issue 13 item 7): a module may import only modules of
# its own layer or of layers below it.
LANGUAGE_LAYERS = [
    ["bayesgraph.exceptions", "bayesgraph._warn"],
    ["bayesgraph.core.operator.operators", "bayesgraph.core.operator.functions"],
    ["bayesgraph.core.distribution"],  # the package and every distribution module
    ["bayesgraph.core.variable.parameter", "bayesgraph.core.variable.constraint",
     "bayesgraph.core.scope"],
    ["bayesgraph.core.linking"],
    ["bayesgraph.core.template"],
    ["bayesgraph.core.variable.variable"],
    ["bayesgraph.core.entity.entity"],
    ["bayesgraph.core.graph.graph"],
]


def _layer_of(module: str) -> int | None:
    for i, layer in enumerate(LANGUAGE_LAYERS):
        if any(module == m or module.startswith(m + ".") for m in layer):
            return i
    return None


def test_the_language_is_layered_one_way():
    graph = import_graph(SRC / "bayesgraph")
    placed = [m for m in graph if _layer_of(m) is not None]
    assert "bayesgraph.core.distribution.normal_distribution" in placed
    upward = [(m, t) for m in placed for t in graph[m]
              if _layer_of(t) is not None and _layer_of(t) > _layer_of(m)]
    assert not upward, "imports that go up a layer: " + ", ".join(f"{m} -> {t}"
                                                                 for m, t in upward)
