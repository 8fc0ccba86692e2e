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
from llm_sessions.server.inspector.listing import PAGE_SIZE, SessionFilter, list_page
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

    page = await list_page(TenantStore(store, None), SessionFilter())

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
        return [row.id for row in (await list_page(view, found)).rows]

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


async def test_a_column_no_row_of_the_page_fills_is_left_out() -> None:
    store = InMemorySessionStore()
    await put(store, "a1", 0, "alice")
    await store.save(Session(id="n1", metadata=SessionMetadata(created_at=DAY, updated_at=DAY)))
    app: FastAPI = create_app(store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        bare = (await http.get("/", params={"prefix": "n"})).text
        with_user = (await http.get("/")).text

    for gone in ("col-user", "col-properties", 'class="user"', 'class="properties"'):
        assert gone not in bare, gone
    assert '<th class="col-models">' in bare and '<td class="models">' in bare
    assert '<th class="col-user">' in with_user and '<td class="user"></td>' in with_user
    assert "col-properties" not in with_user
    await store.close()


async def _walk(view: TenantStore, order: str) -> tuple[list[list[str]], list[list[str]]]:
    """Every page forward (by ``after``), then every page back again (by ``before``)."""
    forward: list[list[str]] = []
    page = await list_page(view, SessionFilter(), order)
    forward.append([row.id for row in page.rows])
    while page.next_cursor is not None:
        page = await list_page(view, SessionFilter(), order, after=page.next_cursor)
        forward.append([row.id for row in page.rows])
    backward = [forward[-1]]
    while page.previous_cursor is not None:
        page = await list_page(view, SessionFilter(), order, before=page.previous_cursor)
        backward.append([row.id for row in page.rows])
    return forward, backward[::-1]


@pytest.mark.parametrize("order", ["-updated_at", "created_at", "-cost", "tokens"])
async def test_every_order_pages_each_chain_once_both_ways(order: str) -> None:
    store = InMemorySessionStore()
    chains = [await chat(store, user) for user in ("dana", "erin")]
    for n in range(PAGE_SIZE + 5):
        await put(store, f"single-{n:03d}", n, f"user-{n % 3}", n=n)
        session = await store.get(f"single-{n:03d}")
        assert session is not None
        usage = {"prompt_tokens": 10 * n + 1, "completion_tokens": 0}
        await SessionManager(session.id, store=store).ai_responds("a", usage=usage)
    view = TenantStore(store, None)

    forward, backward = await _walk(view, order)

    listed = [one for page in forward for one in page]
    assert len(listed) == len(set(listed)) == PAGE_SIZE + 5 + len(chains)
    for manager in chains:
        assert len(set(await manager.get_session_chain()) & set(listed)) == 1
    assert [len(page) for page in forward] == [PAGE_SIZE, 5 + len(chains)]
    assert backward == forward
    rows = [row for page in [await list_page(view, SessionFilter(), order)] for row in page.rows]
    singles = [row for row in rows if not row.segments]
    key = {"updated_at": "updated", "created_at": "created", "cost": "priced_cost_usd"}
    values = [getattr(row, key.get(order.lstrip("-"), "tokens")) for row in singles]
    assert values == sorted(values, reverse=order.startswith("-"))


async def test_a_least_cost_keeps_the_dearer_rows_and_bad_ones_are_named() -> None:
    store = InMemorySessionStore()
    for n in range(4):
        await put(store, f"s{n}", n, "alice")
        usage = {"prompt_tokens": 1000 * (n + 1), "completion_tokens": 0}
        await SessionManager(f"s{n}", store=store).ai_responds("a", usage=usage, model="gpt-4o")
    view = TenantStore(store, None)
    costs = {row.id: row.total_cost_usd for row in (await store.find_sessions()).items}

    found = SessionFilter.parse("", "", "", "", min_cost=str(costs["s2"]))
    page = await list_page(view, found, "cost")

    assert [row.id for row in page.rows] == ["s2", "s3"]
    for bad in ("-1", "lots", "nan"):
        with pytest.raises(InvalidInputError) as caught:
            SessionFilter.parse("", "", "", "", min_cost=bad)
        assert caught.value.field == "min_cost"
    with pytest.raises(InvalidInputError) as caught:
        await list_page(view, SessionFilter(), "-cost", after=page.next_cursor or "junk")
    assert caught.value.field == "after"
