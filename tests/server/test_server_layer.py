"""The server sits below the CLI: no module of ``llm_sessions.server`` imports ``cli``."""

from __future__ import annotations

import ast
from pathlib import Path

import llm_sessions.server

SERVER = Path(llm_sessions.server.__file__).parent


def _imported_modules(path: Path) -> list[str]:
    """The absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = ["llm_sessions", *path.parent.relative_to(SERVER.parent).parts]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            names.append(".".join([*base, *([node.module] if node.module else [])]))
    return names


def test_no_server_module_imports_the_cli() -> None:
    offending = {
        f"{path.relative_to(SERVER)}: {name}"
        for path in SERVER.rglob("*.py")
        for name in _imported_modules(path)
        if name == "llm_sessions.cli" or name.startswith("llm_sessions.cli.")
    }
    assert offending == set()
