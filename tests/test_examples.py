"""Every script in ``examples/`` runs, offline, and prints what its ``# expect:`` lines say.

A new example is picked up as soon as it exists. It names what its output must contain with
lines ``# expect: <text>`` (at least one), and reads the servers it needs from
``LLM_SESSIONS_TEST_REDIS_URL`` and ``LLM_SESSIONS_TEST_POSTGRES_URL`` (else ``REDIS_URL`` and
``POSTGRES_URL``), which this test sets to the test servers (requesting a server only for the
examples that name its variable); what the examples write there is gone when they end.
``OPENAI_API_KEY`` is removed, so the scripted replies are used.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(path for path in EXAMPLES_DIR.glob("*.py") if not path.name.startswith("_"))
EXPECT = "# expect: "
SERVICES = {
    "LLM_SESSIONS_TEST_REDIS_URL": "redis_url",
    "LLM_SESSIONS_TEST_POSTGRES_URL": "postgres_url",
}
UNUSED_SERVERS = {
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "POSTGRES_URL": "postgresql://127.0.0.1:1/x",
}
"""The plain names point nowhere: an example must read the ``LLM_SESSIONS_TEST_`` ones first."""
EXAMPLE_KEYS = "*example*"
"""Every Redis key an example writes has this in its name (its tag or prefix)."""
EXAMPLE_SCHEMAS = r"llm\_sessions\_example\_%"
TIMEOUT_SECONDS = 180


def _expected(source: str) -> list[str]:
    return [line.split(EXPECT, 1)[1].strip() for line in source.splitlines() if EXPECT in line]


def _environment(source: str, request: pytest.FixtureRequest, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", *SERVICES)}
    env.update(LLM_SESSIONS_STORE=f"sqlite:///{folder / 'examples.db'}", PYTHONUNBUFFERED="1")
    env.update(UNUSED_SERVERS)
    for variable, fixture in SERVICES.items():
        if variable in source:
            env[variable] = request.getfixturevalue(fixture)
    return env


def _leftovers(request: pytest.FixtureRequest) -> set[str]:
    """What examples could leave on the test servers: Redis keys and PostgreSQL schemas with
    the examples' names."""
    import asyncpg
    import redis

    client: Any = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        keys = {f"redis key {key!r}" for key in client.scan_iter(EXAMPLE_KEYS)}
    finally:
        client.close()

    async def schemas() -> set[str]:
        connection = await asyncpg.connect(request.getfixturevalue("postgres_url"))
        try:
            query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1"
            rows = await connection.fetch(query, EXAMPLE_SCHEMAS)
        finally:
            await connection.close()
        return {f"schema {row['nspname']}" for row in rows}

    return keys | asyncio.run(schemas())


@pytest.fixture(scope="module")
def leftovers_before(request: pytest.FixtureRequest) -> set[str]:
    return _leftovers(request)


@pytest.fixture(scope="module")
def started(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    leftovers_before: set[str],
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


def test_the_examples_leave_nothing_on_the_test_servers(
    request: pytest.FixtureRequest,
    started: dict[Path, subprocess.Popen[str]],
    leftovers_before: set[str],
) -> None:
    for process in started.values():
        if process.poll() is None:
            process.communicate(timeout=TIMEOUT_SECONDS)
    assert all(process.returncode == 0 for process in started.values())
    assert _leftovers(request) - leftovers_before == set()
