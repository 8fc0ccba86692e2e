"""The fenced code blocks of the README and the docs pages, and a runner for one page's blocks.

A block is ```` ```python ````, ```` ```bash ```` or ```` ```text ```` (a synopsis or a layout, not
code). A block that must not run says why on the line before its fence::

    <!-- docs-test: skip: installs packages -->

Run as a script (``python docs_blocks.py BLOCKS.json``), it runs the blocks listed in the JSON file
in order, in the current folder: the ``python`` blocks of a page share one namespace and one event
loop, and may ``await`` at the top level (as in ``python -m asyncio``); ``bash`` blocks run with
``bash -euo pipefail``. A failing block stops the run with its traceback, located in its page.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

CODE_LANGUAGES = ("python", "bash")
TEXT_LANGUAGES = ("text",)
_FENCE = re.compile(
    r"^(?P<fence>`{3,})(?P<language>[\w-]*)[^\n]*\n(?P<code>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_SKIP = re.compile(r"<!-- docs-test: skip: (?P<reason>[^>]*?) -->\s*\Z")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts (``page:line`` of its first code line), its language,
    its code and, for a block not to run, the reason given."""

    page: str
    line: int
    language: str
    code: str
    skip: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks_of(path: Path, name: str) -> list[Block]:
    """The fenced blocks of the Markdown file ``path``, named ``name`` in their locations."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        skip = _SKIP.search(text[: match.start()].rstrip("\n") + "\n")
        found.append(
            Block(
                page=name,
                line=text.count("\n", 0, match.start("code")) + 1,
                language=match["language"],
                code=match["code"],
                skip=skip["reason"].strip() if skip else None,
            )
        )
    return found


def write_blocks(blocks: list[Block], path: Path) -> None:
    """Write ``blocks`` as the JSON file the runner reads."""
    path.write_text(json.dumps([asdict(block) for block in blocks]), encoding="utf-8")


def _run_python(
    block: Block, namespace: dict[str, object], loop: asyncio.AbstractEventLoop
) -> None:
    # Blank lines first, so that a traceback gives the line in the page.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, block.page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # the docs' own code, run as the docs show it
    if inspect.iscoroutine(result):
        loop.run_until_complete(result)


def run(blocks: list[Block]) -> None:
    """Run ``blocks`` in order (python in one namespace and loop, bash in a shell)."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    loop = asyncio.new_event_loop()
    try:
        for block in blocks:
            print(f"--- {block.where} ({block.language})", flush=True)
            if block.language == "python":
                _run_python(block, namespace, loop)
            else:
                subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], check=True)
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    print(f"ran {len(blocks)} blocks", flush=True)


if __name__ == "__main__":
    listed = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    run([Block(**fields) for fields in listed])
