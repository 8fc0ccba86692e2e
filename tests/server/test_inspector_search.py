"""The inspector's search page over HTTP (in process): hits with their matches marked and links
to their events, only the signed-in tenant's, escaped text, pages, and a clear message (never a
500) for every bad query."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from server_helpers import KEY_A

from llm_sessions.models import EventSource, Session, SessionEvent
from llm_sessions.server import create_app
from llm_sessions.server.inspector._search import (
    event_href,
    marked_snippet,
    run_search,
    search_page,
)
from llm_sessions.server.tenancy import TenantStore
from llm_sessions.storage import InMemorySessionStore


@pytest.fixture
async def signed_in(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client (no Authorization header) signed in as tenant alpha."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.post(
            "/login",
            content=f"key={KEY_A}&next=%2F",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 303
        yield http


async def put(store: InMemorySessionStore, session_id: str, *texts: str, user: str = "ann") -> Any:
    session: Session[Any] = Session(id=session_id)
    session.metadata.user_id = user
    for text in texts:
        await session.add_event(SessionEvent(message=text, source=EventSource.USER))
    await store.save(session)
    return session


def hits_of(page: str) -> list[tuple[str, str]]:
    """(link, snippet HTML) of each hit on a search page."""
    return re.findall(
        r'<a class="hit-link" href="([^"]*)">.*?<p class="snippet">(.*?)</p></li>', page
    )


async def test_hits_are_marked_and_link_to_their_event(
    signed_in: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    mine = await put(memory_store, "alpha.one", "the refund failed twice", "lunch at noon")
    await put(memory_store, "beta.theirs", "their refund failed too")
    await put(memory_store, "loose", "an untenanted refund")
    response = await signed_in.get("/search", params={"q": "refund failed"})
    assert response.status_code == 200
    event_id = mine.events[0].id
    assert hits_of(response.text) == [
        (
            f"/sessions/alpha.one#event-{event_id}",
            "the <mark>refund</mark> <mark>failed</mark> twice",
        )
    ]
    assert 'name="q" value="refund failed"' in response.text
    assert "Content-Security-Policy" in response.headers


async def test_a_user_filter_and_pages(
    signed_in: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    for n in range(25):
        await put(memory_store, f"alpha.s{n:02d}", f"refund number {n}")
    await put(memory_store, "alpha.bob", "refund for bob", user="bob")
    first = await signed_in.get("/search", params={"q": "refund", "user": "ann"})
    assert len(hits_of(first.text)) == 20
    link = re.search(r'<a href="(/search\?[^"]*)" rel="next">', first.text)
    assert link is not None
    second = await signed_in.get(html.unescape(link.group(1)))
    assert second.status_code == 200 and len(hits_of(second.text)) == 5
    assert 'rel="next"' not in second.text
    links = [href for href, _ in hits_of(first.text) + hits_of(second.text)]
    assert len(set(links)) == 25 and not any("alpha.bob" in href for href in links)


async def test_snippets_and_the_query_are_escaped(
    signed_in: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put(
        memory_store, "alpha.x", "<script>alert(1)</script> refund <img src=x onerror=alert(2)>"
    )
    page = (await signed_in.get("/search", params={"q": "refund"})).text
    [(_, snippet)] = hits_of(page)
    assert "script&gt;alert(1)&lt;/script&gt; <mark>refund</mark> &lt;img src=x" in snippet
    query = '"><script>alert(3)</script> refund'
    page = (await signed_in.get("/search", params={"q": query})).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert 'value="&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt; refund"' in page
    assert "<mark>script</mark>&gt;<mark>alert</mark>(1)" in page
    assert marked_snippet("[<b>] a & [c]") == "<mark>&lt;b&gt;</mark> a &amp; <mark>c</mark>"


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("refund " * 1500, "the limit is 1,000 characters"),
        ("*** () -- :", "has no words to search for"),
    ],
)
async def test_bad_queries_show_a_clear_message(
    signed_in: httpx.AsyncClient, query: str, shown: str
) -> None:
    response = await signed_in.get("/search", params={"q": query})
    assert response.status_code == 422
    problem = re.search(r'<p class="problem" role="alert">([^<]*)</p>', response.text)
    assert problem is not None
    assert problem.group(1).startswith("Cannot search: query=") and shown in problem.group(1)


async def test_a_lone_surrogate_and_a_forged_page_link_are_named(
    signed_in: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    await put(memory_store, "alpha.one", "refund")
    # A lone surrogate's bytes in a URL arrive as U+FFFD: no word, or a word beside one.
    lone = await signed_in.get("/search?q=%ED%A0%80")
    assert lone.status_code == 422 and "has no words to search for" in lone.text
    beside = await signed_in.get("/search?q=refund%ED%A0%80")
    assert beside.status_code == 200 and len(hits_of(beside.text)) == 1
    # Given one all the same (not through a URL), the page names it and still encodes.
    view = TenantStore(memory_store, "alpha")
    outcome = await run_search(view, "refund \ud800", "", None)
    assert outcome.status == 422 and "lone surrogate" in outcome.problem
    shown = search_page(outcome, {"q": "refund \ud800"}, signed_in=True).encode("utf-8")
    assert 'value="refund \ufffd"'.encode() in shown
    forged = await signed_in.get("/search", params={"q": "refund", "after": "forged"})
    assert forged.status_code == 422 and "cursor=&#x27;forged&#x27;" in forged.text


async def test_query_syntax_is_searched_literally(
    signed_in: httpx.AsyncClient, memory_store: InMemorySessionStore
) -> None:
    one = await put(memory_store, "alpha.one", "the refund NEAR the desk")
    for query in ('refund* OR (NEAR "desk', "refund:desk -x", "NEAR(refund desk)", 'desk AND "'):
        response = await signed_in.get("/search", params={"q": query})
        assert response.status_code in (200, 422), query
        if response.status_code == 200:
            assert f"#event-{one.events[0].id}" in response.text, query


async def test_the_page_asks_for_a_key_and_the_sessions_page_links_to_it(
    signed_in: httpx.AsyncClient, app: FastAPI
) -> None:
    empty = await signed_in.get("/search")
    assert empty.status_code == 200 and 'class="problem"' not in empty.text
    sessions = (await signed_in.get("/")).text
    assert 'action="/search"' in sessions and 'href="/search"' in sessions
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as anonymous:
        response = await anonymous.get("/search?q=refund")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fsearch%3Fq%3Drefund"


async def test_a_store_that_cannot_search_says_so() -> None:
    store = InMemorySessionStore(max_scan_events=1)
    await put(store, "plain", "refund one", "refund two")
    app = create_app(store)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.get("/search", params={"q": "refund"})
    assert response.status_code == 422 and "max_scan_events" in html.unescape(response.text)


def test_event_links_quote_the_ids() -> None:
    assert event_href("a b", "c/d") == "/sessions/a%20b#event-c%2Fd"
