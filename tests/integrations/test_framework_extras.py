"""Each framework integration sits behind its extra: importing llm_sessions (and its
integrations package) imports no framework, and an integration whose framework is missing
raises an ImportError that names the extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

FRAMEWORKS = {
    "langchain": ("langchain_core", "langchain"),
    "llama_index": ("llama_index", "llama-index"),
    "llama_index_memory": ("llama_index", "llama-index"),
    "pydantic_ai": ("pydantic_ai", "pydantic-ai"),
}


def _run(source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=60, check=False
    )


def test_importing_the_package_imports_no_framework() -> None:
    done = _run(
        "import sys, llm_sessions, llm_sessions.integrations, llm_sessions.storage\n"
        f"print(sorted(set({[p for p, _ in FRAMEWORKS.values()]!r}) & set(sys.modules)))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", sorted(FRAMEWORKS))
def test_a_missing_framework_names_its_extra(module: str) -> None:
    package, extra = FRAMEWORKS[module]
    done = _run(
        f"import sys\nsys.modules[{package!r}] = None  # as when it is not installed\n"
        f"import llm_sessions.integrations.{module}"
    )
    assert done.returncode != 0
    assert f"ImportError: llm_sessions.integrations.{module} needs" in done.stderr
    assert f'pip install "llm-sessions[{extra}]"' in done.stderr
