"""Helpers of the command-line tests: sessions put in a store through the library, and a
runner that can pretend the terminal is N columns wide."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from typer.testing import CliRunner, Result

from llm_sessions.cli.main import app
from llm_sessions.models.event_source import EventSource
from llm_sessions.models.session import Session
from llm_sessions.models.session_event import SessionEvent
from llm_sessions.storage import SessionStore, open_store

_T = TypeVar("_T")


class OnStore(Protocol):
    """The ``on_store`` fixture: what ``work(store)`` returns, the test's store opened before
    and closed after."""

    def __call__(self, work: Callable[[SessionStore], Awaitable[_T]]) -> _T: ...


def invoke(*args: str, columns: int = 100, input: str | None = None) -> Result:
    """Run the command in-process, as on a terminal ``columns`` wide."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)}, input=input)


def put_sessions(store_url: str, replies: dict[str, str]) -> None:
    """Store one session per ``{id: model}``, in that order, each with a user message and a
    reply from that model (so the last one is the most recently updated)."""

    async def main() -> None:
        store = open_store(store_url)
        try:
            for session_id, model in replies.items():
                session: Session[str] = await Session.create(store=store, id=session_id)
                for message, source in (
                    ("hello there", EventSource.USER),
                    ("hi! how can I help?", EventSource.LLM),
                ):
                    event = await SessionEvent.create_with_tokens(
                        message=message, prompt=message, model=model, source=source
                    )
                    await session.add_event_and_save(event)
        finally:
            await store.close()

    asyncio.run(main())
