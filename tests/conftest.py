"""Shared fixtures: the service gates every test suite uses.

Tests that need Redis or PostgreSQL take the ``redis_url`` / ``postgres_url`` fixtures. Where no
server answers they skip with the reason, unless ``LLM_SESSIONS_REQUIRE_SERVICES=1`` (set by CI),
where a missing server fails the run instead.

``redis_cluster``, ``redis_sentinel`` and ``secured_redis`` start private Redis deployments
(``redis_topologies``) once per test run, on free ports, and stop them at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit

import pytest
from hypothesis import settings

from llm_sessions.storage import InMemorySessionStore, SessionStoreProvider
from redis_topologies import (
    RedisCluster,
    RedisSentinel,
    SecuredRedis,
    TopologyError,
    redis_server_available,
)

# No per-example time limit: on a loaded 2-core machine one slow example is not a failure.
# Speed is measured by the benchmarks, not by the tests.
settings.register_profile("llm-sessions", deadline=None)
settings.load_profile("llm-sessions")

REDIS_URL = os.environ.get("LLM_SESSIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "LLM_SESSIONS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        address = (parts.hostname or "127.0.0.1", parts.port or default_port)
        with socket.create_connection(address, 1):
            return True
    except OSError:
        return False


def _require(url: str, default_port: int, name: str) -> str:
    if _answers(url, default_port):
        return url
    _skip_or_fail(f"{name} does not answer at {url}")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a Redis server that answers (skips or fails where none does)."""
    return _require(REDIS_URL, 6379, "Redis")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a PostgreSQL server that answers and holds the URL's database (skips or fails,
    saying how to create it, where it does not)."""
    url = _require(POSTGRES_URL, 5432, "PostgreSQL")
    problem = _postgres_problem(url)
    if problem is not None:
        _skip_or_fail(problem)
    return url


def _postgres_problem(url: str) -> str | None:
    """Why the tests cannot use the database ``url`` names, or None when they can."""
    try:
        import asyncpg
    except ImportError:
        return None

    async def connect() -> None:
        connection = await asyncpg.connect(url, timeout=5)
        await connection.close()

    # In a thread of its own: the fixture may be asked for while an event loop runs.
    with ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, connect()).result()
        except asyncpg.InvalidCatalogNameError:
            parts = urlsplit(url)
            database = parts.path.lstrip("/")
            where = f"-h {parts.hostname or '127.0.0.1'} -p {parts.port or 5432}"
            user = f" -U {parts.username}" if parts.username else ""
            return (
                f"PostgreSQL has no database {database!r} (LLM_SESSIONS_TEST_POSTGRES_URL); "
                f"create it with: createdb {where}{user} {database}"
            )
        except (OSError, asyncpg.PostgresError) as exc:
            return f"PostgreSQL at {parts_without_password(url)} refused the tests: {exc}"
    return None


def parts_without_password(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--redis-topologies",
        action="store_true",
        help="also run the store suites on a private Redis Cluster and behind a Sentinel",
    )


def _skip_or_fail(message: str) -> NoReturn:
    if os.environ.get("LLM_SESSIONS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"LLM_SESSIONS_REQUIRE_SERVICES=1, but {message}")
    pytest.skip(message)


_Deployment = TypeVar("_Deployment", RedisCluster, RedisSentinel, SecuredRedis)


def _private_redis(start: Callable[[], _Deployment]) -> Iterator[_Deployment]:
    if not redis_server_available():
        _skip_or_fail("redis-server and redis-cli are not installed")
    try:
        deployment = start()
    except TopologyError as exc:
        _skip_or_fail(str(exc))
    yield deployment
    deployment.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A private 3-master Redis Cluster on free ports (``.url``: ``redis://h:p1,h:p2,h:p3``)."""
    yield from _private_redis(RedisCluster.start)


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[RedisSentinel]:
    """A private primary + replica watched by a Sentinel (``.url``: ``redis://h:s/mymaster``;
    ``.failover()`` promotes the replica)."""
    yield from _private_redis(RedisSentinel.start)


@pytest.fixture(scope="session")
def secured_redis() -> Iterator[SecuredRedis]:
    """A private password-protected server, also on TLS (``.url``, ``.tls_url``, ``.ca_file``)."""
    yield from _private_redis(SecuredRedis.start)


CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The system Chromium for Playwright (never a downloaded browser); skips or fails, as the
    services do, when it or the ``playwright`` package is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail("the playwright package is not installed (pip install -e '.[test]')")
    chosen = os.environ.get("LLM_SESSIONS_CHROMIUM")
    names = (chosen,) if chosen else CHROMIUM_CANDIDATES
    found = next((path for name in names if (path := shutil.which(name))), None)
    if found is None:
        _skip_or_fail(
            f"Chromium is not installed as {' or '.join(names)} (apt-get install chromium)"
        )
    return found


@pytest.fixture
async def store() -> AsyncIterator[InMemorySessionStore]:
    """An in-memory store set as the process-wide default for the test, reset afterwards."""
    memory = InMemorySessionStore()
    SessionStoreProvider.set_store(memory)
    yield memory
    SessionStoreProvider.reset()
