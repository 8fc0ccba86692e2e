"""The inspector's sessions page reads summaries only: no session or event is read, a chain of
segments is one row totalled over the chain, and users and properties filter the rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from llm_sessions import SessionManager
from llm_sessions.exceptions import InvalidInputError
from llm_sessions.models import Session, SessionMetadata
from llm_sessions.server import create_app
from llm_sessions.server.inspector.listing import SessionFilter, list_page
from llm_sessions.server.tenancy import TenantStore
from llm_sessions.storage import InMemorySessionStore

DAY = datetime(2026, 12, 1, tzinfo=UTC)


class CountingStore(InMemorySessionStore):
    """A memory store that counts whole loads and event reads."""

    reads = 0

    async def get(self, session_id: str) -> Session[Any] | None:
        self.reads += 1
        return await super().get(session_id)

    async def read_events(self, session_id: str, **page: Any) -> Any:
        self.reads += 1
        return await super().read_events(session_id, **page)


async def put(
    store: InMemorySessionStore, session_id: str, hours: int, user: str, **props: Any
) -> None:
    moment = DAY + timedelta(hours=hours)
    metadata = SessionMetadata(created_at=moment, updated_at=moment, user_id=user)
    session: Session[Any] = Session(id=session_id, metadata=metadata)
    session.metadata.properties = props
    await store.save(session)


async def chat(store: InMemorySessionStore, user: str) -> SessionManager:
    """A conversation of several segments (3 turns, 1 per segment)."""
    manager = SessionManager(
        store=store, infinite_context=True, max_turns_per_segment=1, user_id=user
    )
    for n in range(3):
        await manager.user_says(f"question {n}")
        await manager.ai_responds(
            f"answer {n}", model="gpt-4o", usage={"prompt_tokens": 10, "completion_tokens": 5}
        )
    return manager


async def test_a_page_reads_no_session_and_folds_a_chain_into_one_row() -> None:
    store = CountingStore()
    manager = await chat(store, "dana")
    await put(store, "plain", 0, "erin", team="red")
    rows = (await store.find_sessions(where={"user_id": "dana"})).items
    segments = [row.id for row in rows]
    store.reads = 0

    page = await list_page(TenantStore(store, None), SessionFilter(), 1)

    assert store.reads == 0
    assert len(segments) >= 2
    assert [row.id for row in page.rows] == [manager.session_id, "plain"]
    chain = page.rows[0]
    assert sorted(chain.segments) == sorted(segments)
    assert chain.tokens == sum(row.total_tokens for row in rows) > 0
    assert chain.user_id == "dana" and page.rows[1].properties == (("team", "red"),)


async def test_users_and_properties_filter_the_rows() -> None:
    store = InMemorySessionStore()
    await put(store, "a1", 0, "alice", team="red", tier=2)
    await put(store, "a2", 1, "alice", team="blue", tier=1)
    await put(store, "b1", 2, "bob", team="red", tier=2)
    view = TenantStore(store, None)

    async def listed(**wanted: str) -> list[str]:
        found = SessionFilter.parse("", "", "", "", **wanted)
        return [row.id for row in (await list_page(view, found, 1)).rows]

    assert await listed(user="alice") == ["a2", "a1"]
    assert await listed(prop="team=red") == ["b1", "a1"]
    assert await listed(prop="tier=2", user="alice") == ["a1"]
    with pytest.raises(InvalidInputError) as caught:
        SessionFilter.parse("", "", "", "", prop="team")
    assert caught.value.field == "property"


async def test_the_page_shows_users_and_takes_the_filters_in_its_form() -> None:
    store = InMemorySessionStore()
    await put(store, "a1", 0, "alice", team="red")
    await put(store, "b1", 1, "bob", team="blue")
    app: FastAPI = create_app(store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = (await http.get("/", params={"user": "bob"})).text
        bad = await http.get("/", params={"property": "nokey"})

    assert re.findall(r'<td class="id"><a href="[^"]*">([^<]*)</a>', page) == ["b1"]
    assert '<td class="user">bob</td>' in page and 'name="property"' in page
    assert bad.status_code == 422 and "property" in bad.text
    await store.close()
