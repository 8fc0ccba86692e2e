"""The segments of an infinite conversation, as the commands that show or delete one see it."""

from __future__ import annotations

from ..interop import conversation_of

__all__ = ["conversation_of", "position_text"]


def position_text(session_id: str, chain_ids: list[str]) -> str:
    """``segment 2 of 3`` (empty for a session that is the whole conversation)."""
    if len(chain_ids) < 2 or session_id not in chain_ids:
        return ""
    return f"segment {chain_ids.index(session_id) + 1} of {len(chain_ids)}"
