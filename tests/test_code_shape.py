"""The shape of the source: small files and functions, and imports that point one way.

The import graph is drawn from every import statement (at the top of a file, inside functions,
under ``TYPE_CHECKING``, at the bottom): a package's ``__init__`` counts as the module it is, so
``from ..storage import X`` is an arrow to ``storage/__init__`` and everything it imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import llm_sessions

PACKAGE = Path(llm_sessions.__file__).parent
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = ["llm_sessions", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, path: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            stem = here[: len(here) - node.level + 1]
            base = ".".join(stem + ([node.module] if node.module else []))
        # ``from package import module`` is an arrow to the module, anything else to ``base``
        targets = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
            for alias in node.names
        ]
    for target in targets:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target and target != name:
            yield target


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports, anywhere in its text."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges.update(_imported(name, path, node))
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_graph_sees_imports_inside_functions_and_type_checking() -> None:
    graph = import_graph()
    # storage.url opens each store through an import inside a function
    assert "llm_sessions.storage.sqlite._store" in graph["llm_sessions.storage._url"]
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_there_are_no_import_circles() -> None:
    assert circles(import_graph()) == []


def test_models_import_nothing_from_storage() -> None:
    graph = import_graph()
    for name, edges in graph.items():
        if name.startswith("llm_sessions.models"):
            assert not {e for e in edges if e.startswith("llm_sessions.storage")}, name


def test_no_file_is_over_450_lines() -> None:
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines()))}
    assert {name: n for name, n in long.items() if n > MAX_FILE_LINES} == {}


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{name}.{node.name}"] = length
    assert long == {}
