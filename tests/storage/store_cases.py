"""What the store fixtures share, importable by tests (a ``conftest`` is not a module to import).

A ``StoreCase`` describes one kind of store backed by data unique to the test: ``case.url`` opens
it (in this process or another), ``case.open()`` returns a new store object on the same data, so
a test can write with one object and read back with a fresh one. ``drop_case`` removes what the
test wrote on a server, whether it went through ``case.open()`` or through ``case.url``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from llm_sessions.storage import SessionStore, open_store

DURABLE_KINDS = ["file", "sqlite", "redis", "postgres"]
ALL_KINDS = ["memory", *DURABLE_KINDS]
FRAMEWORK_KINDS = ["sqlite", "redis", "postgres"]
"""The stores the framework integrations (LangChain, LlamaIndex, Pydantic AI) are tested on."""
TOPOLOGY_KINDS = ["redis-cluster", "redis-sentinel"]
"""Redis on a private Cluster and behind a private Sentinel: added with ``--redis-topologies``."""

SERVER_KINDS = ("redis", "redis-cluster", "redis-sentinel", "postgres")
"""Kinds whose data lives on a server, not under the test's ``tmp_path``."""

StoreOpener = Callable[..., SessionStore]


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


_SERVER_FIXTURES = {
    "redis": "redis_url",
    "redis-cluster": "redis_cluster",
    "redis-sentinel": "redis_sentinel",
    "postgres": "postgres_url",
}
"""The fixture that gives each server kind's URL (a string, or a deployment with ``.url``)."""


def url_for(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a store of ``kind`` on data private to the requesting test."""
    if kind == "memory":
        return "memory://"
    if kind == "file":
        return f"file://{tmp_path / 'sessions'}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.db'}"
    server = request.getfixturevalue(_SERVER_FIXTURES[kind])
    base = server if isinstance(server, str) else server.url
    token = uuid.uuid4().hex[:12]
    place = f"schema=test_{token}" if kind == "postgres" else f"key_prefix=test-{token}:"
    return f"{base}?{place}"


async def drop_case(case: StoreCase) -> None:
    """Close the store objects the test opened, then remove its keys or schema from the server
    through a store of its own: tests may have closed theirs, or written only through
    ``case.url`` (another process, ``open_store``, a server app)."""
    for store in case.opened:
        await store.close()
    if case.kind in SERVER_KINDS:
        cleaner = open_store(case.url)
        await cleaner.drop_all()  # type: ignore[attr-defined]
        await cleaner.close()
