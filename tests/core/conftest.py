"""Fixtures for the core tests.

Every test runs against its own fresh in-memory default store. ``JsonLogStore`` is a small
durable-store stand-in on the shared event-log machinery, for tests that must read a session
back from scratch (the in-memory store hands back the very object that was saved).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from llm_sessions.storage import EventLogStore, InMemorySessionStore, SessionStoreProvider
from llm_sessions.storage.records import StoredHeader, StoredSession
from llm_sessions.storage.reseal import SealedSwap
from llm_sessions.storage.sync import WriteBatch


@pytest.fixture(autouse=True)
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySessionStore]:
    """A fresh ``InMemorySessionStore`` set as the process-wide default store."""
    monkeypatch.delenv("LLM_SESSIONS_STORE", raising=False)
    fresh = InMemorySessionStore()
    SessionStoreProvider.set_store(fresh)
    yield fresh
    SessionStoreProvider.reset()


class JsonLogStore(EventLogStore):
    """A durable-store stand-in built on the shared event-log machinery.

    Everything is kept as JSON text in ``data`` (a dict that several store objects may share),
    so ``get`` always rebuilds a new session object: what a test reads back is what was written.
    """

    def __init__(self, data: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.data: dict[str, dict[str, Any]] = data if data is not None else {}

    async def _read(self, session_id: str) -> StoredSession | None:
        row = self.data.get(session_id)
        if row is None:
            return None
        header = row["header"]
        return StoredSession(
            header=StoredHeader(
                created_at=datetime.fromisoformat(header["created_at"]),
                updated_at=datetime.fromisoformat(header["updated_at"]),
                parent_id=header["parent_id"],
                child_ids=list(header["child_ids"]),
                task_ids=list(header["task_ids"]),
                runs=list(header["runs"].values()),
                state={key: json.loads(value) for key, value in header["state"].items()},
                properties={key: json.loads(v) for key, v in header["properties"].items()},
            ),
            events=list(row["events"].values()),
            location=f"json-log:{session_id}",
        )

    async def _write(self, batch: WriteBatch) -> None:
        changes = batch.header
        row = self.data.setdefault(
            batch.session_id,
            {
                "header": {
                    "created_at": changes.created_at.isoformat(),
                    "child_ids": [],
                    "task_ids": [],
                    "runs": {},
                    "state": {},
                    "properties": {},
                },
                "events": {},
            },
        )
        header = row["header"]
        header["updated_at"] = changes.updated_at.isoformat()
        header["parent_id"] = changes.parent_id
        for key, added, removed in (
            ("child_ids", changes.children_added, changes.children_removed),
            ("task_ids", changes.tasks_added, changes.tasks_removed),
        ):
            kept = [item for item in header[key] if item not in removed]
            header[key] = kept + [item for item in added if item not in kept]
        for key, upserts, removals in (
            ("runs", changes.runs_upserted, changes.runs_removed),
            ("state", changes.state_set, changes.state_removed),
            ("properties", changes.properties_set, changes.properties_removed),
        ):
            header[key].update(upserts)
            for item in removals:
                header[key].pop(item, None)
        for event_id, text in batch.appended:
            row["events"].setdefault(event_id, text)
        for event_id, text in batch.updated:
            row["events"][event_id] = text

    async def _swap_sealed(self, session_id: str, swaps: list[SealedSwap]) -> None:
        row = self.data.get(session_id)
        if row is None:
            return
        for swap in swaps:
            records = row["header"][swap.place]
            if records.get(swap.key) == swap.expected:
                records[swap.key] = swap.new

    async def delete(self, session_id: str) -> bool:
        self._ensure_open()
        return self.data.pop(session_id, None) is not None

    async def list_sessions(self, prefix: str = "") -> list[str]:
        self._ensure_open()
        return sorted(sid for sid in self.data if sid.startswith(prefix))


@pytest.fixture
def json_data() -> dict[str, dict[str, Any]]:
    """The shared backing data of ``JsonLogStore`` objects in one test."""
    return {}


@pytest.fixture
def json_store(json_data: dict[str, dict[str, Any]]) -> JsonLogStore:
    """A ``JsonLogStore``; open another object on ``json_data`` to read back from scratch."""
    return JsonLogStore(json_data)


@pytest.fixture
def reopen(json_data: dict[str, dict[str, Any]]) -> Callable[[], JsonLogStore]:
    """Open a new ``JsonLogStore`` object on this test's ``json_data``."""
    return lambda: JsonLogStore(json_data)
