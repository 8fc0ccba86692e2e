"""Many sessions for the inspector's fleet tests, written the way ``bench_fleet.py`` fills a
store (whole sessions saved many at a time on one SQLite file): users, teams, models and days
follow from each session's number, so a test knows what every page and total must show."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from llm_sessions.models import EventSource, Session, SessionEvent, TokenUsage
from llm_sessions.storage import SessionStore

MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "o3-mini")
TEAMS = ("red", "blue", "green", "gold")
USERS = 20
START = datetime(2026, 11, 1, tzinfo=UTC)
MINUTES_APART = 7
"""2,000 sessions span about ten days."""


def fleet_session(n: int) -> Session[Any]:
    """The n-th session: 4 events, its user, team, tier, model and time follow from n."""
    session: Session[Any] = Session(id=f"fleet-{n:06d}")
    session.metadata.user_id = f"user-{n % USERS:02d}"
    session.metadata.properties = {"team": TEAMS[n % len(TEAMS)], "tier": n % 3}
    model = MODELS[n % len(MODELS)]
    for turn in range(2):
        session.events.append(SessionEvent(message=f"q{turn}", source=EventSource.USER))
        usage = TokenUsage(prompt_tokens=20 + n % 50, completion_tokens=10 + turn, model=model)
        session.events.append(
            SessionEvent(message=f"a{turn}", source=EventSource.LLM, token_usage=usage)
        )
    moment = START + timedelta(minutes=MINUTES_APART * n)
    session.metadata.created_at = session.metadata.updated_at = moment
    return session


async def fill(store: SessionStore, count: int, concurrency: int = 64) -> None:
    """Save ``count`` fleet sessions, ``concurrency`` at a time."""
    for start in range(0, count, concurrency):
        batch = [fleet_session(n) for n in range(start, min(count, start + concurrency))]
        await asyncio.gather(*(store.save(session) for session in batch))
