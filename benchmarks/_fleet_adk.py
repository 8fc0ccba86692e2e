"""google-adk's ``DatabaseSessionService`` on a SQLite file, filled with bench_fleet's sessions
(the same ids, users, times and 10 events each, with the same token usage), and the time of
its ``list_sessions`` for one user beside ours (``find_sessions`` for the user, every page).

ADK lists a user's sessions whole (no page, no order); ours is timed both as one page of 50 and
as every page of the user's sessions (pages of 1,000), so like is compared with like.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from _common import median_ms

from llm_sessions.storage import SessionStore

APP = "bench"


def _events(n: int, model: str, moment: float) -> list[Any]:
    from google.adk.events import Event
    from google.genai import types

    events = []
    for turn in range(5):
        ask = types.Content(role="user", parts=[types.Part(text=f"q{turn}")])
        events.append(Event(author="user", invocation_id=f"i{n}", content=ask, timestamp=moment))
        usage = types.GenerateContentResponseUsageMetadata(
            prompt_token_count=20 + turn, candidates_token_count=10, total_token_count=30 + turn
        )
        reply = types.Content(role="model", parts=[types.Part(text=f"a{turn}")])
        events.append(
            Event(
                author="model",
                invocation_id=f"i{n}",
                content=reply,
                usage_metadata=usage,
                model_version=model,
                timestamp=moment,
            )
        )
    return events


async def fill_adk(path: Path, count: int, models: tuple[str, ...], start: float) -> Any:
    """ADK's service on ``path`` with ``count`` sessions: (service, engine, seconds)."""
    from google.adk.sessions import DatabaseSessionService
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")

    def unsynced(connection: Any, _: Any) -> None:  # filled as ours is: synchronous=off
        connection.execute("PRAGMA synchronous=OFF")

    event.listen(engine.sync_engine, "connect", unsynced)
    service = DatabaseSessionService(db_engine=engine)
    began = time.perf_counter()
    for n in range(count):
        session = await service.create_session(
            app_name=APP, user_id=f"user-{n % 100}", session_id=f"s{n:08d}"
        )
        for one in _events(n, models[n % len(models)], start + 60 * n):
            await service.append_event(session, one)
    return service, engine, time.perf_counter() - began


async def adk_rows(
    store: SessionStore, count: int, repeat: int, models: tuple[str, ...], start: float
) -> list[list[Any]]:
    """Rows of the one-user comparison: ADK's ``list_sessions`` and ours, on SQLite files."""
    import tempfile

    user = "user-7"

    async def every_page() -> int:
        found, cursor = 0, None
        while True:
            page = await store.find_sessions(where={"user_id": user}, limit=1000, cursor=cursor)
            found += len(page.items)
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    with tempfile.TemporaryDirectory() as folder:
        service, engine, seconds = await fill_adk(Path(folder) / "adk.db", count, models, start)
        try:
            listed = await service.list_sessions(app_name=APP, user_id=user)
            theirs = await median_ms(
                lambda: service.list_sessions(app_name=APP, user_id=user), repeat
            )
        finally:
            await service.close()
            await engine.dispose()
    page = await store.find_sessions(where={"user_id": user}, limit=50)
    ours_page = await median_ms(
        lambda: store.find_sessions(where={"user_id": user}, limit=50), repeat
    )
    ours_all = await median_ms(every_page, repeat)
    sessions, everything = len(listed.sessions), await every_page()
    return [
        ["google-adk DatabaseSessionService.list_sessions", count, seconds, sessions, theirs],
        ["llm-sessions SQLite find_sessions, every page", count, None, everything, ours_all],
        ["llm-sessions SQLite find_sessions, one page", count, None, len(page.items), ours_page],
    ]
