"""Every script in ``examples/`` runs, offline, and prints what its ``# expect:`` lines say.

A new example is picked up as soon as it exists. It names what its output must contain with
lines ``# expect: <text>`` (at least one), and reads the servers it needs from ``REDIS_URL``
and ``POSTGRES_URL``, which this test sets to the test servers (requesting a server only for
the examples that name its variable). ``OPENAI_API_KEY`` is removed, so the scripted replies
are used. The examples delete the sessions they write; the PostgreSQL schemas they name
(``schema=<name>`` in their source) are dropped once they have run.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_sessions.storage import open_store

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(path for path in EXAMPLES_DIR.glob("*.py") if not path.name.startswith("_"))
EXPECT = "# expect: "
SERVICES = {"REDIS_URL": "redis_url", "POSTGRES_URL": "postgres_url"}
TIMEOUT_SECONDS = 180
SCHEMA = re.compile(r"[?&]schema=(\w+)")


def _expected(source: str) -> list[str]:
    return [line.split(EXPECT, 1)[1].strip() for line in source.splitlines() if EXPECT in line]


def _environment(source: str, request: pytest.FixtureRequest, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", *SERVICES)}
    env.update(LLM_SESSIONS_STORE=f"sqlite:///{folder / 'examples.db'}", PYTHONUNBUFFERED="1")
    for variable, fixture in SERVICES.items():
        if variable in source:
            env[variable] = request.getfixturevalue(fixture)
    return env


@pytest.fixture(scope="module")
def started(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[Path, subprocess.Popen[str]]]:
    """Every example, started at once (each in a folder of its own) so they run side by side."""
    processes: dict[Path, subprocess.Popen[str]] = {}
    for example in EXAMPLES:
        folder = tmp_path_factory.mktemp(example.stem)
        processes[example] = subprocess.Popen(
            [sys.executable, str(example)],
            cwd=folder,
            env=_environment(example.read_text(encoding="utf-8"), request, folder),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    yield processes
    for process in processes.values():
        if process.poll() is None:
            process.kill()
        process.wait()
        # Close the pipes here, not at garbage collection, where a ResourceWarning would
        # surface as an error in whichever later test happened to trigger the collection.
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    _drop_example_schemas(request)


def _drop_example_schemas(request: pytest.FixtureRequest) -> None:
    """Drop the PostgreSQL schemas the examples that ran on the test server name."""
    sources = [example.read_text(encoding="utf-8") for example in EXAMPLES]
    schemas = {name for text in sources if "POSTGRES_URL" in text for name in SCHEMA.findall(text)}
    if not schemas:
        return
    postgres_url = request.getfixturevalue("postgres_url")

    async def drop() -> None:
        for schema in sorted(schemas):
            async with open_store(f"{postgres_url}?schema={schema}") as store:
                await store.drop_all()  # type: ignore[attr-defined]

    asyncio.run(drop())


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs_and_prints_what_it_promises(
    example: Path, started: dict[Path, subprocess.Popen[str]]
) -> None:
    source = example.read_text(encoding="utf-8")
    expected = _expected(source)
    assert expected, f"{example.name} has no '{EXPECT}<text>' line saying what it prints"
    assert len(source.splitlines()) <= 100, f"{example.name} is longer than an example should be"
    process = started[example]
    stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    assert process.returncode == 0, f"{example.name} failed:\n{stdout}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    missing = [text for text in expected if text not in stdout]
    assert not missing, f"{example.name} did not print {missing}:\n{stdout}"
