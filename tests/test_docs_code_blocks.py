"""Every code block of the README and of the docs pages runs, as a reader would run it.

Each page runs in its own process, in a fresh temporary folder (see ``docs_blocks`` for how
blocks are found and run). What the pages name stands in for real services:

* the OpenAI client talks to a local fake server that answers every chat completion;
* ``http://127.0.0.1:8000`` becomes a real ``llm-sessions serve`` on a free port;
* ``redis://127.0.0.1:6379/0`` and ``postgresql://postgres@127.0.0.1:5432/test`` become the test
  servers, with a key prefix and a schema of this run's own, removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from docs_blocks import CODE_LANGUAGES, TEXT_LANGUAGES, Block, blocks_of, write_blocks

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# The fake OpenAI server and the server processes; appended, so that these folders' own
# conftest modules never shadow another name.
for helpers in ("integrations", "server"):
    if str(TESTS / helpers) not in sys.path:
        sys.path.append(str(TESTS / helpers))

from fake_openai_server import FakeOpenAI, completion, serving  # noqa: E402
from server_helpers import server_process  # noqa: E402

PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")], key=lambda p: str(p.relative_to(ROOT))
)
SERVER_URL = "http://127.0.0.1:8000"
REDIS_IN_DOCS = "redis://127.0.0.1:6379/0"
POSTGRES_IN_DOCS = "postgresql://postgres@127.0.0.1:5432/test"
RUN_GUARD_SECONDS = 600  # only a hang reaches it


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _blocks(page: Path) -> list[Block]:
    return blocks_of(page, _name(page))


def _runnable(page: Path) -> list[Block]:
    return [b for b in _blocks(page) if b.language in CODE_LANGUAGES and b.skip is None]


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """The fake OpenAI server, answering every chat completion with a short reply and usage."""
    answer = {"role": "assistant", "content": "It is 21 °C and sunny in Paris."}
    async with serving(FakeOpenAI(default=completion(answer))) as fake:
        yield fake


def test_every_block_is_code_or_text_and_every_skip_says_why() -> None:
    blocks = [block for page in PAGES for block in _blocks(page)]
    assert len(blocks) > 20
    for block in blocks:
        assert block.language in CODE_LANGUAGES + TEXT_LANGUAGES, block.where
        assert block.skip is None or block.skip, f"{block.where}: a skip names its reason"
        assert block.skip is None or block.language in CODE_LANGUAGES, block.where


def test_the_readme_is_a_short_landing_page_with_the_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = (
        'python3 -m venv .venv && .venv/bin/pip install -q -e ".[all,test]" && .venv/bin/pytest'
    )
    assert test_command in readme and test_command in ci
    assert "llm-sessions demo" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link


@contextmanager
def _server(text: str, folder: Path, replacements: dict[str, str]) -> Iterator[None]:
    if SERVER_URL not in text:
        yield
        return
    with server_process(f"sqlite:///{folder / 'server.db'}") as base_url:
        replacements[SERVER_URL] = base_url
        yield


async def _services(
    text: str, request: pytest.FixtureRequest, replacements: dict[str, str]
) -> list[Callable[[], Awaitable[None]]]:
    """Point the pages' service URLs at the test servers; return the cleanups to run."""
    tag = uuid.uuid4().hex[:10]
    cleanups: list[Callable[[], Awaitable[None]]] = []
    if REDIS_IN_DOCS in text:
        url: str = request.getfixturevalue("redis_url")
        prefix = f"docs-{tag}:"
        replacements[REDIS_IN_DOCS] = f"{url}{'&' if '?' in url else '?'}key_prefix={prefix}"
        cleanups.append(partial(_drop_redis_keys, url, prefix))
    if POSTGRES_IN_DOCS in text:
        url = request.getfixturevalue("postgres_url")
        schema = f"docs_{tag}"
        replacements[POSTGRES_IN_DOCS] = f"{url}{'&' if '?' in url else '?'}schema={schema}"
        cleanups.append(partial(_drop_schema, url, schema))
    return cleanups


async def _drop_redis_keys(url: str, prefix: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def _drop_schema(url: str, schema: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


def _substituted(blocks: list[Block], replacements: dict[str, str]) -> list[Block]:
    out = []
    for block in blocks:
        code = block.code
        for old, new in replacements.items():
            code = code.replace(old, new)
        out.append(Block(block.page, block.line, block.language, code))
    return out


async def _run_page(blocks: list[Block], folder: Path, fake: FakeOpenAI) -> str:
    listing = folder / "docs-blocks.json"
    write_blocks(blocks, listing)
    env = {
        **os.environ,
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "test-key",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("LLM_SESSIONS_STORE", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(TESTS / "docs_blocks.py"),
        str(listing),
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), RUN_GUARD_SECONDS)
    output = out.decode(errors="replace")
    assert process.returncode == 0, output
    return output


@pytest.mark.parametrize(
    "page", [p for p in PAGES if _runnable(p)], ids=[_name(p) for p in PAGES if _runnable(p)]
)
async def test_the_code_blocks_of_a_page_run(
    page: Path, tmp_path: Path, fake_openai: FakeOpenAI, request: pytest.FixtureRequest
) -> None:
    blocks = _runnable(page)
    text = "".join(block.code for block in blocks)
    replacements: dict[str, str] = {}
    cleanups = await _services(text, request, replacements)
    try:
        with _server(text, tmp_path, replacements):
            output = await _run_page(_substituted(blocks, replacements), tmp_path, fake_openai)
    finally:
        for cleanup in cleanups:
            await cleanup()
    assert f"ran {len(blocks)} blocks" in output
    if "AsyncOpenAI()" in text:
        assert fake_openai.requests, "the page's OpenAI calls reached the fake server"
