"""One store factory for the contract suite, parametrized over every store.

``store_case`` describes one kind of store backed by data unique to the test (every kind; with
``--redis-topologies`` also Redis Cluster and Sentinel, see ``TOPOLOGY_KINDS``): ``case.url`` opens
it (in this process or another), ``case.open()`` returns a new store object on the same data, so
a test can write with one object and read back with a fresh one.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from llm_sessions.storage import SessionStore, open_store

DURABLE_KINDS = ["file", "sqlite", "redis", "postgres"]
ALL_KINDS = ["memory", *DURABLE_KINDS]
TOPOLOGY_KINDS = ["redis-cluster", "redis-sentinel"]
"""Redis on a private Cluster and behind a private Sentinel: added with ``--redis-topologies``."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``store_case`` / ``durable_case`` over the kinds of store."""
    extra = TOPOLOGY_KINDS if metafunc.config.getoption("--redis-topologies") else []
    for name, kinds in (("store_case", ALL_KINDS), ("durable_case", DURABLE_KINDS)):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, [*kinds, *extra], indirect=True)


@dataclass
class StoreCase:
    """A kind of store and the URL of this test's private copy of it."""

    kind: str
    url: str
    opened: list[SessionStore] = field(default_factory=list)

    def open(self, **options: Any) -> SessionStore:
        """A new store object on this test's data."""
        store = open_store(self.url, **options)
        self.opened.append(store)
        return store

    @property
    def durable(self) -> bool:
        return self.kind != "memory"

    def reader(self, writer: SessionStore) -> SessionStore:
        """A store object to read back what ``writer`` wrote: a new one on this test's data,
        or ``writer`` itself for the memory store, whose data is the object."""
        return self.open() if self.durable else writer


def _url_for(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    token = uuid.uuid4().hex[:12]
    if kind == "memory":
        return "memory://"
    if kind == "file":
        return f"file://{tmp_path / 'sessions'}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.db'}"
    if kind == "redis":
        base = request.getfixturevalue("redis_url")
        return f"{base}?key_prefix=test-{token}:"
    if kind == "redis-cluster":
        return f"{request.getfixturevalue('redis_cluster').url}?key_prefix=test-{token}:"
    if kind == "redis-sentinel":
        return f"{request.getfixturevalue('redis_sentinel').url}?key_prefix=test-{token}:"
    if kind == "postgres":
        base = request.getfixturevalue("postgres_url")
        return f"{base}?schema=test_{token}"
    raise AssertionError(kind)


async def _cleanup(case: StoreCase) -> None:
    for store in case.opened:
        await store.close()
    if case.kind in ("redis", "redis-cluster", "redis-sentinel", "postgres") and case.opened:
        # Remove this test's keys / schema through a store of its own (tests may have closed
        # theirs).
        cleaner = open_store(case.url)
        await cleaner.drop_all()  # type: ignore[attr-defined]
        await cleaner.close()


@pytest.fixture
async def store_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    """Every kind of store, each on data private to the test."""
    case = StoreCase(request.param, _url_for(request.param, tmp_path, request))
    yield case
    await _cleanup(case)


@pytest.fixture
async def durable_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    """Every durable store (file, SQLite, Redis, PostgreSQL), on data private to the test."""
    case = StoreCase(request.param, _url_for(request.param, tmp_path, request))
    yield case
    await _cleanup(case)


StoreOpener = Callable[..., SessionStore]
