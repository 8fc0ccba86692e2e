"""The inspector shows a reply growing as it streams: the system Chromium against a server
process over SQLite, while this process writes the reply as ``ai_stream`` does (appended
incomplete, rewritten in place, then completed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import run, waiting_expect
from server_helpers import server_process

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.storage import open_store

pytestmark = pytest.mark.slow
SESSION = "streaming"
REPLY = "reply-1"


async def _seed(store_url: str) -> None:
    async with open_store(store_url) as store:
        question = SessionEvent(message="Tell me", source=EventSource.USER)
        await store.save(Session(id=SESSION, events=[question]))


async def _write_reply(store_url: str, text: str, *, done: bool) -> None:
    """The reply as a checkpoint (or the end) of a stream leaves it in the store."""
    async with open_store(store_url) as store:
        session = await store.get(SESSION)
        assert session is not None
        found = [event for event in session.events if event.id == REPLY]
        if not found:
            metadata = {"model": "gpt-4o", "streamed": True, "incomplete": True}
            reply = SessionEvent(
                id=REPLY,
                message={"role": "assistant", "content": text},
                source=EventSource.LLM,
                metadata=metadata,
            )
            await session.add_event(reply)
        else:
            found[0].message["content"] = text
            if done:
                del found[0].metadata["incomplete"]
        await store.save(session)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, store URL) of a server without keys over a seeded SQLite file."""
    store_url = f"sqlite:///{tmp_path_factory.mktemp('streaming') / 'live.db'}"
    run(_seed(store_url))
    with server_process(store_url) as base_url:
        yield base_url, store_url


def test_a_streaming_reply_grows_on_the_page_and_loses_its_mark_when_done(
    page: Any, served: tuple[str, str]
) -> None:
    base_url, store_url = served
    expect = waiting_expect()
    page.goto(f"{base_url}/sessions/{SESSION}")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__same_page = true")

    run(_write_reply(store_url, "Once", done=False))
    reply = page.locator(f'#tree li[data-id="{REPLY}"]')
    expect(reply.locator(":scope > .row .label")).to_have_text("Once")
    expect(reply.locator(":scope > .row .status-incomplete")).to_have_text("streaming…")

    run(_write_reply(store_url, "Once upon", done=False))
    expect(reply.locator(":scope > .row .label")).to_have_text("Once upon")

    run(_write_reply(store_url, "Once upon a time.", done=True))
    expect(reply.locator(":scope > .row .label")).to_have_text("Once upon a time.")
    expect(reply.locator(":scope > .row .status-incomplete")).to_have_count(0)
    expect(page.locator("#tree li.node")).to_have_count(2)
    assert page.evaluate("window.__same_page") is True
    assert page.failed == []
