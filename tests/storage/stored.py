"""Reading back what a test stored."""

from __future__ import annotations

from typing import Any

from llm_sessions.models import Session
from llm_sessions.storage import SessionStoreInterface


async def load(store: SessionStoreInterface, session_id: str) -> Session[Any]:
    """The session ``session_id`` as ``store`` has it; fails the test when it is missing."""
    session = await store.get(session_id)
    assert session is not None, f"{session_id} is not in {store!r}"
    return session
