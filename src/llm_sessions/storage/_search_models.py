"""What ``search`` returns: a page of hits, each an event that matched."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["SearchHit", "SearchPage"]


class SearchHit(BaseModel):
    """One event that matched a search.

    ``score`` is larger for a better match (BM25, or the store's equivalent); scores compare
    within one search, not across searches or stores. ``snippet`` is a short stretch of the
    event's text with each matched term in square brackets, like ``the [refund] [failed]``.
    """

    session_id: str
    event_id: str
    event_type: str
    created_at: datetime
    user_id: str | None = None
    score: float
    snippet: str


class SearchPage(BaseModel):
    """One page of ``search``: the hits, best first, and the cursor of the next page (None
    on the last page)."""

    items: list[SearchHit] = Field(default_factory=list)
    next_cursor: str | None = None
