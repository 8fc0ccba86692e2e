"""The segments of an infinite conversation, as the commands that show or delete one see it."""

from __future__ import annotations

from typing import Any

from ..infinite_conversation import SEGMENT_STATE_KEY, InfiniteConversationManager
from ..models.session import Session
from ..storage import SessionStore

__all__ = ["conversation_of", "position_text"]


async def conversation_of(store: SessionStore, session: Session[Any]) -> list[Session[Any]]:
    """Every stored segment of the conversation ``session`` belongs to, oldest first; just
    ``[session]`` for a session that was never segmented."""
    if SEGMENT_STATE_KEY not in session.state:
        return [session]
    return await InfiniteConversationManager(store=store).get_segments(session.id)


def position_text(session_id: str, chain_ids: list[str]) -> str:
    """``segment 2 of 3`` (empty for a session that is the whole conversation)."""
    if len(chain_ids) < 2 or session_id not in chain_ids:
        return ""
    return f"segment {chain_ids.index(session_id) + 1} of {len(chain_ids)}"
