"""The file store under faults: folders that refuse files fail with ``StorageError``, never
hang."""

from __future__ import annotations

import asyncio

import pytest

from llm_sessions.exceptions import StorageError
from llm_sessions.models import Session
from llm_sessions.storage import FileSessionStore


async def test_a_folder_that_refuses_new_files_fails_instead_of_spinning() -> None:
    # /proc/self exists, yet creating a file in it gives ENOENT: the lock helper used to retry
    # forever on a worker thread.
    store = FileSessionStore("/proc/self")
    with pytest.raises(StorageError, match="lock"):
        await asyncio.wait_for(store.save(Session(id="x")), timeout=30)
    assert await store.list_sessions() == []
